// The `state` trigger type: what a state machine's on-exit, action and on-enter pipelines (and its guards) see. The
// run's input is the event's payload; meta says which machine, instance, from, to and event.
import { defineTrigger } from '@islet/sdk'

export const STATE_TRIGGER = 'state'

export default defineTrigger({
  name: STATE_TRIGGER,
  description: 'A state machine transition running its on-exit, action and on-enter pipelines.',
  variables: ['data', 'payload', 'principal'],
  meta: {
    type: 'object',
    properties: {
      machine: { type: 'string', description: 'the state.machine module' },
      instance: { type: 'string', description: 'the instance id' },
      from: { type: ['string', 'null'], description: 'the state left (null when the instance is being created)' },
      to: { type: 'string', description: 'the state entered' },
      event: { type: ['string', 'null'], description: 'the event (null on create)' },
    },
  },
})
