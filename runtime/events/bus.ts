// The engine's event bus: components emit through their granted capability; later issues add subscribers.

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

/** Does `topic` match a pattern (`orders.created`, or `orders.*` for any topic under `orders.`)? */
export function topicMatches(pattern: string, topic: string): boolean {
  return pattern.endsWith('.*') ? topic.startsWith(pattern.slice(0, -1)) && topic.length > pattern.length - 1 : pattern === topic
}

export function createEventBus(): EventBus {
  const subscribers = new Set<{ pattern: string; handler: (event: EngineEvent) => void }>()
  return {
    publish(event) {
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
