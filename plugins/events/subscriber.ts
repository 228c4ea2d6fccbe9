// events.subscriber: pipelines subscribed to bus topics. Each subscription has its own lane (lane.ts): bounded
// concurrency, a bounded queue, drops past it, an onError policy. In-process delivery is at most once: an event
// lives only in memory until its run ends, so a crash (or a stop with events still queued) loses it. A `durable`
// subscription puts each event on a queue (the queue.jobs contract) instead; from there the queue's consumer
// pipeline runs it at least once.
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import {
  defineContract, defineModuleType, moduleRef, pipelineRef,
  type BusEvent, type ConfigProblem, type ModuleInstance, type PipelineResponse,
} from '@islet/sdk'
import { EventsError } from './errors.ts'
import { jobQueue, type JobQueue } from '../queue/contract.ts'
import { checkSubscriptionsFed } from './app-check.ts'
import { createLane, type LaneCounts } from './lane.ts'
import { patternProblem } from './topics.ts'

export interface SubscriptionConfig {
  readonly topic: string
  readonly pipeline?: string
  readonly durable?: { readonly queue: string }
  readonly concurrency: number
  readonly maxQueued: number
  readonly onError: 'log' | 'retry'
  readonly retry: { readonly attempts: number; readonly backoffMs: number; readonly maxBackoffMs: number }
}

/** The longest wait between two attempts of an event: a day. */
const MAX_BACKOFF_MS = 86_400_000

export interface SubscriberConfig {
  readonly subscriptions: readonly SubscriptionConfig[]
}

/** What a module of the same name in the next config generation asks of this one when it takes over. */
interface Handover {
  /** Stops taking new events; what is in flight or queued goes on until this module stops. */
  detach(): void
}
const handover = defineContract<Handover>('events.subscriber-handover', { detach: 'function' },
  'lets the next generation of a subscriber take over the bus subscriptions without two of them delivering an event twice')

export interface SubscriptionStatus extends LaneCounts {
  topic: string
  pipeline?: string
  queue?: string
}

export interface Subscriber extends ModuleInstance, Handover {
  status(): { subscriptions: SubscriptionStatus[] }
}

export default defineModuleType<SubscriberConfig, Subscriber>({
  type: 'events.subscriber',
  description: 'Runs pipelines for the events on the bus whose topics match its subscriptions (orders.*), each with its own concurrency, queue bound and error policy; durable subscriptions go through a queue.',
  provides: [handover],
  configSchema: {
    type: 'object', additionalProperties: false, required: ['subscriptions'],
    properties: {
      subscriptions: {
        type: 'array', minItems: 1,
        items: {
          type: 'object', additionalProperties: false, required: ['topic'],
          properties: {
            topic: { type: 'string', minLength: 1, description: 'a topic (orders.created) or a prefix followed by .* (orders.*)' },
            pipeline: pipelineRef('the pipeline each event runs (input: the payload; meta: topic, source, at, attempt)', { trigger: 'event' }),
            durable: {
              type: 'object', additionalProperties: false, required: ['queue'],
              description: 'enqueue each event instead of running a pipeline here: the queue\'s consumer pipeline runs it, at least once',
              properties: { queue: moduleRef('the queue module (queue.sqlite) to put events on', jobQueue) },
            },
            concurrency: { type: 'integer', minimum: 1, maximum: 1000, default: 1, description: 'deliveries in flight at once; 1 keeps publish order' },
            maxQueued: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 1000, description: 'events waiting in memory past concurrency; more are dropped (counted, logged)' },
            onError: { enum: ['log', 'retry'], default: 'log', description: 'log: a failed run is logged and counted; retry: run again per `retry`' },
            retry: {
              type: 'object', additionalProperties: false, default: {},
              properties: {
                attempts: { type: 'integer', minimum: 1, maximum: 100, default: 3, description: 'attempts in all, the first included' },
                // At most a day: a longer wait is for a durable queue, and a timer cannot wait 2^31 ms (it fires at once).
                backoffMs: { type: 'integer', minimum: 0, maximum: MAX_BACKOFF_MS, default: 1000, description: 'wait before the 2nd attempt; doubles each time (with jitter); at most a day' },
                maxBackoffMs: { type: 'integer', minimum: 0, maximum: MAX_BACKOFF_MS, default: 30000, description: 'the longest wait between attempts; at most a day (86400000)' },
              },
            },
          },
        },
      },
    },
  },
  check: checkSubscriptions,
  checkApp: checkSubscriptionsFed,
  create(config, ctx) {
    const events = ctx.service('events')
    // The bus calls a handler in the publisher's async context. A delivery is a run of its own, not part of the
    // publisher's, so it runs in the module's: what the publishing run carries must not leak into it (the state
    // plugin's record of transitions in progress would take this run's transition of the same instance, made after
    // the publisher's commit, for a re-entry and refuse it).
    const detached = AsyncLocalStorage.snapshot()
    const abort = new AbortController()
    let unsubscribes: (() => void)[] = []
    const lanes = config.subscriptions.map((sub) => {
      const logger = ctx.logger.child({ subscription: sub.topic, ...(sub.pipeline ? { pipeline: sub.pipeline } : {}) })
      const deliver = sub.durable ? enqueueTo(ctx.module(sub.durable.queue, jobQueue), sub) : runPipeline(sub)
      return createLane({
        concurrency: sub.concurrency, maxQueued: sub.maxQueued, signal: abort.signal, logger, deliver,
        attempts: sub.onError === 'retry' ? sub.retry.attempts : 1, backoffMs: sub.retry.backoffMs, maxBackoffMs: sub.retry.maxBackoffMs,
      })
    })

    function runPipeline(sub: SubscriptionConfig) {
      const pipeline = ctx.pipeline(sub.pipeline!)
      return async (event: BusEvent, attempt: number) => {
        const response = await pipeline.run({
          trigger: 'event', id: eventId(event), input: event.payload,
          meta: { topic: event.topic, source: event.source, at: event.at, subscription: sub.topic, attempt },
          // No `pipeline`: the steps that log (log, retry) name their pipeline themselves, and a key said twice is noise.
        }, { logger: ctx.logger.child({ subscription: sub.topic, topic: event.topic }), signal: abort.signal })
        // A respond step's error status is the pipeline saying it failed, as a throw would: the error policy applies.
        if (response.status >= 400) throw answeredError(sub, event, response)
        return response
      }
    }

    const detach = () => {
      for (const undo of unsubscribes) undo()
      unsubscribes = []
    }
    return {
      // Subscribed at commit, not start: a generation that is rolled back never took an event, and the generation it
      // replaces is detached in the same synchronous step, so no event is delivered by both.
      commit() {
        ctx.previous(handover)?.detach()
        unsubscribes = config.subscriptions.map((sub, i) => events.subscribe(sub.topic, (event) => detached(() => lanes[i]!.offer(event))))
      },
      detach,
      async stop() {
        detach()
        abort.abort(new Error(`module ${ctx.name} is stopping`))
        await Promise.all(lanes.map((lane) => lane.close()))
      },
      status: () => ({
        subscriptions: config.subscriptions.map((sub, i) => ({
          topic: sub.topic, ...(sub.pipeline ? { pipeline: sub.pipeline } : {}), ...(sub.durable ? { queue: sub.durable.queue } : {}),
          ...lanes[i]!.counts(),
        })),
      }),
    }
  },
})

