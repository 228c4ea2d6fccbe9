// Brings a database up to date with its migration files: each runs in one transaction together with its ledger
// record, so a migration is either applied and recorded, or not applied at all.
import type Database from 'better-sqlite3'
import type { Logger } from '@islet/sdk'
import { StorageError, messageOf } from './errors.ts'
import type { MigrationFile } from './migration-files.ts'
import { findTransactionControl } from './transaction-control.ts'

/** The ledger: one row per applied migration. */
export const LEDGER_TABLE = '_islet_migrations'

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  checksum   TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`

interface LedgerRow {
  version: number
  name: string
  checksum: string
  applied_at: string
}

export interface MigrateOptions {
  /** The migrations folder, for messages. */
  folder: string
  logger: Logger
  /** A readonly database is only checked: every migration must already be applied, unchanged. */
  isReadonly: boolean
}

/** Applies the pending migrations of `files` (sorted by version) and returns the names of those it applied. */
export function migrate(db: Database.Database, files: readonly MigrationFile[], options: MigrateOptions): string[] {
  if (!options.isReadonly) db.exec(CREATE_LEDGER)
  const applied = readLedger(db)
  // Every check runs before anything is applied: a refused folder changes nothing.
  checkApplied(files, applied, options)
  const pending = files.filter((file) => !applied.has(file.version))
  checkOrder(pending, applied, options.folder)
  if (options.isReadonly) {
    if (pending.length > 0) {
      throw new StorageError('ERR_STORAGE_MIGRATION_PENDING',
        `the database is opened readonly but migrations ${pending.map((f) => f.name).join(', ')} in ` +
        `${options.folder} were never applied to it: start it once without \`readonly: true\` to apply them`,
        { details: { pending: pending.map((f) => f.name), folder: options.folder } })
    }
    return []
  }
  return pending.filter((file) => applyMigration(db, file, options.logger)).map((file) => file.name)
}

function readLedger(db: Database.Database): Map<number, LedgerRow> {
  const hasLedger = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(LEDGER_TABLE)
  if (!hasLedger) return new Map()
  const rows = db.prepare(`SELECT version, name, checksum, applied_at FROM ${LEDGER_TABLE}`)
    .safeIntegers(false).all() as LedgerRow[]
  return new Map(rows.map((row) => [row.version, row]))
}

function checkApplied(files: readonly MigrationFile[], applied: Map<number, LedgerRow>, options: MigrateOptions) {
  for (const file of files) {
    const row = applied.get(file.version)
    if (row && row.checksum !== file.checksum) throw changedError(file, row)
  }
  // Not an error: rolling back to an older build must still start. Said loudly, since it can also mean the
  // migrations folder and the database do not belong together.
  const versions = new Set(files.map((file) => file.version))
  const missing = [...applied.values()].filter((row) => !versions.has(row.version)).map((row) => row.name)
  if (missing.length > 0) {
    options.logger.warn({ missing, folder: options.folder },
      'the database has applied migrations whose files are not in the migrations folder')
  }
}

function checkOrder(pending: readonly MigrationFile[], applied: Map<number, LedgerRow>, folder: string) {
  const last = [...applied.values()].reduce<LedgerRow | undefined>((a, b) => (a && a.version > b.version ? a : b),
    undefined)
  const early = last && pending.find((file) => file.version < last.version)
  if (!last || !early) return
  // Applying it would run it against a schema its author never saw; the fix is a new, higher number.
  throw new StorageError('ERR_STORAGE_MIGRATION_ORDER',
    `migration ${early.name} in ${folder} is not applied yet, but ${last.name} (number ${last.version}) already ` +
    `is: migrations run in number order, so renumber ${early.name} above ${last.version}`,
    { details: { file: early.name, lastApplied: last.name, folder } })
}

function changedError(file: MigrationFile, row: LedgerRow): StorageError {
  return new StorageError('ERR_STORAGE_MIGRATION_CHANGED',
    `migration ${file.name} (${file.path}) was applied on ${row.applied_at} but its content has changed since: ` +
    `an applied migration is never re-run or edited. Restore the file as it was, and put the change in a new ` +
    `migration with a higher number`,
    { details: { file: file.path, version: file.version, appliedChecksum: row.checksum, checksum: file.checksum } })
}

function failedError(file: MigrationFile, problem: string, cause?: unknown): StorageError {
  return new StorageError('ERR_STORAGE_MIGRATION_FAILED',
    `migration ${file.name} (${file.path}) failed: ${problem}`,
    { details: { file: file.path, version: file.version, sqliteCode: (cause as { code?: unknown })?.code }, cause })
}

/** Applies one migration with its ledger record; false when another process applied it meanwhile. */
function applyMigration(db: Database.Database, file: MigrationFile, logger: Logger): boolean {
  const control = findTransactionControl(file.sql)
  if (control) {
    throw failedError(file, `it contains a ${control} statement, but each migration already runs in its own ` +
      `transaction: remove BEGIN/COMMIT/END/ROLLBACK/SAVEPOINT/RELEASE from the file. Nothing of it was applied`)
  }
  const recorded = db.prepare(`SELECT version, name, checksum, applied_at FROM ${LEDGER_TABLE} WHERE version = ?`)
  const record = db.prepare(`INSERT INTO ${LEDGER_TABLE} (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`)
  const apply = db.transaction((): boolean => {
    // Another process sharing the file may have applied it between our ledger read and this write lock.
    const row = recorded.get(file.version) as LedgerRow | undefined
    if (row) {
      if (row.checksum !== file.checksum) throw changedError(file, row)
      return false
    }
    db.exec(file.sql)
    if (!db.inTransaction) {
      // Backstop for a transaction end the scan missed: statements before it may be committed already.
      throw failedError(file, 'it ended the transaction it runs in, so statements before that point may have ' +
        'been committed without a ledger record: check the schema by hand, and remove transaction statements')
    }
    record.run(file.version, file.name, file.checksum, new Date().toISOString())
    return true
  })
  const startedAt = performance.now()
  let isApplied: boolean
  try {
    // IMMEDIATE takes the write lock up front, so two processes starting together apply each migration once.
    isApplied = apply.immediate()
  } catch (error) {
    if (error instanceof StorageError) throw error
    throw failedError(file, `${messageOf(error)}. It was rolled back: nothing of it is applied (earlier ` +
      `migrations stay applied). Fix the file and start again`, error)
  }
  if (isApplied) {
    logger.info({ migration: file.name, version: file.version, ms: Math.round(performance.now() - startedAt) },
      'migration applied')
  }
  return isApplied
}
