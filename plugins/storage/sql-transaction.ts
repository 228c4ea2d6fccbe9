// The sql.transaction step: its do: block of sql.query / sql.exec steps on one database runs in one SQLite
// transaction (BEGIN IMMEDIATE), committed when the block finishes, rolled back when any step of it fails.
// The block runs without yielding to the event loop: the connection is shared by every run, and a statement of
// another run landing between BEGIN and COMMIT would join (and be rolled back with) this transaction.
import type Database from 'better-sqlite3'
import { defineStepType, moduleRef, type BlockStepDecl, type ConfigProblem, type RunScope } from '@islet/sdk'
import { sqlDatabase } from './contract.ts'

export interface SqlTransactionConfig {
  /** Name of the storage.sqlite module every statement of the block runs on. */
  readonly db: string
}

/** Step types that run SQL on a `db` and finish at once. */
const SQL_STEPS = new Set(['sql.query', 'sql.exec', 'sql.transaction'])
/** Step types without side effects that finish at once: a condition, and `fail` to roll back on purpose. */
const PLAIN_STEPS = new Set(['if', 'fail'])

/** What is wrong with a block of `db`'s transaction, each at its step. */
export function checkTransactionBlock(db: string, steps: readonly BlockStepDecl[]): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const step of steps) {
    if (SQL_STEPS.has(step.type)) {
      const other = (step.config as { db?: unknown } | undefined)?.db
      if (other === db) continue
      problems.push({ path: [...step.path, 'config', 'db'],
        message: `${step.type} step '${step.name}' runs on database '${String(other)}', but the sql.transaction around it is on '${db}': one SQLite transaction covers one database`,
        hint: `use db: ${db}, or move the step out of the transaction` })
    } else if (!PLAIN_STEPS.has(step.type)) {
      problems.push({ path: [...step.path, 'type'],
        message: `step type '${step.type}' cannot run inside sql.transaction: only sql.query, sql.exec (and if, fail) on '${db}' may, ` +
          'since the transaction holds the database\'s write lock and must finish without waiting on anything else',
        hint: 'run it before or after the transaction; pass values in through steps.<name>' })
    }
  }
  return problems
}

/**
 * @example
 * - name: order
 *   type: sql.transaction
 *   config: { db: db }
 *   do:
 *     - name: stock
 *       type: sql.exec
 *       config: { db: db, sql: 'UPDATE stock SET qty = qty - :qty WHERE sku = :sku AND qty >= :qty', params: { … } }
 *     - if: ${{ steps.stock.changes == 0 }}
 *       then: [ { type: fail, config: { status: 409, code: ERR_OUT_OF_STOCK, message: out of stock } } ]
 *     - type: sql.exec
 *       config: { db: db, sql: 'INSERT INTO orders (sku, qty) VALUES (:sku, :qty)', params: { … } }
 */
export default defineStepType<SqlTransactionConfig>({
  type: 'sql.transaction',
  description: 'Runs its do: block of sql.query / sql.exec steps on one database in one SQLite transaction: committed when the ' +
    'block finishes, rolled back when a step fails. Outputs the block\'s last step\'s output.',
  block: 'steps',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['db'],
    properties: { db: moduleRef('the database module (storage.sqlite) the transaction is on', sqlDatabase) },
  },
  checkBlock: (config, steps) => checkTransactionBlock(config.db, steps),
  create(config, ctx) {
    const module = ctx.module(config.db, sqlDatabase)
    const block = ctx.block!
    let connection: Database.Database | undefined
    let transaction: Database.Transaction<(scope: RunScope) => unknown> | undefined
    return (scope) => {
      if (scope.signal.aborted) throw scope.signal.reason
      // Made on first use, on the connection the module holds then (a nested one runs as a SAVEPOINT).
      if (connection !== module.db) {
        connection = module.db
        transaction = connection.transaction((inner: RunScope) => block.runSync(inner))
      }
      return transaction!.immediate(scope)
    }
  },
})
