// The kv store the app uses: one SQLite file (WAL) under the data directory. Each namespace's usage (bytes, keys)
// and version counter live in kv_usage, updated in the same transaction as the row, so a quota check reads one row
// instead of summing the namespace, and a check and its write can never be split by another writer.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Statement } from 'better-sqlite3'
import { createNamespace, prefixEnd, type Backend, type Counters, type KvStore } from './kv.ts'

/** After a checkpoint the WAL is cut back to this: a burst of writes does not leave a WAL the size of the burst. */
const WAL_KEEP_BYTES = 4 * 1024 * 1024

/** Schema version (PRAGMA user_version): 1 added versions and kv_usage. */
const SCHEMA = 1

export function openKvStore(file: string): KvStore {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma(`journal_size_limit = ${WAL_KEEP_BYTES}`)
  migrate(db)
  const read: Statement<[string, string], { value: string; version: number; bytes: number }> = db.prepare(
    'SELECT value, version, length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) AS bytes FROM kv WHERE namespace = ? AND key = ?')
  const counters: Statement<[string], Counters> = db.prepare('SELECT bytes, keys, seq FROM kv_usage WHERE namespace = ?')
  const write = db.prepare(`INSERT INTO kv (namespace, key, value, updated_at, version) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, version = excluded.version`)
  const count = db.prepare(`INSERT INTO kv_usage (namespace, bytes, keys, seq) VALUES (?, ?, ?, ?)
    ON CONFLICT (namespace) DO UPDATE SET bytes = excluded.bytes, keys = excluded.keys, seq = excluded.seq`)
  const del = db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?')
  // Prefix scan by range on the primary key, not LIKE (keys may hold % and _) and not `< prefix || '\uffff'` (keys
  // with a character above U+FFFF after the prefix sort after that bound in UTF-8): see prefixEnd.
  const listBetween: Statement<[string, string, string, number], { key: string }> = db.prepare(
    'SELECT key FROM kv WHERE namespace = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?')
  const listFrom: Statement<[string, string, number], { key: string }> = db.prepare(
    'SELECT key FROM kv WHERE namespace = ? AND key >= ? ORDER BY key LIMIT ?')
  // IMMEDIATE: the write lock is taken before the usage row is read, so even another process writing the same file
  // waits for this check-and-write to finish.
  const transaction = db.transaction((fn: () => unknown) => fn())
  const zero: Counters = { bytes: 0, keys: 0, seq: 0 }
  const backend: Backend = {
    read(ns, key) {
      const row = read.get(ns, key)
      return row && { text: row.value, version: row.version, bytes: row.bytes }
    },
    counters: (ns) => counters.get(ns) ?? zero,
    write(ns, key, text, version, after) {
      write.run(ns, key, text, new Date().toISOString(), version)
      count.run(ns, after.bytes, after.keys, after.seq)
    },
    remove(ns, key, after) {
      del.run(ns, key)
      count.run(ns, after.bytes, after.keys, after.seq)
    },
    list(ns, prefix, limit) {
      const end = prefixEnd(prefix)
      const rows = end === undefined ? listFrom.all(ns, prefix, limit) : listBetween.all(ns, prefix, end, limit)
      return rows.map((r) => r.key)
    },
    atomically: <T>(fn: () => T) => transaction.immediate(fn) as T,
  }
  return {
    namespace: (ns, quota) => createNamespace(backend, ns, quota),
    usage(ns) {
      const { bytes, keys } = backend.counters(ns)
      return { bytes, keys }
    },
    close: () => db.close(),
  }
}

/** Brings a file of any earlier schema up to SCHEMA: usage is counted once from the rows already there. */
function migrate(db: Database.Database): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA) return
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS kv (
      namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
      PRIMARY KEY (namespace, key)) WITHOUT ROWID`)
    const columns = db.prepare<[], { name: string }>('PRAGMA table_info(kv)').all()
    if (!columns.some((c) => c.name === 'version')) db.exec('ALTER TABLE kv ADD COLUMN version INTEGER NOT NULL DEFAULT 1')
    db.exec(`CREATE TABLE IF NOT EXISTS kv_usage (
      namespace TEXT PRIMARY KEY, bytes INTEGER NOT NULL, keys INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID`)
    db.exec(`INSERT OR REPLACE INTO kv_usage (namespace, bytes, keys, seq)
      SELECT namespace, SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), COUNT(*), MAX(version) FROM kv GROUP BY namespace`)
    db.pragma(`user_version = ${SCHEMA}`)
  }).immediate()
}
