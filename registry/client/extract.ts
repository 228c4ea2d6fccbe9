// Writing a verified tarball's files to disk. The reader already refused absolute paths, `..`, links and devices;
// what is left are layouts that extract differently on different file systems (a path that is both a file and a
// folder, two names that differ only in case on macOS or Windows, control characters): refused, so the folder is
// always exactly the tarball's, wherever it runs.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { RegistryError } from '../errors.ts'

/** Refuses a set of package-relative paths that could not be extracted to one unambiguous folder. */
export function assertExtractable(name: string, version: string, files: ReadonlyMap<string, Buffer>): void {
  const problem = layoutProblem([...files.keys()])
  if (problem) {
    throw new RegistryError('ERR_REGISTRY_TARBALL_UNSAFE', `the tarball of ${name}@${version} is refused: ${problem}`,
      { details: { name, version } })
  }
}

function layoutProblem(paths: readonly string[]): string | undefined {
  const fold = (path: string) => path.normalize('NFC').toLowerCase()
  const folders = new Map<string, string>() // folded → as written
  for (const path of paths) {
    if (/[\u0000-\u001f\u007f]/.test(path)) return `${JSON.stringify(path)} holds a control character`
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/')
      const known = folders.get(fold(folder))
      if (known === undefined) folders.set(fold(folder), folder)
      else if (known !== folder) return `${JSON.stringify(known)} and ${JSON.stringify(folder)} differ only in case`
    }
  }
  const seen = new Map<string, string>()
  for (const path of paths) {
    const folder = folders.get(fold(path))
    if (folder !== undefined) return `${JSON.stringify(path)} is both a file and a folder${folder === path ? '' : ` (${JSON.stringify(folder)})`}`
    const known = seen.get(fold(path))
    if (known !== undefined) return `${JSON.stringify(known)} and ${JSON.stringify(path)} differ only in case`
    seen.set(fold(path), path)
  }
  return undefined
}

/** Writes `files` under a temporary sibling and renames it into place: a crash never leaves a half folder at `dir`. */
export function extract(dir: string, files: ReadonlyMap<string, Buffer>): void {
  const temporary = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    for (const [path, bytes] of files) {
      mkdirSync(dirname(join(temporary, path)), { recursive: true })
      writeFileSync(join(temporary, path), bytes, { flag: 'wx' })
    }
    mkdirSync(temporary, { recursive: true })
    renameSync(temporary, dir)
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true })
    // Another process extracted the same version first: its folder is checked like ours would be.
    if (!existsSync(dir)) throw error
  }
}
