// Tarballs, content-addressed by integrity (`sha512-<hex>.tgz`), looked up in order: the app's `islet-vendor/`
// (shipped with the app, so a fresh clone runs offline), the data dir's cache, then the registry the lock names.
// Bytes from the registry are checked against the lock before they are cached; every other hit is checked by the
// caller on every load, since a file on disk may have changed since it was written.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { RegistryError } from '../errors.ts'
import { integrityFileName } from '../integrity.ts'
import type { LockedPlugin } from './lock.ts'
import type { RegistrySource } from './source.ts'
import { verifyIntegrity, type Origin } from './verify.ts'

export const VENDOR_DIR = 'islet-vendor'

export function tarballFileName(integrity: string): string {
  return `${integrityFileName(integrity)}.tgz`
}

export function cacheDir(dataDir: string): string {
  return join(dataDir, 'plugins', 'tarballs')
}

export interface FoundTarball {
  bytes: Uint8Array
  from: 'vendor' | 'cache' | 'registry'
  origin: Origin
}

export interface FindOptions {
  appDir: string
  dataDir: string
  /** The registry the lock names; only asked when neither folder holds the tarball. */
  source: () => RegistrySource
}

export async function findTarball(name: string, entry: LockedPlugin, options: FindOptions): Promise<FoundTarball> {
  const fileName = tarballFileName(entry.integrity)
  const vendored = join(options.appDir, VENDOR_DIR, fileName)
  if (existsSync(vendored)) return { bytes: readRegularFile(vendored), from: 'vendor', origin: { file: vendored, vendored: true } }
  const cached = join(cacheDir(options.dataDir), fileName)
  if (existsSync(cached)) return { bytes: readRegularFile(cached), from: 'cache', origin: { file: cached } }
  const source = options.source()
  const bytes = await source.tarball(name, entry.version)
  verifyIntegrity(name, entry, bytes, { registry: source.id })
  writeAtomically(cached, bytes)
  return { bytes, from: 'registry', origin: { registry: source.id } }
}

/**
 * The bytes of a tarball file, which must be a regular file (a link to one is fine: the bytes are verified): a fifo
 * or a device planted under the tarball's name would block the engine or feed it without end.
 */
function readRegularFile(file: string): Buffer {
  if (!statSync(file).isFile()) {
    throw new RegistryError('ERR_REGISTRY_TARBALL_UNSAFE', `${file} is not a regular file (a fifo, device or folder under a tarball's name): refused; delete it`,
      { details: { file } })
  }
  return readFileSync(file)
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  mkdirSync(join(file, '..'), { recursive: true })
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeFileSync(temporary, bytes)
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}
