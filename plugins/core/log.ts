// The `log` step: writes one line on the run's logger (which carries the request id); outputs nothing.
import { defineStepType } from '@islet/sdk'
import { asText } from './values.ts'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const

export interface LogConfig {
  readonly level?: (typeof LOG_LEVELS)[number]
  readonly message: string
  readonly fields?: Readonly<Record<string, unknown>>
}

/**
 * @example
 * - type: log
 *   config: { level: info, message: 'order ${{ steps.order.id }} stored', fields: { sku: '${{ body.sku }}' } }
 */
export default defineStepType<LogConfig>({
  type: 'log',
  description: 'Logs a message, with optional structured fields, on the request logger. Outputs nothing.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: {
      level: { enum: [...LOG_LEVELS], default: 'info', description: 'the log level' },
      message: { type: 'string', description: 'the message; may hold ${{ … }} expressions' },
      fields: { type: 'object', description: 'structured fields added to the line; values may be ${{ … }} expressions' },
    },
  },
  create(config, ctx) {
    const level = config.level ?? 'info'
    const message = ctx.compile(config.message)
    const fields = ctx.compile<Record<string, unknown>>(config.fields ?? {})
    const { pipeline, step } = ctx
    return (scope) => {
      // pipeline and step first: fields the app author names explicitly win.
      scope.logger[level]({ pipeline, step, ...fields(scope) }, asText(message(scope)))
      return undefined
    }
  },
})
