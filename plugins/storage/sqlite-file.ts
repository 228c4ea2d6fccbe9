// How Islet opens a SQLite file of its own (the storage.sqlite module, the API key store, the slot store): one driver
// loader and one set of pragmas, so no store forgets WAL or loads better-sqlite3 before it is needed.
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'

let driver: typeof Database | undefined

/**
 * better-sqlite3, loaded on the first open rather than when a module type is declared: `islet validate` and
 * `islet schema` read schemas only. Required (not imported) so that opening stays synchronous.
 */
export function sqliteDriver(): typeof Database {
  driver ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database
  return driver
}

/**
 * Opens (creating it and its folder) a store written by this process and read by others: WAL, so readers never
 * block the writer and a crash mid-write cannot corrupt the file; synchronous NORMAL, which in WAL never corrupts
 * (a power cut may lose the last commits). Throws the driver's error: the caller names the store.
 */
export function openWalFile(file: string, options: { busyTimeoutMs?: number } = {}): Database.Database {
  mkdirSync(dirname(file), { recursive: true })
  const db = new (sqliteDriver())(file, { timeout: options.busyTimeoutMs ?? 5000 })
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    return db
  } catch (error) {
    db.close()
    throw error
  }
}
