// The retry step: runs its block until it succeeds, up to `attempts` times, waiting an exponential backoff with
// jitter in between; which errors are worth another attempt is configurable (never a caller's 4xx by default).
import { defineStepType, isStepError, messageOf, type RunScope } from '@islet/sdk'
import { compileDuration, durationSchema } from './duration.ts'
import { FlowError } from './errors.ts'
import { stepLabel } from './outcome.ts'
import { sleep } from './signals.ts'

export interface RetryConfig {
  readonly attempts?: number
  readonly backoff?: { readonly initial?: unknown; readonly factor?: number; readonly max?: unknown; readonly jitter?: number }
  /** Retry only errors with one of these codes (anywhere in the error's cause chain). */
  readonly codes?: readonly string[]
}

/** The codes of `error` and of its causes: a plugin's error arrives wrapped as ERR_STEP_FAILED naming its step. */
function codesOf(error: unknown): string[] {
  const codes: string[] = []
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') codes.push(code)
  }
  return codes
}

/** The wait before attempt `attempt + 1`: initial × factor^(attempt-1), capped, less up to `jitter` of it at random. */
export function backoffMs(attempt: number, initial: number, factor: number, max: number, jitter: number, random = Math.random): number {
  const base = Math.min(max, initial * factor ** (attempt - 1))
  return Math.round(base * (1 - jitter * random()))
}

/**
 * @example
 * - name: charge
 *   type: retry
 *   config: { attempts: 5, backoff: { initial: 200ms, factor: 2, max: 5s, jitter: 0.2 } }
 *   do:
 *     - type: component
 *       config: { component: charge-card }
 */
export default defineStepType<RetryConfig>({
  type: 'retry',
  description: 'Runs its do: block until it succeeds, at most `attempts` times (attempt visible to the block), with exponential ' +
    'backoff and jitter between attempts; outputs the successful attempt\'s result. A 4xx StepError is not retried unless `codes` lists it.',
  block: 'steps',
  blockVariables: ['attempt'],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      attempts: { type: 'integer', minimum: 1, maximum: 100, default: 3, description: 'how many times the block may run in all' },
      backoff: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          initial: { ...durationSchema('the wait after the first failure'), default: '100ms' },
          factor: { type: 'number', minimum: 1, maximum: 10, default: 2, description: 'each wait is the previous one times this' },
          max: { ...durationSchema('the longest wait'), default: '30s' },
          jitter: { type: 'number', minimum: 0, maximum: 1, default: 0.2,
            description: 'up to this share of each wait is taken off at random, so retrying callers spread out' },
        },
      },
      codes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
        description: 'retry only errors with one of these codes (e.g. ERR_SQL_CONFLICT, ERR_FLOW_TIMEOUT); default: every error except a caller\'s 4xx' },
    },
  },
  create(config, ctx) {
    const block = ctx.block!
    const attempts = config.attempts ?? 3
    const label = stepLabel('retry', ctx)
    const backoff = config.backoff ?? {}
    const initial = compileDuration(backoff.initial ?? '100ms', `${label} backoff.initial`, ctx)
    const max = compileDuration(backoff.max ?? '30s', `${label} backoff.max`, ctx)
    const factor = backoff.factor ?? 2
    const jitter = backoff.jitter ?? 0.2
    const codes = config.codes === undefined ? undefined : new Set(config.codes)
    const isRetryable = (error: unknown) => codes ? codesOf(error).some((c) => codes.has(c))
      : !(isStepError(error) && error.status < 500)
    return async (scope: RunScope) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await block.run(scope, { vars: { attempt }, label: attempt })
        } catch (error) {
          // A cancelled run ends here, whatever the attempt failed with meanwhile.
          if (scope.signal.aborted) throw scope.signal.reason
          if (!isRetryable(error)) throw error
          if (attempt >= attempts) {
            if (isStepError(error)) throw error
            throw new FlowError('ERR_FLOW_RETRY_EXHAUSTED', `${label}: the block failed on all ${attempts} attempts; the last: ${messageOf(error)}`,
              { cause: error, details: { pipeline: ctx.pipeline, step: ctx.step, attempts } })
          }
          const waitMs = backoffMs(attempt, initial(scope), factor, max(scope), jitter)
          scope.logger.warn({ pipeline: ctx.pipeline, step: ctx.step, attempt, waitMs, code: codesOf(error)[0] },
            `${label}: attempt ${attempt} of ${attempts} failed (${messageOf(error)}); retrying in ${waitMs} ms`)
          await sleep(waitMs, scope.signal)
        }
      }
    }
  },
})
