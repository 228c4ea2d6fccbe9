// The engine's one event bus: app events (components emit through their granted capability, modules and steps
// publish through the `events` service) and the engine's own (`islet.config.*`, `islet.component.*`: reloads).
// Topics follow the grammar of topics.ts: publish refuses anything else, whoever calls it; `islet.*` topics only the
// engine publishes, so a subscriber (the admin stream, a plugin) can trust them.
import type { BusEvent, Logger } from '@islet/sdk'
import { IsletError } from '../errors.ts'
import { topicMatches, topicProblem, TOPIC_PATTERN_SOURCE } from './topics.ts'

/** One event on the bus (the sdk's BusEvent). */
export type EngineEvent = BusEvent

/** The source the engine publishes its own `islet.*` events under; no component or module can take it. */
export const ENGINE_SOURCE = 'engine'

/** Topics under this prefix are the engine's own. */
export const ENGINE_TOPIC_PREFIX = 'islet.'

export interface EventBus {
  publish(event: EngineEvent): void
  /**
   * `pattern` is a topic, or ends in `.*` for a whole subtree; returns the undo. Handlers run asynchronously, in
   * publish order; one that throws (or rejects) is logged and never reaches the publisher.
   */
  subscribe(pattern: string, handler: (event: EngineEvent) => void | Promise<void>): () => void
}

const PATTERN = new RegExp(TOPIC_PATTERN_SOURCE)

export function createEventBus(options: { logger?: Logger } = {}): EventBus {
  const subscribers = new Set<{ pattern: string; handler: (event: EngineEvent) => void | Promise<void> }>()
  const failed = (pattern: string, event: EngineEvent) => (error: unknown) => {
    options.logger?.warn({ err: error, topic: event.topic, pattern }, `an event handler subscribed to '${pattern}' failed`)
  }
  return {
    publish(event) {
      const problem = topicProblem(event.topic)
      if (problem) throw new IsletError('ERR_EVENT_TOPIC_INVALID', `cannot publish an event: ${problem}`, { details: { source: event.source } })
      if (event.topic.startsWith(ENGINE_TOPIC_PREFIX) && event.source !== ENGINE_SOURCE) {
        throw new IsletError('ERR_EVENT_TOPIC_RESERVED',
          `${event.source} cannot publish '${event.topic}': topics under islet.* are the engine's own (subscribing to them is fine); pick a topic of your own, e.g. orders.created`,
          { details: { source: event.source, topic: event.topic } })
      }
      // Delivery is asynchronous: a publisher never runs a subscriber on its own call stack.
      for (const s of subscribers) {
        if (!topicMatches(s.pattern, event.topic)) continue
        queueMicrotask(() => {
          // Unsubscribed since the publish (its module stopped, or a handler that listens once): not delivered.
          if (!subscribers.has(s)) return
          try {
            const done = s.handler(event)
            if (done && typeof (done as Promise<void>).then === 'function') (done as Promise<void>).then(undefined, failed(s.pattern, event))
          } catch (error) {
            failed(s.pattern, event)(error)
          }
        })
      }
    },
    subscribe(pattern, handler) {
      if (typeof pattern !== 'string' || !PATTERN.test(pattern)) {
        throw new IsletError('ERR_EVENT_TOPIC_INVALID',
          `cannot subscribe to ${typeof pattern === 'string' ? `'${pattern.slice(0, 60)}'` : typeof pattern}: a pattern is a topic (orders.created) or a topic followed by .* (orders.*)`)
      }
      if (typeof handler !== 'function') throw new IsletError('ERR_EVENT_TOPIC_INVALID', `subscribe('${pattern}', handler): the handler must be a function`)
      const entry = { pattern, handler }
      subscribers.add(entry)
      return () => { subscribers.delete(entry) }
    },
  }
}

/** Publishes one of the engine's own events: `islet.<type>` (e.g. `islet.config.reloaded`) carrying `event` as is. */
export function publishEngineEvent(bus: EventBus, event: { type: string; at: string }): void {
  bus.publish({ topic: `${ENGINE_TOPIC_PREFIX}${event.type}`, payload: event, source: ENGINE_SOURCE, at: event.at })
}
