// The events plugin: pipelines subscribed to bus topics (events.subscriber), the `event` trigger type and the `emit`
// step, declared through the public sdk only, as a third party would.
import { definePlugin } from '@islet/sdk'
import subscriber from './subscriber.ts'
import emit from './emit-step.ts'
import trigger from './trigger.ts'
import { checkGrantsHeard } from './app-check.ts'

export type { SubscriberConfig, SubscriptionConfig, Subscriber, SubscriptionStatus } from './subscriber.ts'
export type { EmitConfig } from './emit-step.ts'
export { EVENTS_ERROR_CODES, EventsError, type EventsErrorCode } from './errors.ts'

export default definePlugin({
  name: 'events',
  version: '0.1.0',
  islet: '^0.1.0',
  description: 'Pipelines run for bus events (events.subscriber, trigger `event`) and the emit step.',
  moduleTypes: [subscriber],
  stepTypes: [emit],
  triggers: [trigger],
  services: ['events'],
  checkApp: checkGrantsHeard,
})
