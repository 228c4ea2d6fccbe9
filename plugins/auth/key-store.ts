// The API key store: one SQLite file (WAL) in the data directory, shared by the engine (verifies) and `islet apikey`
// (creates, lists, revokes) — each its own connection, so a revocation the CLI commits is seen by the next request.
// Only sha256 hashes of keys are stored.
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { messageOf } from '@islet/sdk'
import { AuthError } from './errors.ts'
import { isKeyId, keyId, newKey } from './key-format.ts'

let driver: typeof Database | undefined
/** Loaded on first open: `islet validate` and `islet schema` read this plugin's schemas only. */
function sqlite(): typeof Database {
  driver ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database
  return driver
}

/** A key as listed: everything but the key itself (which is never stored) and its hash. */
export interface KeyInfo {
  id: string
  name: string
  scopes: string[]
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}

/** What verification reads: the row of an id, hash included. */
export interface KeyRow extends KeyInfo {
  hash: string
}

export interface KeyStore {
  readonly file: string
  /** Stores a new key and returns it whole: the only time it exists outside the caller's hands. */
  create(name: string, scopes: readonly string[]): KeyInfo & { key: string }
  list(): KeyInfo[]
  /** Marks the key revoked (kept for the record); throws ERR_AUTH_KEY_UNKNOWN for an id the store does not hold. */
  revoke(id: string): KeyInfo
  find(id: string): KeyRow | undefined
  /** Records a use at `at` (ISO time). */
  touch(id: string, at: string): void
  close(): void
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,       -- JSON array of strings
  hash TEXT NOT NULL,         -- sha256 (hex) of the whole key
  created_at TEXT NOT NULL,
  last_used_at TEXT,          -- coarse: updated at most once a minute per key
  revoked_at TEXT
) STRICT`

interface Row { id: string; name: string; scopes: string; hash: string; created_at: string; last_used_at: string | null; revoked_at: string | null }

export function openKeyStore(file: string, options: { busyTimeoutMs?: number } = {}): KeyStore {
  let db: Database.Database
  try {
    mkdirSync(dirname(file), { recursive: true })
    db = new (sqlite())(file, { timeout: options.busyTimeoutMs ?? 5000 })
    // WAL: the engine reads while the CLI writes, neither blocking the other.
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(SCHEMA)
  } catch (error) {
    throw new AuthError('ERR_AUTH_STORE', `cannot open the API key store ${file}: ${messageOf(error)}`, { details: { file }, cause: error })
  }
  const byId = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?')
  const insert = db.prepare('INSERT INTO api_keys (id, name, scopes, hash, created_at) VALUES (?, ?, ?, ?, ?)')
  const all = db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id')
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
  const touch = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?')
  const info = (r: Row): KeyInfo => ({ id: r.id, name: r.name, scopes: JSON.parse(r.scopes) as string[], createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at })

  return {
    file,
    create(name, scopes) {
      const made = newKey()
      const createdAt = new Date().toISOString()
      insert.run(made.id, name, JSON.stringify(scopes), made.hash, createdAt)
      return { id: made.id, key: made.key, name, scopes: [...scopes], createdAt, lastUsedAt: null, revokedAt: null }
    },
    list: () => all.all().map(info),
    revoke(id) {
      const row = isKeyId(id) ? byId.get(id) : undefined
      if (!row) {
        // A whole key pasted in place of its id: never echo it (it is the secret), say which id it has.
        const inKey = keyId(id)
        if (inKey !== undefined) {
          throw new AuthError('ERR_AUTH_KEY_UNKNOWN', `that is a whole API key, not its id: its id is ${inKey} (islet apikey revoke ${inKey})`, { details: { id: inKey, file } })
        }
        const named = all.all().filter((r) => r.name === id && r.revoked_at === null).map((r) => r.id)
        const hint = named.length > 0
          ? `'${id}' is the name of ${named.length === 1 ? 'a key' : 'keys'}, not an id: islet apikey revoke ${named.join(' (or ')}${named.length > 1 ? ')' : ''}`
          : '`islet apikey list` shows the ids'
        throw new AuthError('ERR_AUTH_KEY_UNKNOWN', `no API key with id '${id}' in ${file}: ${hint}`, { details: { id, file } })
      }
      revoke.run(new Date().toISOString(), id)
      return info(byId.get(id)!)
    },
    find(id) {
      const row = byId.get(id)
      return row && { ...info(row), hash: row.hash }
    },
    touch(id, at) {
      touch.run(at, id)
    },
    close() {
      if (db.open) db.close()
    },
  }
}
