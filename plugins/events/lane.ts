// One subscription's delivery lane: at most `concurrency` deliveries in flight, then a bounded FIFO in memory, then
// drops (counted, logged once per overflow). A failed delivery is retried per the onError policy while it keeps its
// slot, so a failing pipeline slows its own subscription down (backpressure) and never anyone else's.
import type { BusEvent, Logger } from '@islet/sdk'
import { isPermanentStatus, messageOf } from '@islet/sdk'

export interface LaneOptions {
  concurrency: number
  maxQueued: number
  /** Total attempts per event: 1 = no retry. */
  attempts: number
  backoffMs: number
  maxBackoffMs: number
  /** Aborted when the module stops: waits end, queued events are discarded. */
  signal: AbortSignal
  logger: Logger
  /** Runs (or enqueues) one event; rejects when this attempt failed. */
  deliver(event: BusEvent, attempt: number): Promise<unknown>
}

export interface LaneCounts {
  delivered: number
  failed: number
  dropped: number
  retried: number
  inFlight: number
  queued: number
}

export interface Lane {
  offer(event: BusEvent): void
  counts(): LaneCounts
  /** Drops what waits (counted as dropped) and resolves once the deliveries in flight have settled. */
  close(): Promise<void>
}

export function createLane(o: LaneOptions): Lane {
  const queue: BusEvent[] = []
  const running = new Set<Promise<void>>()
  const c = { delivered: 0, failed: 0, dropped: 0, retried: 0 }
  let overflowDrops = 0 // drops since the queue last had room: one log line per overflow, not one per event

  const start = (event: BusEvent) => {
    const p = attemptAll(event).finally(() => {
      running.delete(p)
      const next = queue.shift()
      if (next && !o.signal.aborted) start(next)
      if (queue.length === 0 && overflowDrops > 0) {
        o.logger.warn({ dropped: overflowDrops }, `dropped ${overflowDrops} event(s) while the subscription's queue was full`)
        overflowDrops = 0
      }
    })
    running.add(p)
  }

  async function attemptAll(event: BusEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await o.deliver(event, attempt)
        c.delivered++
        return
      } catch (error) {
        if (attempt >= o.attempts || o.signal.aborted || refusedForGood(error)) {
          c.failed++
          o.logger.error({ err: error, topic: event.topic, attempts: attempt },
            `event '${event.topic}' failed after ${attempt} attempt(s): ${messageOf(error)}`)
          return
        }
        c.retried++
        const base = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** (attempt - 1))
        // Equal jitter: half fixed, half random, so retries of events that failed together spread out.
        const waitMs = base / 2 + Math.random() * (base / 2)
        o.logger.warn({ err: error, topic: event.topic, attempt, retryInMs: Math.round(waitMs) },
          `event '${event.topic}' failed (attempt ${attempt} of ${o.attempts}); retrying`)
        if (!(await sleep(waitMs, o.signal))) {
          c.failed++
          return
        }
      }
    }
  }

  return {
    offer(event) {
      if (o.signal.aborted) return
      if (running.size < o.concurrency) return start(event)
      if (queue.length < o.maxQueued) {
        queue.push(event)
        return
      }
      c.dropped++
      if (overflowDrops++ === 0) {
        o.logger.warn({ topic: event.topic, concurrency: o.concurrency, maxQueued: o.maxQueued },
          `subscription full (${o.concurrency} in flight, ${o.maxQueued} queued): dropping events until it has room`)
      }
    },
    counts: () => ({ ...c, inFlight: running.size, queued: queue.length }),
    async close() {
      c.dropped += queue.length
      if (queue.length > 0) o.logger.warn({ discarded: queue.length }, `stopping: ${queue.length} queued event(s) not delivered`)
      queue.length = 0
      while (running.size > 0) await Promise.allSettled([...running])
    },
  }
}

/** Waits `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); resolve(false) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', done); resolve(true) }, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** A run that failed with a permanent status (a `fail` step's, or one a `respond` answered): the event itself is wrong. */
function refusedForGood(error: unknown): boolean {
  const e = error as { status?: unknown; details?: { status?: unknown } } | undefined
  return isPermanentStatus(typeof e?.status === 'number' ? e.status : typeof e?.details?.status === 'number' ? e.details.status : 500)
}
