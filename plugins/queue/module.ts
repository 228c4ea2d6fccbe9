// The queue.sqlite module type: one module is one named durable queue (its module's name), kept with the app's other
// queues in <dataDir>/queues.db. It provides the `queue.jobs` contract (enqueue) and, when `consumer:` is set, runs
// that pipeline for each job: at least once, under a lease, with retries and a dead-letter queue.
import { join } from 'node:path'
import { defineModuleType, MAX_TIMER_MS, pipelineRef, type ModuleContext, type ModuleInstance } from '@islet/sdk'
import type Database from 'better-sqlite3'
import { jobQueue, type EnqueueOptions, type EnqueueResult, type JobQueue } from './contract.ts'
import { checkConsumed } from './app-check.ts'
import { createBatcher, type Batcher } from './batch.ts'
import { createConsumer, type Consumer } from './consumer.ts'
import { deadLetters } from './dead-event.ts'
import { durationProblems, durationSchema, toMs, type Duration } from './duration.ts'
import { QueueError } from './errors.ts'
import { QUEUES_FILE, openQueueDatabase, queueStatements, type QueueCounts, type QueueStatements, type QueueSynchronous } from './store.ts'
import { QUEUE_TRIGGER } from './trigger.ts'
import { mountQueueAdmin } from './admin-routes.ts'

export interface QueueConfig {
  pollInterval: Duration
  retention: Duration
  maxPayloadBytes: number
  busyTimeoutMs: number
  synchronous: QueueSynchronous
  consumer?: {
    pipeline: string
    concurrency: number
    visibilityTimeout: Duration
    timeout: Duration
    maxAttempts: number
    retries: { delay: Duration; factor: number; maxDelay: Duration; jitter: number }
    stopGrace: Duration
  }
}

/** What a queue.sqlite module is to others: the `queue.jobs` contract, plus what its admin routes and tests read. */
export interface QueueModule extends ModuleInstance, JobQueue {
  /** Its statements while started (the admin routes' dead-letter operations); throws ERR_QUEUE_NOT_STARTED otherwise. */
  readonly store: QueueStatements
  /** Waiting (due), delayed, running, dead and done counts, from the file (all processes). */
  counts(): QueueCounts
  /** Claim now (a dead job retried through the admin API of this process). */
  wake(): void
}

const MAX_KEY = 200
const MAX_PRIORITY = 1_000_000
/**
 * The engine gives a module 15 s to stop (runtime/engine DEFAULT_TIMEOUTS.stopMs); after the grace, aborting the
 * runs left and giving their jobs back needs time too, so a longer grace would only be cut short.
 */
export const MAX_STOP_GRACE_MS = 10_000

export const queueConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pollInterval: durationSchema('how often the consumer looks for jobs it was not told about: enqueued by another engine process, ' +
      'or leases of a crashed consumer run out (jobs enqueued in this process, and retries it schedules, wake it at once)', 1000, 10, MAX_TIMER_MS),
    retention: durationSchema('how long completed jobs are kept; while one is, its idempotency key dedupes', '7d', 0),
    maxPayloadBytes: { type: 'integer', minimum: 2, maximum: 16 * 1024 * 1024, default: 1024 * 1024, description: 'the largest job payload, as JSON text' },
    busyTimeoutMs: { type: 'integer', minimum: 0, default: 5000, description: 'how long a write waits for another process\'s lock on queues.db' },
    synchronous: {
      enum: ['normal', 'full'], default: 'normal',
      description: 'normal: a committed enqueue or completion survives a crash of the engine (kill -9), the last ones may be lost to a ' +
        'power cut or OS crash; full: an fsync per commit (per batch of writes), so they survive that too (at concurrency 1: 1.8× the CPU per job, 0.42× the jobs/s)',
    },
    consumer: {
      type: 'object',
      additionalProperties: false,
      required: ['pipeline'],
      description: 'runs a pipeline for each job (trigger `queue`: input is the payload, job/meta say which job and attempt)',
      properties: {
        pipeline: pipelineRef('the pipeline each job runs', { trigger: QUEUE_TRIGGER }),
        concurrency: { type: 'integer', minimum: 1, maximum: 1000, default: 1, description: 'jobs run at once by each engine process' },
        visibilityTimeout: durationSchema('the lease of a claimed job: renewed while its run lasts; if its process dies, the job is ' +
          'claimed again once the lease runs out', '30s', 100, MAX_TIMER_MS),
        timeout: durationSchema('a run longer than this is aborted and counts as a failed attempt (ERR_QUEUE_JOB_TIMEOUT)', '5m', 1, MAX_TIMER_MS),
        maxAttempts: { type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'runs before a failing job moves to the dead-letter queue' },
        retries: {
          type: 'object', additionalProperties: false, default: {},
          description: 'the wait before a retry: delay × factor^(attempt-1), at most maxDelay, less a random part of up to jitter of it',
          properties: {
            delay: durationSchema('the wait after the first failure', '1s', 0, MAX_TIMER_MS),
            factor: { type: 'number', minimum: 1, maximum: 10, default: 2 },
            maxDelay: durationSchema('the longest wait', '10m', 0, MAX_TIMER_MS),
            jitter: { type: 'number', minimum: 0, maximum: 1, default: 0.2, description: 'the share of each wait that is random (0: none)' },
          },
        },
        stopGrace: durationSchema('on stop (shutdown, reload), how long running jobs may finish before they are aborted and given back; ' +
          'at most 10s, within the 15 s the engine gives a module to stop', '5s', 0, MAX_STOP_GRACE_MS),
      },
    },
  },
} as const

