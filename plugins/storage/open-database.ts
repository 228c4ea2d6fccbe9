// Opens a SQLite file the way Islet wants every store: WAL, enforced foreign keys, a busy timeout.
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Logger } from '@islet/sdk'
import { StorageError, messageOf } from './errors.ts'

export const MEMORY = ':memory:'

export interface OpenOptions {
  isReadonly: boolean
  busyTimeoutMs: number
  synchronous: 'NORMAL' | 'FULL'
  /** The module's name, for messages. */
  module: string
  logger: Logger
}

/** The absolute path of the database file: relative paths live under the engine's data directory. */
export function resolveDatabaseFile(file: string, dataDir: string): string {
  return file === MEMORY ? MEMORY : path.resolve(dataDir, file)
}

/** Opens `file` and applies the connection pragmas; the connection is closed again if any of that fails. */
export function openDatabase(file: string, options: OpenOptions): Database.Database {
  let db: Database.Database
  try {
    if (file !== MEMORY && !options.isReadonly) fs.mkdirSync(path.dirname(file), { recursive: true })
    // A readonly module reads a store another writes: it must not create an empty one by mistake.
    db = new Database(file, { readonly: options.isReadonly, fileMustExist: options.isReadonly,
      timeout: options.busyTimeoutMs })
  } catch (error) {
    throw openFailed(file, options, error)
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`)
    // Read first: it is also what tells a file that is not a database apart ("file is not a database").
    let journalMode = String(db.pragma('journal_mode', { simple: true }))
    if (!options.isReadonly && file !== MEMORY) {
      // WAL: readers never block the writer and a crash mid-write cannot corrupt the file.
      journalMode = String(db.pragma('journal_mode = WAL', { simple: true }))
      if (journalMode !== 'wal') {
        options.logger.warn({ file, journalMode }, 'SQLite refused WAL mode (network or read-only filesystem?)')
      }
    }
    db.pragma('foreign_keys = ON')
    // NORMAL in WAL mode never corrupts; a power cut may lose the last commits. FULL also fsyncs every commit.
    if (!options.isReadonly) db.pragma(`synchronous = ${options.synchronous}`)
    options.logger.info({ file, journalMode, readonly: options.isReadonly },
      `database opened (journal_mode=${journalMode})`)
    return db
  } catch (error) {
    db.close()
    throw openFailed(file, options, error)
  }
}

function openFailed(file: string, options: OpenOptions, cause: unknown): StorageError {
  const hint = options.isReadonly && file !== MEMORY
    ? ' (readonly: true needs an existing database file, e.g. created by a writable module first)'
    : ''
  return new StorageError('ERR_STORAGE_OPEN_FAILED',
    `storage.sqlite '${options.module}' could not open ${file}: ${messageOf(cause)}${hint}`,
    { details: { module: options.module, file, sqliteCode: (cause as { code?: unknown })?.code }, cause })
}

/** Checkpoints the WAL into the main file and closes; a failed checkpoint is logged, the close still happens. */
export function closeDatabase(db: Database.Database, logger: Logger): void {
  if (!db.open) return
  if (!db.readonly && !db.memory) {
    try {
      // TRUNCATE leaves a single self-contained file behind, e.g. for a backup copied after shutdown.
      db.pragma('wal_checkpoint(TRUNCATE)')
    } catch (error) {
      logger.warn({ err: messageOf(error) }, 'WAL checkpoint on close failed; SQLite replays the WAL on next open')
    }
  }
  db.close()
}
