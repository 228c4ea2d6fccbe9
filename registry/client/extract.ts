// Writing a verified tarball's files to disk. The reader (registry/tarball/read.ts) already refused absolute paths,
// `..`, links, devices and every layout that extracts differently on another file system (a path that is both a file
// and a folder, names equal up to case, control characters), so the folder is always exactly the tarball's.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'

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
