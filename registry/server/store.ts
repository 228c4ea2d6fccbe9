// The registry's storage: one SQLite file (better-sqlite3, WAL) for packages, versions, dist-tags and the audit log,
// and a folder of content-addressed tarballs (`tarballs/sha512-<hex>.tgz`, written to a temporary name and renamed,
// so a reader never sees half a file). The server and the embedded registry (opened in-process by the client and the
// CLI) use the same store, so what one publishes the other serves.
import Database from 'better-sqlite3'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { integrityFileName, integrityOf, shasumOf } from '../integrity.ts'
import { loadOrCreateSigningKey, type SigningKey, type VersionSignature } from '../signature.ts'

export interface PackageRow {
  name: string
  owner: string
  created: string
  modified: string
  /** Bumped by every change to the package, for npm's `_rev` (CouchDB-style revisions). */
  rev: number
}

export interface VersionRow {
  name: string
  version: string
  /** The package.json derived from the tarball (never from the request), plus `_id` and `_npmUser`. */
  manifest: Record<string, unknown>
  integrity: string
  shasum: string
  /** File name under `tarballs/`. */
  tarball: string
  size: number
  fileCount: number
  unpackedSize: number
  published_at: string
  published_by: string
  deprecated: string | null
  yanked: string | null
  unpublished_at: string | null
  signatures: VersionSignature[]
}

export interface AuditEntry {
  actor: string
  action: string
  name?: string | null
  version?: string | null
  integrity?: string | null
  detail?: Record<string, unknown>
}

export interface AuditRow {
  id: number
  at: string
  actor: string
  action: string
  name: string | null
  version: string | null
  integrity: string | null
  detail: Record<string, unknown> | null
}

export interface RegistryStore {
  readonly dir: string
  /** Shared with the auth module (users, tokens) and the search and dist-tag routes, which read these tables. */
  readonly db: Database.Database
  readonly signingKey: SigningKey
  now(): Date
  package(name: string): PackageRow | undefined
  /** Every version of the package, unpublished ones included, oldest first. */
  versions(name: string): VersionRow[]
  version(name: string, version: string): VersionRow | undefined
  distTags(name: string): Record<string, string>
  /** The npm `_rev` of a package: `<n>-<hash>`. */
  revOf(row: PackageRow): string
  /** Stores tarball bytes under their digest (a no-op when present) and returns their file name and digests. */
  writeTarball(bytes: Uint8Array): { file: string; integrity: string; shasum: string }
  /** The bytes stored for `file`, checked against `integrity` (a changed file on disk is never served). */
  readTarball(file: string, integrity: string): Buffer | undefined
  /** Runs `fn` in one SQLite transaction (writes and their audit rows commit together). */
  transaction<T>(fn: () => T): T
  /** Marks the package changed: bumps its rev and modified time. */
  touch(name: string): void
  audit(entry: AuditEntry): void
  auditRows(name?: string): AuditRow[]
  close(): void
}

export interface StoreOptions {
  /** The clock (tests inject one to move past the unpublish window). */
  now?: () => Date
}

