// The `event` trigger type: runs an events.subscriber starts, one per delivered event.
import { defineTrigger } from '@islet/sdk'

export default defineTrigger({
  name: 'event',
  description: "A pipeline run for one event on the engine's bus: input is the event's payload.",
  meta: {
    type: 'object',
    properties: {
      topic: { type: 'string', description: 'the event\'s topic, e.g. orders.created' },
      source: { type: 'string', description: 'who published it: component:<name>, step:<pipeline>/<step>, module:<name>' },
      at: { type: 'string', description: 'when it was published (ISO)' },
      subscription: { type: 'string', description: 'the pattern of the subscription that matched' },
      attempt: { type: 'integer', description: '1 for the first run, 2… for retries (onError: retry)' },
    },
  },
})
