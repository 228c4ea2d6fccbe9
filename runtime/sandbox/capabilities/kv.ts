// The kv capability: one SQLite file (WAL) under the data directory, one namespace per component, sizes capped;
// and a scratch store in memory with the same rules, for examples.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Statement } from 'better-sqlite3'
import { IsletError } from '../../errors.ts'

export const KV_LIMITS = { keyBytes: 512, valueBytes: 65_536, listMax: 1_000 } as const

export interface KvStore {
  /** A view confined to one namespace; every key a guest passes is checked here. */
  namespace(name: string): KvNamespace
  close(): void
}

export interface KvNamespace {
  get(key: unknown): unknown
  set(key: unknown, value: unknown): null
  delete(key: unknown): boolean
  list(prefix: unknown, limit: unknown): string[]
}

const denied = (reason: string, message: string) => new IsletError('ERR_CAPABILITY_DENIED', message, { details: { capability: 'kv', reason } })

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw denied('kv-key-invalid', 'kv keys are non-empty strings')
  if (Buffer.byteLength(key) > KV_LIMITS.keyBytes) throw denied('kv-key-too-large', `kv keys are at most ${KV_LIMITS.keyBytes} bytes`)
  return key
}

export function openKvStore(file: string): KvStore {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (namespace, key)) WITHOUT ROWID`)
  const get: Statement<[string, string], { value: string }> = db.prepare('SELECT value FROM kv WHERE namespace = ? AND key = ?')
  const set = db.prepare(`INSERT INTO kv (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`)
  const del = db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?')
  // Prefix scan by range, not LIKE: keys may contain % and _.
  const list: Statement<[string, string, string, number], { key: string }> = db.prepare(
    'SELECT key FROM kv WHERE namespace = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?')
  return {
    namespace(ns) {
      return {
        get(key) {
          const row = get.get(ns, checkKey(key))
          return row ? JSON.parse(row.value) : null
        },
        set(key, value) {
          const k = checkKey(key)
          const text = JSON.stringify(value ?? null)
          if (Buffer.byteLength(text) > KV_LIMITS.valueBytes) throw denied('kv-value-too-large', `kv values are at most ${KV_LIMITS.valueBytes} bytes as JSON`)
          set.run(ns, k, text, new Date().toISOString())
          return null
        },
        delete: (key) => del.run(ns, checkKey(key)).changes > 0,
        list(prefix, limit) {
          const p = prefix === undefined || prefix === null ? '' : String(prefix)
          const n = typeof limit === 'number' && limit > 0 ? Math.min(Math.floor(limit), KV_LIMITS.listMax) : 100
          return list.all(ns, p, `${p}\uffff`, n).map((r) => r.key)
        },
      }
    },
    close: () => db.close(),
  }
}

/** A throwaway store: its namespaces' keys mapped to their JSON text. */
export type KvSnapshot = ReadonlyMap<string, ReadonlyMap<string, string>>

export interface ScratchKvStore extends KvStore {
  /** A copy of everything stored now, to start another scratch store from. */
  snapshot(): KvSnapshot
}

/**
 * A kv store in memory for examples (the smoke test of a reload, `islet component test`): the same key and value
 * rules as the real one, never written anywhere, gone when dropped. `seed` is where it starts.
 */
export function createScratchKvStore(seed: KvSnapshot = new Map()): ScratchKvStore {
  const spaces = new Map([...seed].map(([ns, entries]) => [ns, new Map(entries)]))
  const space = (ns: string) => spaces.get(ns) ?? spaces.set(ns, new Map()).get(ns)!
  return {
    namespace(ns) {
      return {
        get(key) {
          const text = spaces.get(ns)?.get(checkKey(key))
          return text === undefined ? null : JSON.parse(text)
        },
        set(key, value) {
          const k = checkKey(key)
          const text = JSON.stringify(value ?? null)
          if (Buffer.byteLength(text) > KV_LIMITS.valueBytes) throw denied('kv-value-too-large', `kv values are at most ${KV_LIMITS.valueBytes} bytes as JSON`)
          space(ns).set(k, text)
          return null
        },
        delete: (key) => spaces.get(ns)?.delete(checkKey(key)) ?? false,
        list(prefix, limit) {
          const p = prefix === undefined || prefix === null ? '' : String(prefix)
          const n = typeof limit === 'number' && limit > 0 ? Math.min(Math.floor(limit), KV_LIMITS.listMax) : 100
          // Byte order, as SQLite's BINARY collation sorts the real store's keys.
          return [...(spaces.get(ns)?.keys() ?? [])].filter((k) => k.startsWith(p))
            .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).slice(0, n)
        },
      }
    },
    snapshot: () => new Map([...spaces].map(([ns, entries]) => [ns, new Map(entries)])),
    close() {},
  }
}
