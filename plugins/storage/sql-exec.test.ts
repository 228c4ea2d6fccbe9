// sql.exec on a real SQLite file: binding, outputs, constraint errors for callers, injection, compile-time checks.
import path from 'node:path'
import { isStepError, type RunScope } from '@islet/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isStorageError } from './errors.ts'
import execStep from './sql-exec.ts'
import type { SqliteModule } from './sqlite-module.ts'
import { createSqliteModule } from './sqlite-module.ts'
import { createStep, fromBody, moduleContext, ORDERS_SCHEMA, runScope, startSqlite, tempDirs } from './test-context.ts'

const dirs = tempDirs()
let db: SqliteModule
beforeEach(async () => {
  db = await startSqlite({ file: 'app.db' }, moduleContext({ dataDir: dirs.make() }))
  db.db.exec(ORDERS_SCHEMA)
})
afterEach(() => {
  db.stop?.()
  dirs.cleanup()
})

const exec = (config: Record<string, unknown>) =>
  createStep(execStep, { db: 'orders-db', ...config }, { 'orders-db': db })
const rows = () => db.db.prepare('SELECT sku, qty, note, paid, placed_at FROM orders ORDER BY id').all()
const insertSku = "INSERT INTO orders (sku) VALUES ('taken')"

function stepErrorOf(run: () => unknown) {
  let caught: unknown
  try { run() } catch (error) { caught = error }
  expect(isStepError(caught), `expected a StepError, got ${String(caught)}`).toBe(true)
  return caught as { status: number; code: string; message: string; details: Record<string, unknown> }
}

describe('sql.exec: running', () => {
  it('binds named params (:, @ and $ styles) from the run and outputs changes and lastInsertRowid', async () => {
    const run = await exec({
      sql: 'INSERT INTO orders (sku, qty, note) VALUES (:sku, @qty, $note)',
      params: { sku: fromBody('sku'), qty: fromBody('qty'), note: 'web' },
    })
    expect(run(runScope({ sku: 'a-1', qty: 2 }))).toEqual({ changes: 1, lastInsertRowid: 1 })
    expect(run(runScope({ sku: 'b-2', qty: 5 }))).toEqual({ changes: 1, lastInsertRowid: 2 })
    expect(rows()).toEqual([
      { sku: 'a-1', qty: 2, note: 'web', paid: null, placed_at: null },
      { sku: 'b-2', qty: 5, note: 'web', paid: null, placed_at: null },
    ])
  })

  it('binds positional params in order, and reports how many rows an UPDATE changed', async () => {
    const insert = await exec({ sql: 'INSERT INTO orders (sku, qty) VALUES (?, ?)', params: ['p', 3] })
    insert(runScope())
    db.db.exec("INSERT INTO orders (sku) VALUES ('q')")
    const bump = await exec({ sql: 'UPDATE orders SET qty = qty + ?', params: [fromBody('by')] })
    expect(bump(runScope({ by: 10 }))).toMatchObject({ changes: 2 })
    expect(rows().map((row) => (row as { qty: number }).qty)).toEqual([13, 11])
  })

  it('stores booleans as 1/0, undefined as NULL and a Date as ISO-8601 text', async () => {
    const run = await exec({
      sql: 'INSERT INTO orders (sku, paid, note, placed_at) VALUES (:sku, :paid, :note, :at)',
      params: { sku: 'x', paid: () => true, note: () => undefined, at: () => new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) },
    })
    run(runScope())
    expect(rows()).toEqual([{ sku: 'x', qty: 1, note: null, paid: 1, placed_at: '2030-01-02T03:04:05.000Z' }])
  })

  it('stores an SQL injection attempt verbatim as data; the table survives', async () => {
    const run = await exec({ sql: 'INSERT INTO orders (sku, note) VALUES (:sku, :note)',
      params: { sku: 'evil', note: fromBody('note') } })
    const attack = "x'); DROP TABLE orders;--"
    run(runScope({ note: attack }))
    expect(db.db.prepare('SELECT note FROM orders').all()).toEqual([{ note: attack }])
  })

  it('refuses an object param at run time, naming it and suggesting json(…); nothing is written', async () => {
    const run = await exec({ sql: 'INSERT INTO orders (sku, note) VALUES (:sku, :note)',
      params: { sku: 'a', note: (s: RunScope) => s.input } })
    expect(() => run(runScope({ nested: true }))).toThrow(expect.objectContaining({ code: 'ERR_SQL_PARAM_TYPE',
      message: expect.stringMatching(/params\.note evaluated to an object.*json\(/) }))
    const positional = await exec({ sql: 'INSERT INTO orders (sku, qty) VALUES (?, ?)', params: ['b', () => NaN] })
    expect(() => positional(runScope())).toThrow(/params\[1\] evaluated to NaN/)
    expect(rows()).toEqual([])
  })
})

