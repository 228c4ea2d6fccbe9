// The auth tables (owned here) and, when the store has not created them yet (e.g. `islet registry user add` on a
// fresh registry folder), the store's own (registry/server/store.ts), the audit log among them.
import type BetterSqlite3 from 'better-sqlite3'
import { createStoreTables } from '../store.ts'

export function ensureAuthTables(db: BetterSqlite3.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      name TEXT PRIMARY KEY,
      password_hash TEXT NOT NULL,
      created TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS tokens (
      id TEXT PRIMARY KEY,
      user TEXT NOT NULL,
      hash TEXT NOT NULL,
      scopes TEXT NOT NULL,
      created TEXT NOT NULL,
      expires TEXT NOT NULL,
      revoked_at TEXT
    );
    CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens(user);
  `)
  createStoreTables(db)
}

/** Appends one auth event to the audit log (who, what, when); `detail` never holds a secret. */
export function auditAuth(db: BetterSqlite3.Database, at: Date, actor: string, action: string, detail: Record<string, unknown>): void {
  db.prepare('INSERT INTO audit (at, actor, action, name, version, integrity, detail) VALUES (?, ?, ?, NULL, NULL, NULL, ?)')
    .run(at.toISOString(), actor, action, JSON.stringify(detail))
}
