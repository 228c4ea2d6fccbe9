// sql.query on a real SQLite file: rows and one row, params, integers, RETURNING, and every compile-time check.
import { isStepError } from '@islet/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isStorageError, type StorageErrorCode } from './errors.ts'
import queryStep from './sql-query.ts'
import type { SqliteModule } from './sqlite-module.ts'
import { createStep, fromBody, moduleContext, ORDERS_SCHEMA, runScope, startSqlite, tempDirs } from './test-context.ts'

const dirs = tempDirs()
let db: SqliteModule
beforeEach(async () => {
  db = await startSqlite({ file: 'app.db' }, moduleContext({ dataDir: dirs.make() }))
  db.db.exec(ORDERS_SCHEMA)
  db.db.exec("INSERT INTO orders (sku, qty, note) VALUES ('a', 1, 'x'), ('b', 2, 'x'), ('c', 3, 'y')")
})
afterEach(() => {
  db.stop?.()
  dirs.cleanup()
})

const query = (config: Record<string, unknown>) =>
  createStep(queryStep, { db: 'orders-db', ...config }, { 'orders-db': db })

async function createError(config: Record<string, unknown>, code: StorageErrorCode): Promise<string> {
  const error = await query(config).then(() => undefined, (e: unknown) => e)
  expect(isStorageError(error, code), `expected ${code}, got ${String(error)}`).toBe(true)
  return (error as Error).message
}

describe('sql.query: running', () => {
  it('outputs every matching row, with named params from the run', async () => {
    const run = await query({ sql: 'SELECT sku, qty FROM orders WHERE note = :note AND qty >= $min ORDER BY sku',
      params: { note: fromBody('note'), min: 2 } })
    expect(run(runScope({ note: 'x' }))).toEqual([{ sku: 'b', qty: 2 }])
    expect(run(runScope({ note: 'y' }))).toEqual([{ sku: 'c', qty: 3 }])
    expect(run(runScope({ note: 'none' }))).toEqual([])
  })

  it('binds positional params in order', async () => {
    const run = await query({ sql: 'SELECT sku FROM orders WHERE qty BETWEEN ? AND ? ORDER BY sku',
      params: [2, fromBody('max')] })
    expect(run(runScope({ max: 3 }))).toEqual([{ sku: 'b' }, { sku: 'c' }])
  })

  it('one: true outputs the first row, or null when there is none', async () => {
    const run = await query({ sql: 'SELECT sku, qty FROM orders WHERE sku = :sku', params: { sku: fromBody('sku') },
      one: true })
    expect(run(runScope({ sku: 'b' }))).toEqual({ sku: 'b', qty: 2 })
    expect(run(runScope({ sku: 'zz' }))).toBeNull()
  })

  it('treats a param value as data, never as SQL', async () => {
    const run = await query({ sql: 'SELECT sku FROM orders WHERE sku = :sku', params: { sku: fromBody('sku') } })
    expect(run(runScope({ sku: "a' OR '1'='1" }))).toEqual([])
  })

  it('outputs integers as JSON numbers even when the connection defaults to bigints', async () => {
    db.db.defaultSafeIntegers(true)
    const run = await query({ sql: 'SELECT qty FROM orders WHERE sku = ?', params: ['c'], one: true })
    expect(run(runScope())).toEqual({ qty: 3 })
  })

  it('runs a write with RETURNING, and maps its constraint violations like sql.exec', async () => {
    const run = await query({ sql: 'INSERT INTO orders (sku) VALUES (:sku) RETURNING id, sku',
      params: { sku: fromBody('sku') }, one: true })
    expect(run(runScope({ sku: 'new' }))).toEqual({ id: 4, sku: 'new' })
    let caught: unknown
    try { run(runScope({ sku: 'new' })) } catch (error) { caught = error }
    expect(isStepError(caught) && caught).toMatchObject({ status: 409, code: 'ERR_SQL_CONFLICT' })
  })
})

describe('sql.query: compile-time checks', () => {
  it('refuses ${{ … }} inside sql, pointing to params', async () => {
    const message = await createError({ sql: "SELECT * FROM orders WHERE sku = '${{ request.body.sku }}'" },
      'ERR_SQL_NOT_LITERAL')
    expect(message).toMatch(/sql\.query step 'orders-step' of pipeline 'orders'.*params/)
  })

  it.each([
    ['SELEC sku FROM orders', /near "SELEC": syntax error/],
    ['SELECT sku FROM nowhere', /no such table: nowhere/],
    ['SELECT 1; SELECT 2', /more than one statement/],
  ])('fails at create on bad SQL (%s), naming the step and quoting SQLite', async (sql, sqlite) => {
    const message = await createError({ sql }, 'ERR_SQL_PREPARE')
    expect(message).toContain("sql.query step 'orders-step'")
    expect(message).toMatch(sqlite)
  })

  it('refuses a statement that returns no rows, pointing to sql.exec', async () => {
    expect(await createError({ sql: "DELETE FROM orders WHERE sku = 'a'" }, 'ERR_SQL_KIND')).toMatch(/use sql\.exec/)
    expect(db.db.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 3 })
  })

  it.each([
    ['a named placeholder without a param', { sql: 'SELECT * FROM orders WHERE sku = :sku' },
      /none are given, but the SQL has placeholders/],
    ['a placeholder whose param is misspelt', { sql: 'SELECT * FROM orders WHERE id = :id', params: { idd: 1 } },
      /Missing named parameter "id"/],
    ['a param no placeholder uses', { sql: 'SELECT * FROM orders WHERE sku = :sku', params: { sku: 'a', skuu: 'b' } },
      /param 'skuu' is not used/],
    ['too few positional values', { sql: 'SELECT * FROM orders WHERE qty BETWEEN ? AND ?', params: [1] }, /Too few/],
    ['too many positional values', { sql: 'SELECT * FROM orders WHERE qty = ?', params: [1, 2] }, /Too many/],
    ['a mapping for ? placeholders', { sql: 'SELECT * FROM orders WHERE qty = ?', params: { qty: 1 } }, /positional \?/],
  ])('refuses %s at create', async (_case, config, problem) => {
    expect(await createError(config, 'ERR_SQL_PARAMS')).toMatch(problem)
  })

  it('accepts named keys written with their :, @ or $ prefix', async () => {
    const run = await query({ sql: 'SELECT sku FROM orders WHERE sku = @sku', params: { '@sku': 'a' } })
    expect(run(runScope())).toEqual([{ sku: 'a' }])
  })
})
