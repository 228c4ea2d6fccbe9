// The timeout step: a deadline on its block. Past it the block's run is aborted through a signal of its own and
// the step fails at once with ERR_FLOW_TIMEOUT (504), whether or not the block's steps heed the abort.
import { StepError, defineStepType } from '@islet/sdk'
import { compileDuration, durationSchema } from './duration.ts'
import { stepLabel } from './outcome.ts'
import { childSignal, raceAbort } from './signals.ts'

export interface TimeoutConfig {
  readonly duration: unknown
}

/**
 * @example
 * - name: quote
 *   type: timeout
 *   config: { duration: 2s }
 *   do:
 *     - type: component
 *       config: { component: slow-quote }
 */
export default defineStepType<TimeoutConfig>({
  type: 'timeout',
  description: 'Runs its do: block under a deadline; past it the block is aborted and the step fails with 504 ERR_FLOW_TIMEOUT. ' +
    'Outputs the block\'s result.',
  block: 'steps',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['duration'],
    properties: { duration: durationSchema('how long the block may run') },
  },
  create(config, ctx) {
    const block = ctx.block!
    const label = stepLabel('timeout', ctx)
    const duration = compileDuration(config.duration, `${label} duration`, ctx)
    return async (scope) => {
      const ms = duration(scope)
      const child = childSignal(scope.signal)
      const timer = setTimeout(() => child.abort(new StepError({
        status: 504, code: 'ERR_FLOW_TIMEOUT',
        message: `${label}: its block did not finish within ${ms} ms and was aborted`,
        details: { pipeline: ctx.pipeline, step: ctx.step, ms },
      })), ms)
      try {
        return await raceAbort(block.run(scope, { signal: child.signal }), child.signal)
      } finally {
        clearTimeout(timer)
        child.release()
      }
    }
  },
})
