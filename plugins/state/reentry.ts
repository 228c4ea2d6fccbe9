// Re-entry: a transition (or create) requested from inside a pipeline of a transition of the same instance still in
// progress — an on-enter pipeline with a state.transition step on its own meta.instance — would queue behind the
// transition that is waiting for that very pipeline: a deadlock. Each transition runs in an async context naming
// its instance, so the inner request can be refused at once instead. Work a pipeline starts and does not wait for is
// no re-entry, and is kept from looking like one: an entry stops counting once its transition has ended, the timers a
// transition arms are armed outside the context, and events.subscriber and the queue consumer run their pipelines in
// their own context, not the publisher's or enqueuer's. What the check cannot see: a request that leaves the process's
// async context on the way (an http.request to the machine's own route), which waits until its own timeout.
import { AsyncLocalStorage } from 'node:async_hooks'

interface Held {
  /** The machine's queue of transitions: what the inner request would wait in. */
  readonly queue: object
  readonly id: string
  active: boolean
}

const context = new AsyncLocalStorage<readonly Held[]>()

/** Whether the caller runs inside a transition of instance `id` of the machine owning `queue` that is still in progress. */
export function insideTransitionOf(queue: object, id: string): boolean {
  return context.getStore()?.some((held) => held.active && held.queue === queue && held.id === id) ?? false
}

/** Runs `work` (one transition of instance `id`) in a context that holds the instance until `work` settles. */
export async function holding<T>(queue: object, id: string, work: () => Promise<T>): Promise<T> {
  const held: Held = { queue, id, active: true }
  try {
    return await context.run([...(context.getStore() ?? []), held], work)
  } finally {
    held.active = false
  }
}

/** Runs `fn` outside every transition's context: a timer armed in there would carry it into each callback. */
export function outsideTransitions<T>(fn: () => T): T {
  return context.exit(fn)
}
