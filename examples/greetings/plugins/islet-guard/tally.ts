// acme.tally counts the events of some topics on the engine's bus (whoever publishes them: components, modules);
// the acme.tally-read step reads a count through the module's contract, never its concrete type.
import { defineContract, defineModuleType, defineStepType, moduleRef, type EventsService } from '@islet/sdk'

export interface Tally {
  /** Events seen on `topic` since the module started. */
  count(topic: string): number
  /** The payload of the latest, or null. */
  last(topic: string): unknown
}

export const tallyContract = defineContract<Tally>('acme.tally', { count: 'function', last: 'function' },
  'counts the events of its topics')

export const tally = defineModuleType<{ topics: string }, Tally & { start(): void; stop(): void }>({
  type: 'acme.tally',
  description: 'Counts the events published on the topics it subscribes to.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['topics'],
    properties: { topics: { type: 'string', minLength: 1, description: 'a topic, or prefix.* for a subtree' } },
  },
  provides: [tallyContract],
  create(config, ctx) {
    const seen = new Map<string, { count: number; last: unknown }>()
    const events: EventsService = ctx.service('events')
    let unsubscribe: (() => void) | undefined
    return {
      count: (topic) => seen.get(topic)?.count ?? 0,
      last: (topic) => seen.get(topic)?.last ?? null,
      start() {
        unsubscribe = events.subscribe(config.topics, (event) => {
          const entry = seen.get(event.topic) ?? { count: 0, last: null }
          seen.set(event.topic, { count: entry.count + 1, last: event.payload })
        })
      },
      stop() { unsubscribe?.() },
    }
  },
})

export const tallyRead = defineStepType<{ tally: string; topic: string }>({
  type: 'acme.tally-read',
  description: 'Outputs { count, last } for a topic of an acme.tally module.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['tally', 'topic'],
    properties: { tally: moduleRef('the acme.tally module to read', tallyContract), topic: { type: 'string', minLength: 1 } },
  },
  create(config, ctx) {
    const counter = ctx.module(config.tally, tallyContract)
    return () => ({ count: counter.count(config.topic), last: counter.last(config.topic) })
  },
})