export default defineModuleType<QueueConfig, QueueModule>({
  type: 'queue.sqlite',
  description: 'A durable job queue in <dataDir>/queues.db (SQLite, WAL): enqueue with delay, priority and idempotency key; ' +
    'a consumer pipeline with concurrency, leases, retries with backoff and a dead-letter queue.',
  configSchema: queueConfigSchema,
  // Durations set timers: the text form ('30d') is held to the bounds the schema gives the integer form.
  check: (config) => durationProblems(queueConfigSchema, config),
  provides: [jobQueue],
  checkApp: checkConsumed,
  create: createQueueModule,
})

export function createQueueModule(config: QueueConfig, ctx: ModuleContext): QueueModule {
  const name = ctx.name
  const file = join(ctx.dataDir, QUEUES_FILE)
  let db: Database.Database | undefined
  let statements: QueueStatements | undefined
  let batch: Batcher | undefined
  let consumer: Consumer | undefined
  let unmount: (() => void) | undefined
  let state: 'created' | 'started' | 'stopped' = 'created'

  const open = (): { store: QueueStatements; batch: Batcher } => {
    if (state === 'started' && statements && batch) return { store: statements, batch }
    throw new QueueError('ERR_QUEUE_NOT_STARTED', `queue '${name}' ${state === 'created' ? 'has not started yet' : 'has stopped'}: ` +
      `enqueue from steps, or from a module that references '${name}' (it starts first)`, { details: { queue: name, state } })
  }

  const instance: QueueModule = {
    name,
    get store() { return open().store },
    counts: () => open().store.counts(Date.now()),
    wake: () => consumer?.wake(),

    async enqueue(payload: unknown, options: EnqueueOptions = {}): Promise<EnqueueResult> {
      const { store, batch } = open()
      const job = {
        payload: payloadText(payload, name, config.maxPayloadBytes),
        runAt: Date.now() + delayOf(options.delayMs, name),
        priority: priorityOf(options.priority, name),
        key: keyOf(options.key, name),
      }
      const [result] = await batch.write(() => store.enqueue([job], Date.now()))
      if (!result!.deduped) consumer?.wake()
      return result!
    },

    start() {
      db = openQueueDatabase(file, config.busyTimeoutMs, config.synchronous)
      try {
        statements = queueStatements(db, name)
      } catch (error) {
        // Release the file: the engine records the failure and may never call stop().
        db.close()
        throw error
      }
      batch = createBatcher(db)
      state = 'started'
      if (config.consumer) {
        const c = config.consumer
        consumer = createConsumer(statements, batch, {
          queue: name, pipeline: ctx.pipeline(c.pipeline), concurrency: c.concurrency,
          visibilityMs: Math.max(100, toMs(c.visibilityTimeout)), timeoutMs: Math.max(1, toMs(c.timeout)), maxAttempts: c.maxAttempts,
          retry: { delayMs: toMs(c.retries.delay), factor: c.retries.factor, maxDelayMs: toMs(c.retries.maxDelay), jitter: c.retries.jitter },
          pollMs: Math.max(10, toMs(config.pollInterval)), stopGraceMs: toMs(c.stopGrace), retentionMs: toMs(config.retention),
          logger: ctx.logger,
          onDead: deadLetters(ctx.service('events'), name, ctx.logger),
        })
      }
      unmount = mountQueueAdmin(ctx, instance)
    },

    commit() {
      // Runs begin once the generation serves: a reload that is rolled back never ran a job on the new config.
      consumer?.start()
    },

    async stop() {
      if (state === 'stopped') return
      state = 'stopped'
      unmount?.()
      await consumer?.stop()
      batch?.flush()
      db?.close()
      db = undefined
    },

    status() {
      if (state !== 'started') return { state }
      return { file, ...open().store.counts(Date.now()), ...(consumer ? { consumer: consumer.stats() } : {}) }
    },
  }
  return instance
}

function payloadText(payload: unknown, queue: string, max: number): string {
  let text: string | undefined
  try {
    text = JSON.stringify(payload)
  } catch (error) {
    throw new QueueError('ERR_QUEUE_PAYLOAD', `queue '${queue}': the payload cannot be stored as JSON: ${(error as Error).message}`, { details: { queue } })
  }
  if (text === undefined) {
    throw new QueueError('ERR_QUEUE_PAYLOAD', `queue '${queue}': the payload is ${typeof payload}, which JSON cannot hold; enqueue a JSON value (null for none)`, { details: { queue } })
  }
  if (text.length > max) {
    throw new QueueError('ERR_QUEUE_PAYLOAD', `queue '${queue}': the payload is ${text.length} characters of JSON, over the queue's maxPayloadBytes ${max}; ` +
      'store the data elsewhere and enqueue its id', { details: { queue, length: text.length, max } })
  }
  return text
}

function delayOf(value: unknown, queue: string): number {
  if (value === undefined || value === null) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new QueueError('ERR_QUEUE_OPTIONS', `queue '${queue}': delay is ${JSON.stringify(value)}; give milliseconds, 0 or more`, { details: { queue, option: 'delay' } })
  }
  return Math.round(value)
}

function priorityOf(value: unknown, queue: string): number {
  if (value === undefined || value === null) return 0
  if (!Number.isInteger(value) || Math.abs(value as number) > MAX_PRIORITY) {
    throw new QueueError('ERR_QUEUE_OPTIONS', `queue '${queue}': priority is ${JSON.stringify(value)}; give an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY} (higher runs first)`,
      { details: { queue, option: 'priority' } })
  }
  return value as number
}

function keyOf(value: unknown, queue: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY) {
    throw new QueueError('ERR_QUEUE_OPTIONS', `queue '${queue}': key is ${JSON.stringify(value)?.slice(0, 60)}; give a string of 1 to ${MAX_KEY} characters (e.g. the order id)`,
      { details: { queue, option: 'key' } })
  }
  return value
}
