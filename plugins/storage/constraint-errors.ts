// Maps SQLite constraint violations to caller-meaningful StepErrors; everything else stays an internal error.
//
// Status choice: a UNIQUE or PRIMARY KEY violation is 409 Conflict (the request clashes with existing state, and
// the caller can pick another key or update instead). NOT NULL, CHECK, FOREIGN KEY, STRICT-table type errors and
// RAISE(ABORT, …) in triggers are 422 Unprocessable Content: the request was well-formed but its data breaks a rule
// of the store. (A FOREIGN KEY failure on DELETE, a row still referenced, also lands here: SQLite reports both
// directions with one code.)
import { StepError } from '@islet/sdk'
import type { SqlCallerErrorCode } from './errors.ts'

const CONFLICT = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY'])

/** Caller-safe wording per SQLite constraint code (the raw SQLite message stays in `cause` for the log). */
const CONSTRAINT_MESSAGES: Record<string, (subject: string) => string> = {
  SQLITE_CONSTRAINT_UNIQUE: (columns) => `conflicts with an existing record: ${columns} must be unique`,
  SQLITE_CONSTRAINT_PRIMARYKEY: (columns) => `conflicts with an existing record: ${columns} must be unique`,
  SQLITE_CONSTRAINT_NOTNULL: (columns) => `a required value is missing: ${columns} must not be null`,
  SQLITE_CONSTRAINT_CHECK: (rule) => `a value breaks the rule '${rule}'`,
  SQLITE_CONSTRAINT_FOREIGNKEY: () => 'refers to a record that does not exist, or is still referenced by others',
  SQLITE_CONSTRAINT_DATATYPE: (detail) => `a value has the wrong type: ${detail}`,
  // The message is the one the schema author wrote in RAISE(ABORT, '…').
  SQLITE_CONSTRAINT_TRIGGER: (message) => message,
}

/** The StepError a constraint violation means for the caller, or `error` itself when it is anything else. */
export function toCallerError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !(error instanceof Error)) return error
  const describe = Object.hasOwn(CONSTRAINT_MESSAGES, code) ? CONSTRAINT_MESSAGES[code] : undefined
  if (!describe) return error
  // "UNIQUE constraint failed: orders.sku, orders.day" → "orders.sku, orders.day"; CHECK gives its rule or name.
  const subject = error.message.replace(/^\w+(?: \w+)? constraint failed: /, '')
  const isConflict = CONFLICT.has(code)
  const callerCode: SqlCallerErrorCode = isConflict ? 'ERR_SQL_CONFLICT' : 'ERR_SQL_CONSTRAINT'
  return new StepError({
    status: isConflict ? 409 : 422,
    code: callerCode,
    message: describe(subject),
    details: {
      constraint: code.slice('SQLITE_CONSTRAINT_'.length).toLowerCase(),
      ...(subject === error.message ? {} : { on: subject }),
    },
    cause: error,
  })
}
