// The checks every load makes, failing closed: the bytes hash to the locked integrity, the lock-pinned key signed
// `name@version:integrity`, and the extracted folder holds exactly the tarball's files. Each error says what differed
// and how to fix it (re-fetch or re-lock); none suggests skipping verification.
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { RegistryError } from '../errors.ts'
import { integrityOf } from '../integrity.ts'
import { keyIdOf, verifyVersion } from '../signature.ts'
import type { LockedKey, LockedPlugin } from './lock.ts'

/** Where bytes came from, for the fix in the message: a file (vendored with the app, or cached), or the registry. */
export type Origin = { file: string; vendored?: boolean } | { registry: string }

export function verifyIntegrity(name: string, entry: LockedPlugin, bytes: Uint8Array, origin: Origin): void {
  const actual = integrityOf(bytes)
  if (actual === entry.integrity) return
  // A vendored tarball ships with the app (committed beside islet.lock): deleting it would leave a fresh clone with
  // nothing to load offline, so the fix is to restore it, or to copy a verified one again.
  const fix = 'file' in origin
    ? origin.vendored
      ? `restore ${origin.file} from version control (it ships with the app), or run \`islet plugin vendor\` to copy a verified one over it from the cache or ${entry.registry}`
      : `delete ${origin.file} to fetch it again from ${entry.registry}`
    : `a registry never changes a published version's bytes, so either it was tampered with or the lock was: check ${entry.registry}, then re-lock with \`islet plugin upgrade ${name}\``
  throw new RegistryError('ERR_REGISTRY_INTEGRITY',
    `the tarball of ${name}@${entry.version} from ${'file' in origin ? origin.file : origin.registry} hashes to ${actual}, but islet.lock pins ${entry.integrity}: refused; ${fix}`,
    { details: { name, version: entry.version, expected: entry.integrity, actual, ...origin } })
}

/** The lock entry's signature, checked with the key the lock pins under its id (and whose hash is that id). */
export function verifySignature(name: string, entry: LockedPlugin, keys: Readonly<Record<string, LockedKey>>): void {
  const relock = `re-lock with \`islet plugin upgrade ${name}\` to take the registry's current signature and key`
  const refuse = (reason: 'missing' | 'unknown-key' | 'bad-key' | 'bad-signature', what: string) => {
    throw new RegistryError('ERR_REGISTRY_SIGNATURE', `${name}@${entry.version}: ${what}: refused; ${relock}`,
      { details: { name, version: entry.version, keyid: entry.keyid, reason } })
  }
  if (!entry.sig || !entry.keyid) refuse('missing', 'islet.lock records no signature for it')
  // Own keys only: a key id such as `toString` must not find Object.prototype's.
  const pinned = Object.hasOwn(keys, entry.keyid) ? keys[entry.keyid] : undefined
  if (!pinned || typeof pinned.key !== 'string') refuse('unknown-key', `it is signed with key ${entry.keyid}, which islet.lock does not pin under "keys"`)
  const actualId = keyIdOf(pinned!.key)
  if (actualId !== entry.keyid) refuse('bad-key', `the key pinned as ${entry.keyid} hashes to ${actualId}: the lock's keys were edited`)
  if (!verifyVersion(pinned!.key, name, entry.version, entry.integrity, entry.sig)) {
    refuse('bad-signature', `the signature does not verify with key ${entry.keyid} over ${name}@${entry.version}:${entry.integrity}`)
  }
}

export interface FolderDifference {
  changed: string[]
  added: string[]
  missing: string[]
}

/** How `dir` differs from `files` (package-relative paths); empty lists when it holds exactly them. */
export function compareFolder(dir: string, files: ReadonlyMap<string, Buffer>): FolderDifference {
  const found = new Set<string>()
  // A link (or fifo, socket…) is never what extraction wrote: it counts as changed without being followed, so a
  // link to an identical copy elsewhere, which could change after this check, is refused too.
  const notFiles = new Set<string>()
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        const name = relative(dir, path).split('\\').join('/')
        found.add(name)
        if (!entry.isFile()) notFiles.add(name)
      }
    }
  }
  walk(dir)
  const difference: FolderDifference = { changed: [], added: [], missing: [] }
  for (const [path, bytes] of files) {
    if (!found.has(path)) difference.missing.push(path)
    else if (notFiles.has(path) || !readFileSync(join(dir, path)).equals(bytes)) difference.changed.push(path)
  }
  for (const path of found) if (!files.has(path)) difference.added.push(path)
  for (const list of Object.values(difference)) list.sort()
  return difference
}

/** Refuses a folder that differs from its verified tarball, naming every file that differs. */
export function assertFolderMatches(name: string, version: string, dir: string, files: ReadonlyMap<string, Buffer>): void {
  const stat = lstatSync(dir)
  if (!stat.isDirectory()) {
    throw new RegistryError('ERR_REGISTRY_TAMPERED',
      `the extracted folder of ${name}@${version} (${dir}) is ${stat.isSymbolicLink() ? 'a link' : 'not a folder'}, not what extraction wrote: refused; delete ${dir} and it is extracted again from the tarball`,
      { details: { name, version, dir } })
  }
  const difference = compareFolder(dir, files)
  const parts = [
    ...difference.changed.map((p) => `changed: ${p}`),
    ...difference.added.map((p) => `added: ${p}`),
    ...difference.missing.map((p) => `missing: ${p}`),
  ]
  if (parts.length === 0) return
  throw new RegistryError('ERR_REGISTRY_TAMPERED',
    `the extracted folder of ${name}@${version} (${dir}) differs from its verified tarball (${parts.join(', ')}): refused; delete ${dir} and it is extracted again from the tarball`,
    { details: { name, version, dir, ...difference } })
}
