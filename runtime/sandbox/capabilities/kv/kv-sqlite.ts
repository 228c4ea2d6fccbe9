// The kv store the app uses: one SQLite file (WAL) under the data directory, shared by every app that uses that
// data directory, each app's rows apart: a namespace is (app, component). Each namespace's usage (bytes, keys) and
// version counter live in kv_usage, updated in the same transaction as the row, so a quota check reads one row
// instead of summing the namespace, and a check and its write can never be split by another writer.
import { mkdirSync } from 'node:fs'
import { dirname, relative, sep } from 'node:path'
import { createRequire } from 'node:module'
import type Database from 'better-sqlite3'
import type { Statement } from 'better-sqlite3'
import { createNamespace, prefixEnd, type Backend, type Counters, type KvStore } from './kv.ts'

// better-sqlite3 (some fifteen modules and a native addon) is loaded with the first kv store, not with this file:
// the component host imports it for every app, and most grant no kv.
let loaded: typeof Database | undefined
const driver = (): typeof Database => loaded ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database

/** After a checkpoint the WAL is cut back to this: a burst of writes does not leave a WAL the size of the burst. */
const WAL_KEEP_BYTES = 4 * 1024 * 1024

/** How long a kv write waits for another process's write lock (better-sqlite3's default, said here on purpose). */
const KV_BUSY_TIMEOUT_MS = 5_000

/** Schema version (PRAGMA user_version): 1 added versions and kv_usage, 2 the app column. */
const SCHEMA = 2

/**
 * The app rows written before kv was namespaced by app (schema 1) belong to: none. The first app that opens a
 * component's namespace takes that component's unclaimed rows over (see claim), so nothing written before is lost.
 */
export const UNCLAIMED_APP = ''

/**
 * How kv knows an app: its root YAML file's path relative to the data directory (`../orders/app.yaml`), in `/` form.
 * It stays the same when the app folder and the data directory move together; two apps sharing a data directory
 * differ by their root files.
 */
export function kvAppName(rootFile: string, dataDir: string): string {
  return relative(dataDir, rootFile).split(sep).join('/')
}

export interface KvStoreOptions {
  /** The app whose namespaces this store opens (see kvAppName); never empty. */
  app: string
  /** Told when the app takes over a component's rows written before kv was namespaced by app. */
  onClaim?(component: string, usage: { bytes: number; keys: number }): void
}

export function openKvStore(file: string, options: KvStoreOptions): KvStore {
  const { app } = options
  if (!app) throw new Error('openKvStore needs the app the namespaces belong to')
  mkdirSync(dirname(file), { recursive: true })
  // Several engine processes (`islet run --processes`) share this file: a write that finds another process's write
  // lock waits for it (SQLite's busy handler, up to this long) instead of failing SQLITE_BUSY. Writes hold the lock
  // for one short IMMEDIATE transaction, so the wait is normally far below a millisecond.
  const db = new (driver())(file, { timeout: KV_BUSY_TIMEOUT_MS })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma(`journal_size_limit = ${WAL_KEEP_BYTES}`)
  migrate(db)
  const read: Statement<[string, string, string], { value: string; version: number; bytes: number }> = db.prepare(
    'SELECT value, version, length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) AS bytes FROM kv WHERE app = ? AND namespace = ? AND key = ?')
  const counters: Statement<[string, string], Counters> = db.prepare('SELECT bytes, keys, seq FROM kv_usage WHERE app = ? AND namespace = ?')
  const write = db.prepare(`INSERT INTO kv (app, namespace, key, value, updated_at, version) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (app, namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, version = excluded.version`)
  const count = db.prepare(`INSERT INTO kv_usage (app, namespace, bytes, keys, seq) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (app, namespace) DO UPDATE SET bytes = excluded.bytes, keys = excluded.keys, seq = excluded.seq`)
  const del = db.prepare('DELETE FROM kv WHERE app = ? AND namespace = ? AND key = ?')
  // Prefix scan by range on the primary key, not LIKE (keys may hold % and _) and not `< prefix || '\uffff'` (keys
  // with a character above U+FFFF after the prefix sort after that bound in UTF-8): see prefixEnd.
  const listBetween: Statement<[string, string, string, string, number], { key: string }> = db.prepare(
    'SELECT key FROM kv WHERE app = ? AND namespace = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?')
  const listFrom: Statement<[string, string, string, number], { key: string }> = db.prepare(
    'SELECT key FROM kv WHERE app = ? AND namespace = ? AND key >= ? ORDER BY key LIMIT ?')
  const moveRows = db.prepare('UPDATE kv SET app = ? WHERE app = ? AND namespace = ?')
  const moveUsage = db.prepare('UPDATE kv_usage SET app = ? WHERE app = ? AND namespace = ?')
  // IMMEDIATE: the write lock is taken before the usage row is read, so even another process writing the same file
  // waits for this check-and-write to finish.
  const transaction = db.transaction((fn: () => unknown) => fn())
  const zero: Counters = { bytes: 0, keys: 0, seq: 0 }
  const backend: Backend = {
    read(ns, key) {
      const row = read.get(app, ns, key)
      return row && { text: row.value, version: row.version, bytes: row.bytes }
    },
    counters: (ns) => counters.get(app, ns) ?? zero,
    write(ns, key, text, version, after) {
      write.run(app, ns, key, text, new Date().toISOString(), version)
      count.run(app, ns, after.bytes, after.keys, after.seq)
    },
    remove(ns, key, after) {
      del.run(app, ns, key)
      count.run(app, ns, after.bytes, after.keys, after.seq)
    },
    list(ns, prefix, limit) {
      const end = prefixEnd(prefix)
      const rows = end === undefined ? listFrom.all(app, ns, prefix, limit) : listBetween.all(app, ns, prefix, end, limit)
      return rows.map((r) => r.key)
    },
    atomically: <T>(fn: () => T) => transaction.immediate(fn) as T,
  }
  /**
   * Rows of `ns` from before kv was namespaced by app become this app's the first time it opens `ns`, unless it has
   * rows of its own there already (then they stay unclaimed, for the operator to sort out). Once per store and name.
   */
  const claimed = new Set<string>()
  const claim = (ns: string): void => {
    if (claimed.has(ns)) return
    claimed.add(ns)
    const taken = transaction.immediate(() => {
      const old = counters.get(UNCLAIMED_APP, ns)
      if (!old || counters.get(app, ns)) return undefined
      moveRows.run(app, UNCLAIMED_APP, ns)
      moveUsage.run(app, UNCLAIMED_APP, ns)
      return old
    }) as Counters | undefined
    if (taken) options.onClaim?.(ns, { bytes: taken.bytes, keys: taken.keys })
  }
  return {
    namespace(ns, quota) {
      claim(ns)
      return createNamespace(backend, ns, quota)
    },
    usage(ns) {
      claim(ns)
      const { bytes, keys } = backend.counters(ns)
      return { bytes, keys }
    },
    close: () => db.close(),
  }
}