describe('sql.exec: constraint violations become caller errors', () => {
  it('UNIQUE → 409 ERR_SQL_CONFLICT naming the column', async () => {
    db.db.exec(insertSku)
    const run = await exec({ sql: 'INSERT INTO orders (sku) VALUES (:sku)', params: { sku: 'taken' } })
    const error = stepErrorOf(() => run(runScope()))
    expect(error).toMatchObject({ status: 409, code: 'ERR_SQL_CONFLICT',
      details: { constraint: 'unique', on: 'orders.sku' } })
  })

  it('PRIMARY KEY → 409 ERR_SQL_CONFLICT', async () => {
    const run = await exec({ sql: "INSERT INTO customers (id, name) VALUES (1, 'again')" })
    expect(stepErrorOf(() => run(runScope()))).toMatchObject({ status: 409, code: 'ERR_SQL_CONFLICT' })
  })

  it.each([
    ['NOT NULL', 'INSERT INTO orders (sku) VALUES (NULL)', { constraint: 'notnull', on: 'orders.sku' }],
    ['CHECK', "INSERT INTO orders (sku, qty) VALUES ('a', 0)", { constraint: 'check', on: 'qty_positive' }],
    ['FOREIGN KEY', "INSERT INTO orders (sku, customer) VALUES ('a', 99)", { constraint: 'foreignkey' }],
  ])('%s → 422 ERR_SQL_CONSTRAINT', async (_name, sql, details) => {
    const run = await exec({ sql })
    const error = stepErrorOf(() => run(runScope()))
    expect(error).toMatchObject({ status: 422, code: 'ERR_SQL_CONSTRAINT', details })
    expect(rows()).toEqual([])
  })

  it('a trigger RAISE(ABORT, …) → 422 carrying the schema author\'s message', async () => {
    db.db.exec(`CREATE TRIGGER no_gifts BEFORE INSERT ON orders WHEN new.sku = 'gift'
      BEGIN SELECT RAISE(ABORT, 'gift orders are closed'); END`)
    const run = await exec({ sql: "INSERT INTO orders (sku) VALUES ('gift')" })
    expect(stepErrorOf(() => run(runScope())))
      .toMatchObject({ status: 422, code: 'ERR_SQL_CONSTRAINT', message: 'gift orders are closed' })
  })

  it('lets other SQLite errors through unchanged (the engine answers 500 without internals)', async () => {
    const run = await exec({ sql: 'INSERT INTO orders (id, sku) VALUES (?, ?)', params: ['not-a-rowid', 'a'] })
    let caught: unknown
    try { run(runScope()) } catch (error) { caught = error }
    expect(isStepError(caught)).toBe(false)
    expect(caught).toMatchObject({ code: 'SQLITE_MISMATCH' })
  })
})

describe('sql.exec: compile-time checks', () => {
  it('refuses a statement that returns rows, pointing to sql.query', async () => {
    const error = await exec({ sql: 'SELECT * FROM orders' }).catch((e: unknown) => e)
    expect(isStorageError(error, 'ERR_SQL_KIND')).toBe(true)
    expect((error as Error).message).toMatch(/sql\.exec step 'orders-step' of pipeline 'orders'.*use sql\.query/)
  })

  it('refuses a writing statement on a readonly module', async () => {
    db.stop?.()
    db = await startSqlite({ file: db.file, readonly: true }, moduleContext({ dataDir: path.dirname(db.file) }))
    await expect(exec({ sql: insertSku })).rejects.toMatchObject({ code: 'ERR_SQL_READONLY' })
  })

  // A db of another type is the engine's refusal (sql.database contract), tested with the engine in test/contracts.test.ts.
  it('refuses a db that has not started', async () => {
    const idle = createSqliteModule({ file: ':memory:', busyTimeoutMs: 5000, readonly: false, synchronous: 'NORMAL' },
      moduleContext({ dataDir: dirs.make() }))
    await expect(createStep(execStep, { db: 'idle', sql: insertSku }, { idle }))
      .rejects.toMatchObject({ code: 'ERR_STORAGE_NOT_OPEN' })
  })
})
