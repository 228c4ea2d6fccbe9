// Turns the values a run's params evaluated to into values SQLite stores faithfully, or says which one cannot be.
import { StorageError } from './errors.ts'

/** What better-sqlite3 binds: the SQLite storage classes. */
export type SqlValue = string | number | bigint | Uint8Array | null

/**
 * Converts one param value. Booleans become 1/0 (SQLite has no boolean), undefined becomes NULL (an absent
 * optional field), a Date its ISO-8601 text (sorts and compares correctly as TEXT).
 * @param param where the value came from, for the message: `params.sku` or `params[0]`
 * @param where the step, for the message
 */
export function toSqlValue(value: unknown, param: string, where: string): SqlValue {
  switch (typeof value) {
    case 'string':
    case 'bigint':
      return value
    case 'number':
      // SQLite would store NaN as NULL, and JSON turns Infinity into null: both lose the value silently.
      if (!Number.isFinite(value)) throw notStorable(param, where, String(value), 'a finite number')
      return value
    case 'boolean':
      return value ? 1 : 0
    case 'undefined':
      return null
  }
  if (value === null || value instanceof Uint8Array) return value
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw notStorable(param, where, 'an invalid Date', 'a valid date')
    return value.toISOString()
  }
  const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`
  throw notStorable(param, where, kind,
    'text, a number, a boolean, a date, bytes or null; to store structured data as JSON text, pass ' +
    `\`${'${{'} json(…) }}\` and read it back with SQLite's json functions`)
}

function notStorable(param: string, where: string, got: string, expected: string): StorageError {
  return new StorageError('ERR_SQL_PARAM_TYPE',
    `${where}: ${param} evaluated to ${got}, which SQLite cannot store; expected ${expected}`,
    { details: { param, got } })
}

/** The arguments for `statement.all/get/run(...args)`: one object for named params, the values for positional. */
export function toBindArgs(values: unknown, where: string): SqlValue[] | [Record<string, SqlValue>] {
  if (values === undefined) return []
  if (Array.isArray(values)) return values.map((value, i) => toSqlValue(value, `params[${i}]`, where))
  const named: Record<string, SqlValue> = {}
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    named[key] = toSqlValue(value, `params.${key}`, where)
  }
  return [named]
}
