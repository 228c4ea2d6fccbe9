// Opens a SQLite file the way Islet wants every store: WAL, enforced foreign keys, a busy timeout.
import fs from 'node:fs'
import path from 'node:path'
import type Database from 'better-sqlite3'
import type { Logger } from '@islet/sdk'
import { StorageError, messageOf } from './errors.ts'
import { sqliteDriver } from './sqlite-file.ts'

export const MEMORY = ':memory:'

export interface OpenOptions {
  isReadonly: boolean
  busyTimeoutMs: number
  synchronous: 'NORMAL' | 'FULL'
  /** The module's name, for messages. */
  module: string
  logger: Logger
}

/**
 * The absolute path of the database file: relative paths live under the engine's data directory, and every path
 * must stay inside it once symlinks are resolved. The config loader refuses others with the YAML location; this is
 * the same rule where the file is opened, for modules created any other way.
 */
export function resolveDatabaseFile(file: string, dataDir: string, module = 'storage.sqlite'): string {
  if (file === MEMORY) return MEMORY
  const resolved = path.resolve(dataDir, file)
  if (!isWithin(realPath(dataDir), realPath(resolved))) {
    throw new StorageError('ERR_STORAGE_FILE_OUTSIDE',
      `storage.sqlite '${module}': the database file '${file}' is outside the data directory ${dataDir}` +
      ` (symlinks resolved): name it relative to the data directory (e.g. file: app.db), and choose the folder` +
      ` itself with --data-dir or ISLET_DATA_DIR`, { details: { module, file, dataDir } })
  }
  return resolved
}

/** Symlinks resolved in every existing part of `p`; the parts that do not exist yet appended as written. */
function realPath(p: string): string {
  try {
    return fs.realpathSync.native(p)
  } catch {
    const parent = path.dirname(p)
    return parent === p ? p : path.join(realPath(parent), path.basename(p))
  }
}

function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p)
  return rel === '' || (!path.isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${path.sep}`))
}

/** Opens `file` and applies the connection pragmas; the connection is closed again if any of that fails. */
export function openDatabase(file: string, options: OpenOptions): Database.Database {
  let db: Database.Database
  try {
    if (file !== MEMORY && !options.isReadonly) fs.mkdirSync(path.dirname(file), { recursive: true })
    // A readonly module reads a store another writes: it must not create an empty one by mistake.
    db = new (sqliteDriver())(file, { readonly: options.isReadonly, fileMustExist: options.isReadonly,
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
