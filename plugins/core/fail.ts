// The `fail` step: ends the pipeline with an error response `{ error: { code, message, requestId, details } }`.
import { StepError, defineStepType } from '@islet/sdk'
import { asText, checkStatus, statusSchema } from './values.ts'

export interface FailConfig {
  readonly status?: number | string
  readonly code: string
  readonly message: string
  readonly details?: unknown
}

/**
 * @example
 * - type: fail
 *   config: { status: 404, code: ERR_ORDER_NOT_FOUND, message: 'no order with id ${{ params.id }}' }
 */
export default defineStepType<FailConfig>({
  type: 'fail',
  description: 'Ends the pipeline with an error response: a status, a stable code, a message and optional details.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['code', 'message'],
    properties: {
      status: statusSchema(400, 599, 400, 'the HTTP status (400–599), or an expression yielding one'),
      code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'a stable error code callers can match, e.g. ERR_ORDER_NOT_FOUND' },
      message: { type: 'string', description: 'a message safe to show callers; may hold ${{ … }} expressions' },
      details: { description: 'extra data for callers (any value; strings may hold ${{ … }} expressions)' },
    },
  },
  create(config, ctx) {
    const status = ctx.compile(config.status ?? 400)
    const message = ctx.compile(config.message)
    const details = ctx.compile(config.details)
    const { code } = config
    return (scope) => {
      throw new StepError({ status: checkStatus(status(scope), 400, 599), code, message: asText(message(scope)), details: details(scope) })
    }
  },
})
