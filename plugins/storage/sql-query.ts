// The sql.query step: runs one row-returning statement; its output is the rows, or with `one: true` a row or null.
import { defineStepType } from '@islet/sdk'
import { toCallerError } from './constraint-errors.ts'
import { compileSqlStatement, sqlStepProperties, type SqlStepConfig } from './sql-statement.ts'

export interface SqlQueryConfig extends SqlStepConfig {
  /** Output the first row (or null when there is none) instead of the array of rows. */
  readonly one?: boolean
}

/**
 * @example
 * - name: order
 *   type: sql.query
 *   config:
 *     db: orders-db
 *     sql: SELECT id, sku, qty FROM orders WHERE id = :id
 *     params: { id: '${{ request.params.id }}' }
 *     one: true
 */
export default defineStepType<SqlQueryConfig>({
  type: 'sql.query',
  description: 'Runs a SELECT (or a write with RETURNING) with bound params; outputs the rows, or one row or null.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['db', 'sql'],
    properties: {
      ...sqlStepProperties,
      one: { type: 'boolean', default: false, description: 'output the first row, or null when there is none' },
    },
  },
  create(config, ctx) {
    const { statement, args } = compileSqlStatement('sql.query', config, ctx)
    const isOne = config.one === true
    return (scope) => {
      const values = args(scope)
      try {
        // get() steps once; SQLite still applies every change of a write with RETURNING on that first step.
        return isOne ? statement.get(...values) ?? null : statement.all(...values)
      } catch (error) {
        // INSERT … RETURNING can violate constraints too.
        throw toCallerError(error)
      }
    }
  },
})