/** The event's id: the bus gives events none, so each delivery gets one (`evt-<uuid>`), shared by its retries. */
const ids = new WeakMap<BusEvent, string>()
function eventId(event: BusEvent): string {
  let id = ids.get(event)
  if (!id) ids.set(event, id = `evt-${randomUUID()}`)
  return id
}

/** A run that answered an error status as the failure the lane retries and logs, with the body's error if it has one. */
function answeredError(sub: SubscriptionConfig, event: BusEvent, response: PipelineResponse): EventsError {
  const body = response.body as { error?: { code?: unknown; message?: unknown } } | undefined
  const code = typeof body?.error?.code === 'string' ? body.error.code : undefined
  const said = typeof body?.error?.message === 'string' ? `: ${body.error.message}` : ''
  return new EventsError('ERR_EVENTS_RUN_FAILED', `pipeline '${sub.pipeline}' answered ${response.status}${code ? ` ${code}` : ''}${said} ` +
    `for event '${event.topic}'`, { details: { status: response.status, ...(code ? { answered: code } : {}) } })
}

/**
 * A durable subscription's delivery: the whole event goes on the queue, so its consumer pipeline sees
 * `input.topic`, `input.payload`, `input.source`, `input.at` and `input.id`. The enqueue resolves once the job is stored.
 */
function enqueueTo(queue: JobQueue, sub: SubscriptionConfig) {
  return (event: BusEvent) => queue.enqueue({
    id: eventId(event), topic: event.topic, source: event.source, at: event.at, subscription: sub.topic, payload: event.payload,
  })
}

/** What the schema cannot say: the pattern's syntax, and that each subscription runs a pipeline or is durable. */
function checkSubscriptions(config: SubscriberConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  config.subscriptions.forEach((sub, i) => {
    const bad = patternProblem(sub.topic)
    if (bad) problems.push({ path: ['subscriptions', i, 'topic'], ...bad })
    if (sub.pipeline === undefined && sub.durable === undefined) {
      problems.push({ path: ['subscriptions', i], message: `subscription to '${sub.topic}' names neither a pipeline nor a durable queue`,
        hint: 'add pipeline: <name> to run a pipeline here, or durable: { queue: <queue module> } to put each event on a queue' })
    } else if (sub.pipeline !== undefined && sub.durable !== undefined) {
      problems.push({ path: ['subscriptions', i, 'durable'], message: `subscription to '${sub.topic}' has both a pipeline and a durable queue`,
        hint: "a durable subscription's events are run by the queue's consumer pipeline: remove pipeline:, or remove durable: to run it here (at most once)" })
    }
  })
  return problems
}
