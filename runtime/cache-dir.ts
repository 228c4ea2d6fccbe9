// Where Islet keeps what it can compute again: this package's node_modules/.cache/islet, beside Node's compile
// cache (runtime/cli/bin.js). Every entry in it is named by a hash of everything it was made from, so a change is a
// miss, never a stale hit; the folder can be deleted at any time, and a read-only install simply runs without it.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's root folder. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CACHE_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'islet')

const temporaryOf = (file: string) => `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`

/**
 * Writes `file` (under CACHE_DIR) whole or not at all: a temporary file renamed, so a concurrent reader (another
 * `islet` call, a test worker) finds the whole file or none. Best effort: a failure only means no cache entry.
 */
export async function storeCached(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporaryOf(file)
  await mkdir(dirname(file), { recursive: true }).then(() => writeFile(temporary, data)).then(() => rename(temporary, file))
    .catch(() => rm(temporary, { force: true }))
}

/** storeCached, for callers that cannot wait (config validation is synchronous). */
export function storeCachedSync(file: string, data: string | Uint8Array): void {
  const temporary = temporaryOf(file)
  try {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(temporary, data)
    renameSync(temporary, file)
  } catch {
    rmSync(temporary, { force: true })
  }
}
