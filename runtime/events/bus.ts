// The engine's event bus: components emit through their granted capability; later issues add subscribers.
// Topics follow the grammar of topics.ts: publish refuses anything else, whoever calls it.
import { IsletError } from '../errors.ts'
import { topicMatches, topicProblem } from './topics.ts'

export interface EngineEvent {
  topic: string
  payload: unknown
  /** Who emitted it, e.g. `component:price-quote`. */
  source: string
  at: string
}

export interface EventBus {
  publish(event: EngineEvent): void
  /** `pattern` is a topic, or ends in `.*` for a whole subtree; returns the undo. */
  subscribe(pattern: string, handler: (event: EngineEvent) => void): () => void
}

export function createEventBus(): EventBus {
  const subscribers = new Set<{ pattern: string; handler: (event: EngineEvent) => void }>()
  return {
    publish(event) {
      const problem = topicProblem(event.topic)
      if (problem) throw new IsletError('ERR_EVENT_TOPIC_INVALID', `cannot publish an event: ${problem}`, { details: { source: event.source } })
      // Delivery is asynchronous: an emitting component never runs a subscriber on its own call stack.
      for (const s of subscribers) if (topicMatches(s.pattern, event.topic)) queueMicrotask(() => s.handler(event))
    },
    subscribe(pattern, handler) {
      const entry = { pattern, handler }
      subscribers.add(entry)
      return () => { subscribers.delete(entry) }
    },
  }
}
