// The `enqueue` step: puts a job on a queue (any module providing `queue.jobs`) and outputs { id, deduped }. The job
// is stored durably before the step ends, so a response sent after it promises the job will run.
import { EXPRESSION_PATTERN, defineStepType, expressionOr, moduleRef, StepError } from '@islet/sdk'
import { jobQueue, type EnqueueOptions } from './contract.ts'
import { DURATION_PATTERN, durationMs } from './duration.ts'
import { isQueueError } from './errors.ts'

export interface EnqueueConfig {
  queue: string
  payload?: unknown
  delay?: number | string
  priority?: number | string
  key?: string
}

/**
 * @example
 * - name: charge
 *   type: enqueue
 *   config: { queue: payments, payload: { order: '${{ steps.insert.lastInsertRowid }}' }, key: 'charge-${{ steps.insert.lastInsertRowid }}' }
 */
export default defineStepType<EnqueueConfig>({
  type: 'enqueue',
  description: 'Puts a job on a queue (queue.sqlite): payload, delay (ms), priority, idempotency key; outputs { id, deduped }.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['queue'],
    properties: {
      queue: moduleRef('the queue to put the job on', jobQueue),
      payload: { description: 'the job\'s payload, a JSON value (expressions inside are evaluated); default null' },
      delay: {
        description: 'run no earlier than this long from now: milliseconds, text (30s, 5m, 2h), or an expression yielding either',
        anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: DURATION_PATTERN }, { type: 'string', pattern: EXPRESSION_PATTERN }],
      },
      priority: expressionOr({ type: 'integer', minimum: -1_000_000, maximum: 1_000_000, description: 'higher runs first among due jobs; default 0' }),
      key: { type: 'string', minLength: 1, maxLength: 1000, description: 'idempotency key: a second job with a key the queue still holds is not added (deduped: true)' },
    },
  },
  create(config, ctx) {
    const queue = ctx.module(config.queue, jobQueue)
    const payload = ctx.compile(config.payload ?? null)
    const delay = ctx.compile<unknown>(config.delay)
    const priority = ctx.compile<unknown>(config.priority)
    const key = ctx.compile<unknown>(config.key)
    return async (scope) => {
      const options: EnqueueOptions = {}
      const d = delay(scope)
      const p = priority(scope)
      const k = key(scope)
      if (d !== undefined && d !== null) {
        const ms = durationMs(d)
        options.delayMs = ms ?? d as number // anything else is refused by enqueue, naming the value
      }
      if (p !== undefined) options.priority = p as number
      if (k !== undefined) options.key = k as string
      try {
        return await queue.enqueue(payload(scope), options)
      } catch (error) {
        // What the run's data got wrong (a payload that is not JSON, a key too long) is the caller's: 422, not 500.
        if (isQueueError(error, 'ERR_QUEUE_PAYLOAD') || isQueueError(error, 'ERR_QUEUE_OPTIONS')) {
          throw new StepError({ status: 422, code: error.code, message: error.message, cause: error })
        }
        // Another process held queues.db's lock past busyTimeoutMs: nothing was stored, and trying again may well work.
        if (isQueueError(error, 'ERR_QUEUE_BUSY')) {
          throw new StepError({ status: 503, code: error.code, message: `queue '${config.queue}' is busy (its file is locked by another process): nothing was enqueued; try again`, cause: error })
        }
        throw error
      }
    }
  },
})
