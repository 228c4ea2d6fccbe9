// The sql.exec step: runs one statement that returns no rows; its output is { changes, lastInsertRowid }.
import { defineStepType } from '@islet/sdk'
import { toCallerError } from './constraint-errors.ts'
import { compileSqlStatement, sqlStepProperties, type SqlStepConfig } from './sql-statement.ts'

export type SqlExecConfig = SqlStepConfig

/** The step's output (`steps.<name>`). */
export interface SqlExecOutput {
  /** Rows inserted, updated or deleted by the statement itself (not by triggers or cascades). */
  changes: number
  /** Rowid of the last row inserted on this connection (a number; 0 when none ever was). */
  lastInsertRowid: number
}

/**
 * @example
 * - name: insert
 *   type: sql.exec
 *   config:
 *     db: orders-db
 *     sql: INSERT INTO orders (sku, qty) VALUES (:sku, :qty)
 *     params: { sku: '${{ request.body.sku }}', qty: '${{ request.body.qty }}' }
 */
export default defineStepType<SqlExecConfig>({
  type: 'sql.exec',
  description: 'Runs an INSERT, UPDATE, DELETE or DDL statement with bound params; ' +
    'outputs { changes, lastInsertRowid }.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['db', 'sql'],
    properties: sqlStepProperties,
  },
  create(config, ctx) {
    const { statement, args } = compileSqlStatement('sql.exec', config, ctx)
    return (scope): SqlExecOutput => {
      const values = args(scope)
      try {
        const result = statement.run(...values)
        return { changes: result.changes, lastInsertRowid: Number(result.lastInsertRowid) }
      } catch (error) {
        throw toCallerError(error)
      }
    }
  },
})
