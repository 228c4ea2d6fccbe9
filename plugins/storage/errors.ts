// The storage plugin's error catalogue: stable codes for everything storage.sqlite, sql.query and sql.exec raise.
import { CodedError, messageOf } from '@islet/sdk'

/** Stable codes and what each means; tests and operators match codes, never message text. */
export const STORAGE_ERROR_CODES = {
  // storage.sqlite module
  ERR_STORAGE_OPEN_FAILED: 'the database file could not be opened (missing folder, permissions, not a database)',
  ERR_STORAGE_FILE_OUTSIDE: 'the database file resolves outside the engine\'s data directory (symlinks followed)',
  ERR_STORAGE_NOT_OPEN: 'the database was used before its module started or after it stopped',
  ERR_STORAGE_MIGRATIONS_NOT_FOUND: 'the configured migrations folder does not exist or is not a folder',
  ERR_STORAGE_MIGRATION_NAME: 'a migration file is not named NNN_description.sql, or two files share a number',
  ERR_STORAGE_MIGRATION_CHANGED: 'an already-applied migration file was edited since it was applied',
  ERR_STORAGE_MIGRATION_ORDER: 'a new migration is numbered below one that is already applied',
  ERR_STORAGE_MIGRATION_FAILED: 'a migration failed; it was rolled back and nothing of it is applied',
  ERR_STORAGE_MIGRATION_PENDING: 'a readonly database has migrations that were never applied',
  // sql.query and sql.exec steps (raised when the step is compiled, except where noted)
  ERR_SQL_NOT_LITERAL: '`sql` contains a ${{ … }} expression; values must go through `params`',
  ERR_SQL_PREPARE: 'SQLite rejected the statement (syntax error, unknown table or column, several statements)',
  ERR_SQL_KIND: 'sql.query got a statement that returns no rows, or sql.exec one that does',
  ERR_SQL_READONLY: 'a statement that writes, on a readonly storage.sqlite module',
  ERR_SQL_PARAMS: '`params` do not match the placeholders of the statement',
  ERR_SQL_PARAM_TYPE: 'at run time, a param evaluated to a value SQLite cannot store (object, array, function)',
} as const

export type StorageErrorCode = keyof typeof STORAGE_ERROR_CODES

/** Codes of the `StepError`s sql.query and sql.exec end a request with; callers see these (status first). */
export const SQL_CALLER_ERROR_CODES = {
  ERR_SQL_CONFLICT: '409: the write breaks a UNIQUE or PRIMARY KEY constraint (the record already exists)',
  ERR_SQL_CONSTRAINT: '422: the write breaks a NOT NULL, CHECK, FOREIGN KEY, STRICT type or trigger rule',
} as const

export type SqlCallerErrorCode = keyof typeof SQL_CALLER_ERROR_CODES

/**
 * What the storage plugin throws for operator-facing problems (config, files, schema). The engine wraps it with the
 * module or step name and phase; on the request path it is reported as a 500 without internals.
 * Caller-facing outcomes (constraint violations) are `StepError`s instead: see constraint-errors.ts.
 */
export class StorageError extends CodedError<StorageErrorCode> {}

/** True for a `StorageError`, optionally with the given code. */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code)
}

export { messageOf }
