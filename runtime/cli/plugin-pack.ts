// `islet plugin pack [dir]`: the package's tarball (deterministic: the same files give the same bytes), written to
// --out, and what is in it: name@version, integrity, shasum, the files.
import { statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { packFolder, type PackResult } from '../../registry/pack.ts'
import { IsletError, messageOf } from '../errors.ts'
import type { ParsedOptions } from './options.ts'

export default async function pluginPack({ values, positionals }: ParsedOptions): Promise<number> {
  const pack = await packFolder(resolve(positionals[0] ?? '.'))
  const file = outFile(values.out as string | undefined, pack)
  if (file) {
    try { writeFileSync(file, pack.tarball) } catch (error) {
      throw new IsletError('ERR_CLI_OUTPUT', `cannot write ${file}: ${messageOf(error)}`)
    }
  }
  if (values.format === 'json') {
    const { name, version } = pack.packageJson
    console.log(JSON.stringify({ name, version, filename: pack.filename, file: file ?? null, integrity: pack.integrity, shasum: pack.shasum, size: pack.tarball.length, files: pack.files }, null, 2))
  } else {
    console.log(describePack(pack))
    if (file) console.log(`wrote ${relative(process.cwd(), file) || file}`)
  }
  return 0
}

/** Where --out puts the tarball: into a folder under npm's file name, or as the file named; none for --out -. */
function outFile(out: string | undefined, pack: PackResult): string | undefined {
  if (out === '-') return undefined
  const target = resolve(out ?? '.')
  let isDir = false
  try { isDir = statSync(target).isDirectory() } catch { /* a file to create */ }
  return isDir ? join(target, pack.filename) : target
}

/** The text `islet plugin pack` and `publish` print about a tarball. */
export function describePack(pack: PackResult): string {
  const { name, version } = pack.packageJson
  const width = Math.max(...pack.files.map((f) => size(f.size).length))
  return [
    `${name}@${version}`,
    `integrity: ${pack.integrity}`,
    `shasum:    ${pack.shasum}`,
    `size:      ${size(pack.tarball.length)} (${pack.files.length} file${pack.files.length === 1 ? '' : 's'}, ${size(pack.files.reduce((n, f) => n + f.size, 0))} unpacked)`,
    ...pack.files.map((f) => `  ${size(f.size).padStart(width)}  ${f.path}`),
  ].join('\n')
}

function size(bytes: number): string {
  return bytes < 1000 ? `${bytes} B` : bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`
}

