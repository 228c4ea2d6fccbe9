// The delay step: waits a duration; a cancelled run ends the wait at once.
import { defineStepType } from '@islet/sdk'
import { compileDuration, durationSchema } from './duration.ts'
import { sleep } from './signals.ts'

export interface DelayConfig {
  readonly duration: unknown
}

/**
 * @example
 * - type: delay
 *   config: { duration: 2s }
 */
export default defineStepType<DelayConfig>({
  type: 'delay',
  description: 'Waits a duration (ms, or 250ms, 2s, 1m, 1h); no output. Cancelling the run ends the wait at once.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['duration'],
    properties: { duration: durationSchema('how long to wait') },
  },
  create(config, ctx) {
    const duration = compileDuration(config.duration, `delay step '${ctx.step}' duration`, ctx)
    return async (scope) => {
      await sleep(duration(scope), scope.signal)
      return undefined
    }
  },
})
