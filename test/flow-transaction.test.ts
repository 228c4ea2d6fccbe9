// sql.transaction: a block of sql steps on one SQLite file commits together or not at all.
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { dataFile, flowApps } from './support/flow.ts'

const apps = flowApps()

const MIGRATION = `CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL CHECK (qty >= 0));
CREATE TABLE orders (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, qty INTEGER NOT NULL, ref TEXT UNIQUE);
INSERT INTO stock (sku, qty) VALUES ('apple', 5);
`

function open() {
  return apps.open(['place'], `  place:
    steps:
      - name: placed
        type: sql.transaction
        config: { db: db }
        do:
          - name: taken
            type: sql.exec
            config: { db: db, sql: 'UPDATE stock SET qty = qty - :qty WHERE sku = :sku AND qty >= :qty', params: { sku: '\${{ input.sku }}', qty: '\${{ input.qty }}' } }
          - if: \${{ steps.taken.changes == 0 }}
            then: [ { type: fail, config: { status: 409, code: ERR_OUT_OF_STOCK, message: 'not enough \${{ input.sku }}' } } ]
          - name: order
            type: sql.exec
            config: { db: db, sql: 'INSERT INTO orders (sku, qty, ref) VALUES (:sku, :qty, :ref)', params: { sku: '\${{ input.sku }}', qty: '\${{ input.qty }}', ref: '\${{ input.ref }}' } }
          - type: sql.query
            config: { db: db, sql: 'SELECT qty FROM stock WHERE sku = :sku', params: { sku: '\${{ input.sku }}' }, one: true }
`, `  - name: db
    type: storage.sqlite
    config: { file: shop.db, migrations: ./migrations }
`, { 'migrations/001_shop.sql': MIGRATION })
}

/** What the file holds, read on a connection of its own. */
function contents(file: string) {
  const db = new Database(file, { readonly: true })
  try {
    return { stock: db.prepare('SELECT sku, qty FROM stock').all(), orders: db.prepare('SELECT sku, qty, ref FROM orders ORDER BY id').all() }
  } finally {
    db.close()
  }
}

describe('sql.transaction', () => {
  it('commits every statement of the block together and outputs its last step\'s output', async () => {
    const runner = await open()
    expect((await runner.run('place', { sku: 'apple', qty: 2, ref: 'a-1' })).body).toEqual({ qty: 3 })
    expect(contents(dataFile(apps.app(), 'shop.db'))).toEqual({ stock: [{ sku: 'apple', qty: 3 }], orders: [{ sku: 'apple', qty: 2, ref: 'a-1' }] })
  })

  it('rolls everything back when a later statement fails, or a fail step ends the block: the file is unchanged', async () => {
    const runner = await open()
    await runner.run('place', { sku: 'apple', qty: 1, ref: 'a-1' })
    const before = contents(dataFile(apps.app(), 'shop.db'))
    // The stock update succeeds, then the order's unique ref is taken: both undone.
    await expect(runner.run('place', { sku: 'apple', qty: 1, ref: 'a-1' })).rejects.toMatchObject({ code: 'ERR_SQL_CONFLICT', status: 409 })
    // Not enough stock: the fail step inside the block rolls back too.
    await expect(runner.run('place', { sku: 'apple', qty: 50, ref: 'a-2' })).rejects.toMatchObject({ code: 'ERR_OUT_OF_STOCK', status: 409 })
    expect(contents(dataFile(apps.app(), 'shop.db'))).toEqual(before)
    expect(before.stock).toEqual([{ sku: 'apple', qty: 4 }])
  })
})