/** Creates the store's tables where they are missing (the auth's CLI calls may open a registry folder first). */
export function createStoreTables(db: Database.Database): void {
  db.exec(SCHEMA)
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS packages (
  name TEXT PRIMARY KEY, owner TEXT NOT NULL, created TEXT NOT NULL, modified TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS versions (
  name TEXT NOT NULL, version TEXT NOT NULL, manifest TEXT NOT NULL, integrity TEXT NOT NULL, shasum TEXT NOT NULL,
  tarball TEXT NOT NULL, size INTEGER NOT NULL, file_count INTEGER NOT NULL, unpacked_size INTEGER NOT NULL,
  published_at TEXT NOT NULL, published_by TEXT NOT NULL, deprecated TEXT, yanked TEXT, unpublished_at TEXT,
  signatures TEXT NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS dist_tags (name TEXT NOT NULL, tag TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (name, tag));
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  name TEXT, version TEXT, integrity TEXT, detail TEXT);
`

const TARBALL_CACHE_BYTES = 64 * 1024 * 1024

interface RawVersion extends Omit<VersionRow, 'manifest' | 'signatures' | 'fileCount' | 'unpackedSize'> {
  manifest: string
  signatures: string
  file_count: number
  unpacked_size: number
}

export function openStore(dir: string, options: StoreOptions = {}): RegistryStore {
  mkdirSync(join(dir, 'tarballs'), { recursive: true })
  const db = new Database(join(dir, 'registry.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  createStoreTables(db)
  const signingKey = loadOrCreateSigningKey(join(dir, 'keys', 'signing-key.pem'))
  const now = options.now ?? (() => new Date())
  const statements = {
    package: db.prepare<[string], PackageRow>('SELECT name, owner, created, modified, rev FROM packages WHERE name = ?'),
    versions: db.prepare<[string], RawVersion>('SELECT * FROM versions WHERE name = ? ORDER BY published_at, rowid'),
    version: db.prepare<[string, string], RawVersion>('SELECT * FROM versions WHERE name = ? AND version = ?'),
    distTags: db.prepare<[string], { tag: string; version: string }>('SELECT tag, version FROM dist_tags WHERE name = ? ORDER BY tag'),
    touch: db.prepare('UPDATE packages SET rev = rev + 1, modified = ? WHERE name = ?'),
    audit: db.prepare('INSERT INTO audit (at, actor, action, name, version, integrity, detail) VALUES (?, ?, ?, ?, ?, ?, ?)'),
  }
  const tarballPath = (file: string): string => join(dir, 'tarballs', file)
  // Tarballs already read and verified: content-addressed, so an entry never goes stale. Bounded by bytes, oldest out.
  const verified = new Map<string, Buffer>()
  let verifiedBytes = 0
  const remember = (file: string, bytes: Buffer): void => {
    if (bytes.length > TARBALL_CACHE_BYTES / 8) return
    verified.set(file, bytes)
    verifiedBytes += bytes.length
    for (const [oldest, old] of verified) {
      if (verifiedBytes <= TARBALL_CACHE_BYTES) break
      verified.delete(oldest)
      verifiedBytes -= old.length
    }
  }
  return {
    dir,
    db,
    signingKey,
    now,
    package: (name) => statements.package.get(name),
    versions: (name) => statements.versions.all(name).map(parseVersion),
    version: (name, version) => {
      const row = statements.version.get(name, version)
      return row && parseVersion(row)
    },
    distTags: (name) => Object.fromEntries(statements.distTags.all(name).map((r) => [r.tag, r.version])),
    revOf: (row) => `${row.rev}-${createHash('sha256').update(`${row.name}\0${row.rev}\0${row.modified}`).digest('hex').slice(0, 32)}`,
    writeTarball(bytes) {
      const integrity = integrityOf(bytes)
      const file = `${integrityFileName(integrity)}.tgz`
      const path = tarballPath(file)
      if (!existsSync(path)) {
        const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
        writeFileSync(temporary, bytes)
        renameSync(temporary, path)
      }
      return { file, integrity, shasum: shasumOf(bytes) }
    },
    readTarball(file, integrity) {
      const cached = verified.get(file)
      if (cached) return cached
      const path = tarballPath(file)
      if (!existsSync(path)) return undefined
      const bytes = readFileSync(path)
      if (integrityOf(bytes) !== integrity) return undefined
      remember(file, bytes)
      return bytes
    },
    transaction: (fn) => db.transaction(fn)(),
    touch: (name) => { statements.touch.run(now().toISOString(), name) },
    audit(entry) {
      statements.audit.run(now().toISOString(), entry.actor, entry.action, entry.name ?? null, entry.version ?? null,
        entry.integrity ?? null, entry.detail ? JSON.stringify(entry.detail) : null)
    },
    auditRows(name) {
      const rows = (name === undefined
        ? db.prepare('SELECT * FROM audit ORDER BY id').all()
        : db.prepare('SELECT * FROM audit WHERE name = ? ORDER BY id').all(name)) as (Omit<AuditRow, 'detail'> & { detail: string | null })[]
      return rows.map((r) => ({ ...r, detail: r.detail === null ? null : JSON.parse(r.detail) as Record<string, unknown> }))
    },
    close: () => { db.close() },
  }
}

function parseVersion(row: RawVersion): VersionRow {
  const { manifest, signatures, file_count, unpacked_size, ...rest } = row
  return { ...rest, manifest: JSON.parse(manifest) as Record<string, unknown>, signatures: JSON.parse(signatures) as VersionSignature[],
    fileCount: file_count, unpackedSize: unpacked_size }
}
