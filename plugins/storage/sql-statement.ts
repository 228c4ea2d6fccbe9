// What sql.query and sql.exec share: the SQL is a literal prepared once when the step is compiled; params are
// templates evaluated per run and bound as values, never spliced into the SQL text.
import type Database from 'better-sqlite3'
import { moduleRef, type RunScope, type StepContext } from '@islet/sdk'
import { toBindArgs, type SqlValue } from './bind-values.ts'
import { StorageError, messageOf } from './errors.ts'
import { sqlDatabase, type SqlDatabase } from './contract.ts'

/** Config shared by sql.query and sql.exec, validated by the engine. */
export interface SqlStepConfig {
  /** Name of the storage.sqlite module. */
  readonly db: string
  /** One SQL statement, literal. */
  readonly sql: string
  /** Named (`{ sku: … }` for `:sku`, `@sku`, `$sku`) or positional (`[…]` for `?`) values; may hold `${{ }}`. */
  readonly params?: Readonly<Record<string, unknown>> | readonly unknown[]
}

/** JSON Schema properties of `SqlStepConfig`. */
export const sqlStepProperties = {
  db: moduleRef('the database module (storage.sqlite) to run the statement on', sqlDatabase),
  sql: { type: 'string', minLength: 1,
    description: 'one SQL statement, written literally: values go in `params` (placeholders :name or ?)' },
  params: {
    oneOf: [
      { type: 'object', description: 'named values: `{ sku: … }` binds :sku, @sku or $sku' },
      { type: 'array', description: 'positional values, one per ? in order' },
    ],
  },
} as const

export interface CompiledSql {
  readonly statement: Database.Statement
  /** Evaluates the params for one run: the arguments for `statement.all/get/run(...args)`. */
  args(scope: RunScope): SqlValue[] | [Record<string, SqlValue>]
}

const PARAMS_HINT = 'named placeholders (:sku, @sku, $sku) take `params` as a mapping { sku: … }; ' +
  'positional ? placeholders take a list with one value per ?, in order'

/** Checks and prepares the statement of a sql.query (`type` wants rows) or sql.exec step, once per generation. */
export function compileSqlStatement(type: 'sql.query' | 'sql.exec', config: SqlStepConfig,
  ctx: StepContext): CompiledSql {
  const where = `${type} step '${ctx.step}' of pipeline '${ctx.pipeline}'`
  if (config.sql.includes('${{')) {
    throw new StorageError('ERR_SQL_NOT_LITERAL',
      `${where}: \`sql\` contains a \${{ … }} expression, but SQL is never built from run data (that is how SQL ` +
      `injection happens). Write a placeholder such as :sku in the SQL and pass the value in ` +
      `\`params: { sku: '\${{ request.body.sku }}' }\``, { details: { step: ctx.step, pipeline: ctx.pipeline } })
  }
  // The engine refuses a module whose type does not provide sql.database (at load, at the YAML; again here).
  const module = ctx.module(config.db, sqlDatabase)
  const statement = prepare(module, config.sql, where)
  const wantsRows = type === 'sql.query'
  if (statement.reader !== wantsRows) {
    throw new StorageError('ERR_SQL_KIND', wantsRows
      ? `${where}: the statement returns no rows; use sql.exec for INSERT/UPDATE/DELETE/DDL (it returns ` +
        `{ changes, lastInsertRowid }), or add a RETURNING clause to get rows back`
      : `${where}: the statement returns rows (a SELECT, or a write with RETURNING); use sql.query to get them`,
    { details: { step: ctx.step, returnsRows: statement.reader } })
  }
  if (!statement.readonly && module.isReadonly) {
    throw new StorageError('ERR_SQL_READONLY',
      `${where}: the statement writes, but storage.sqlite '${config.db}' is \`readonly: true\``,
      { details: { db: config.db } })
  }
  const params = normaliseParams(config.params, where)
  checkParams(module, config.sql, params, where)
  // Plain numbers: JSON has no bigint. Integers beyond 2^53 lose precision; store such ids as TEXT.
  statement.safeIntegers(false)
  const template = params === undefined ? undefined : ctx.compile(params)
  return { statement, args: (scope) => toBindArgs(template?.(scope), where) }
}

function prepare(module: SqlDatabase, sql: string, where: string): Database.Statement {
  try {
    return module.prepare(sql)
  } catch (error) {
    if (error instanceof StorageError) throw error
    throw new StorageError('ERR_SQL_PREPARE', `${where}: SQLite rejected the SQL: ${messageOf(error)}`,
      { details: { sqliteCode: (error as { code?: unknown } | null)?.code }, cause: error })
  }
}

type Params = Record<string, unknown> | readonly unknown[] | undefined

/** Named keys lose an optional :, @ or $ (better-sqlite3 binds by bare name). */
function normaliseParams(params: SqlStepConfig['params'], where: string): Params {
  if (params === undefined || Array.isArray(params)) return params
  const named: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(params)) {
    const name = key.replace(/^[:@$]/, '')
    if (Object.hasOwn(named, name)) throw paramsError(where, `param '${name}' is given twice`)
    named[name] = value
  }
  return named
}

/** Binds NULLs on throwaway statements: placeholders and params must match before the first request, not during. */
function checkParams(module: SqlDatabase, sql: string, params: Params, where: string): void {
  const probe = (probeParams: Params) => {
    const nulls = probeParams === undefined ? [] : Array.isArray(probeParams) ? probeParams.map(() => null)
      : [Object.fromEntries(Object.keys(probeParams).map((key) => [key, null]))]
    module.prepare(sql).bind(...nulls)
  }
  try {
    probe(params)
  } catch (error) {
    const problem = params === undefined ? 'none are given, but the SQL has placeholders'
      : `they do not match the placeholders of the SQL (${messageOf(error)})`
    throw paramsError(where, problem, error)
  }
  if (params === undefined || Array.isArray(params)) return
  // better-sqlite3 ignores extra named values; an unused one is almost always a typo on one side.
  for (const key of Object.keys(params)) {
    const others: Record<string, unknown> = { ...params }
    delete others[key]
    let isUsed = false
    try { probe(others) } catch { isUsed = true }
    if (!isUsed) throw paramsError(where, `param '${key}' is not used by the SQL (no :${key}, @${key} or $${key})`)
  }
}

function paramsError(where: string, problem: string, cause?: unknown): StorageError {
  return new StorageError('ERR_SQL_PARAMS', `${where}: params: ${problem}; ${PARAMS_HINT}`, { cause })
}