/** Brings a file of any earlier schema up to SCHEMA, in one transaction (re-checked inside: another process may
 * have migrated it first). Usage is counted once from the rows already there; rows already there become unclaimed. */
function migrate(db: Database.Database): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA) return
  db.transaction(() => {
    const from = db.pragma('user_version', { simple: true }) as number
    if (from >= SCHEMA) return
    if (from < 1) migrateTo1(db)
    migrateTo2(db)
    db.pragma(`user_version = ${SCHEMA}`)
  }).immediate()
}

/** Adds the app column: every row already there is unclaimed until an app opens its namespace. */
function migrateTo2(db: Database.Database): void {
  db.exec(`ALTER TABLE kv RENAME TO kv_before_apps; ALTER TABLE kv_usage RENAME TO kv_usage_before_apps;
    CREATE TABLE kv (app TEXT NOT NULL, namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
      updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (app, namespace, key)) WITHOUT ROWID;
    CREATE TABLE kv_usage (app TEXT NOT NULL, namespace TEXT NOT NULL, bytes INTEGER NOT NULL, keys INTEGER NOT NULL,
      seq INTEGER NOT NULL, PRIMARY KEY (app, namespace)) WITHOUT ROWID;
    INSERT INTO kv SELECT '${UNCLAIMED_APP}', namespace, key, value, updated_at, version FROM kv_before_apps;
    INSERT INTO kv_usage SELECT '${UNCLAIMED_APP}', namespace, bytes, keys, seq FROM kv_usage_before_apps;
    DROP TABLE kv_before_apps; DROP TABLE kv_usage_before_apps;`)
}

/** Versions and kv_usage, counted from the rows (a file of schema 0 may not even have the table yet). */
function migrateTo1(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (namespace, key)) WITHOUT ROWID`)
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(kv)').all()
  if (!columns.some((c) => c.name === 'version')) db.exec('ALTER TABLE kv ADD COLUMN version INTEGER NOT NULL DEFAULT 1')
  db.exec(`CREATE TABLE IF NOT EXISTS kv_usage (
    namespace TEXT PRIMARY KEY, bytes INTEGER NOT NULL, keys INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID`)
  db.exec(`INSERT OR REPLACE INTO kv_usage (namespace, bytes, keys, seq)
    SELECT namespace, SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), COUNT(*), MAX(version) FROM kv GROUP BY namespace`)
}
