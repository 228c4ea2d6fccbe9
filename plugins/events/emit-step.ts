// The `emit` step: publishes an event on the engine's bus under the step's own name (`step:<pipeline>/<step>`), so
// subscribers (events.subscriber, plugins, the admin event stream) receive it. Delivery is asynchronous: the step
// never waits for, or fails with, a subscriber.
import { defineStepType, type ConfigProblem } from '@islet/sdk'
import { checkEmitHeard } from './app-check.ts'
import { EventsError } from './errors.ts'
import { topicProblem } from './topics.ts'

export interface EmitConfig {
  readonly topic: string
  readonly payload?: unknown
}

/**
 * @example
 * - type: emit
 *   config: { topic: 'orders.${{ steps.order.status }}', payload: { id: '${{ steps.order.id }}' } }
 */
export default defineStepType<EmitConfig>({
  type: 'emit',
  description: "Publishes an event on the engine's bus. Outputs { topic }.",
  configSchema: {
    type: 'object', additionalProperties: false, required: ['topic'],
    properties: {
      topic: { type: 'string', minLength: 1, description: 'the topic (orders.created); may hold ${{ … }} expressions, checked per run' },
      payload: { default: '${{ input }}', description: "the event's payload, any JSON value; strings may hold ${{ … }} expressions (default: the run's input)" },
    },
  },
  check(config): ConfigProblem[] {
    if (config.topic.includes('${{')) return []
    const bad = topicProblem(config.topic)
    return bad ? [{ path: ['topic'], ...bad }] : []
  },
  checkApp: checkEmitHeard,
  create(config, ctx) {
    const events = ctx.service('events')
    const topic = ctx.compile<unknown>(config.topic)
    const payload = ctx.compile(config.payload)
    return (scope) => {
      const t = topic(scope)
      const bad = typeof t === 'string' ? topicProblem(t) : { message: `the topic evaluated to ${t === null ? 'null' : typeof t}`, hint: '' }
      if (bad) {
        throw new EventsError(String(t).startsWith('islet.') ? 'ERR_EVENTS_TOPIC_RESERVED' : 'ERR_EVENTS_TOPIC_INVALID',
          `${bad.message}${bad.hint ? ` (${bad.hint})` : ''}`) // the engine names the step and pipeline around it
      }
      events.publish(t as string, payload(scope))
      return { topic: t }
    }
  },
})
