// A queue's consumer: claims due jobs (as many as it has free slots, in one statement), runs its pipeline for each
// under a lease it renews while the run lasts, and ends each claim: done, retried after an exponential backoff with
// jitter, or dead. It wakes at once when this process enqueues or a run ends, at the earliest due time it knows of,
// and at least every `pollMs` (jobs enqueued by other processes, leases of crashed consumers running out).
import { isStepError, type Logger, type Pipeline, type PipelineRunOptions } from '@islet/sdk'
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import type { Batcher } from './batch.ts'
import { QueueError } from './errors.ts'
import type { ClaimedJob, JobError, QueueStatements } from './store.ts'
import { QUEUE_TRIGGER } from './trigger.ts'

export interface ConsumerOptions {
  queue: string
  pipeline: Pipeline
  concurrency: number
  visibilityMs: number
  timeoutMs: number
  maxAttempts: number
  retry: { delayMs: number; factor: number; maxDelayMs: number; jitter: number }
  pollMs: number
  stopGraceMs: number
  /** How long done jobs (and so their idempotency keys) are kept. */
  retentionMs: number
  logger: Logger
  /** Injectable for tests: wall-clock milliseconds and the jitter's randomness. */
  now?: () => number
  random?: () => number
}

export interface ConsumerStats {
  running: number
  concurrency: number
  completed: number
  retried: number
  dead: number
}

interface Running {
  job: ClaimedJob
  controller: AbortController
  settled: Promise<void>
  /** Given back by stop(): whatever the run does later is not recorded. */
  abandoned: boolean
}

/** The statuses a run may end with that retrying cannot change: the job itself is wrong (400, 404, 422…). */
export function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429
}

/** The wait before attempt `attempt + 1` after `attempt` failed: delay × factor^(attempt-1), capped, less up to `jitter` of it. */
export function backoffMs(attempt: number, retry: ConsumerOptions['retry'], random: () => number): number {
  const raw = Math.min(retry.delayMs * retry.factor ** Math.max(0, attempt - 1), retry.maxDelayMs)
  return Math.round(raw * (1 - retry.jitter * random()))
}

export function createConsumer(store: QueueStatements, batch: Batcher, options: ConsumerOptions) {
  const { queue, pipeline, concurrency, logger } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  // This consumer's claims: a job's (id, lease, attempt) names one claim, so a late answer never ends another's.
  const lease = `${process.pid}.${randomUUID().slice(0, 8)}`
  const running = new Map<number, Running>()
  const stats: ConsumerStats = { running: 0, concurrency, completed: 0, retried: 0, dead: 0 }
  // A job's run is its own, not part of whatever woke the consumer (an enqueue inside some other run): it runs in the
  // consumer's async context, so that run's context does not leak into it (the state plugin would take a job's
  // transition of an instance the enqueuing transition is still moving for a re-entry, and refuse it).
  const detached = AsyncLocalStorage.snapshot()
  let stopped = false
  let live = false
  let claiming = false
  /** The claim in flight, which stop() waits for. */
  let claim: Promise<unknown> = Promise.resolve()
  let again = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerAt = Infinity
  let renewTimer: ReturnType<typeof setInterval> | undefined
  let lastMaintenance = 0

  /** Claims what free slots allow; called on enqueue, when a run ends, and by the timer. Never two claims at once. */
  function wake(): void {
    if (stopped || !live) return
    if (claiming) { again = true; return }
    const free = concurrency - running.size
    if (free <= 0) return
    claiming = true
    again = false
    let next: number | null = null
    claim = batch.write(() => {
      const t = now()
      maintain(t)
      const jobs = store.claim(free, lease, t + options.visibilityMs, t)
      // Fewer than asked: nothing more is due now, so sleep until the earliest waiting job is.
      if (jobs.length < free) next = store.nextDue()
      return jobs
    }).then(async (jobs) => {
      claiming = false
      if (stopped) {
        // Claimed while the module began to stop: given back at once, never started.
        const t = now()
        if (jobs.length > 0) await batch.write(() => { for (const job of jobs) store.release(job.id, lease, job.attempts, t) })
        return
      }
      for (const job of jobs) start(job)
      if (again || (jobs.length === free && jobs.length > 0)) { setImmediate(wake); return }
      arm(next === null ? Infinity : next)
    }, (error: unknown) => {
      claiming = false
      logger.error({ err: error, queue }, 'claiming jobs failed; trying again at the next poll')
      arm(Infinity)
    }).catch((error: unknown) => logger.error({ err: error, queue }, 'giving back jobs claimed during stop failed; their leases expire and they run again'))
  }

  /** Sets the timer for `due` (or the poll interval, whichever is sooner). */
  function arm(due: number): void {
    const at = Math.min(due, now() + options.pollMs)
    if (timer !== undefined && timerAt <= at) return
    clearTimeout(timer)
    timerAt = at
    timer = setTimeout(() => { timer = undefined; timerAt = Infinity; wake() }, Math.max(0, at - now()))
    timer.unref?.()
  }

  /** At most once per poll interval: take back expired leases of consumers that are gone, forget old done jobs. */
  function maintain(t: number): void {
    if (t - lastMaintenance < Math.min(options.pollMs, options.visibilityMs)) return
    lastMaintenance = t
    const reclaimed = store.reclaimExpired(t, options.maxAttempts)
    if (reclaimed.waiting + reclaimed.dead > 0) {
      logger.warn({ queue, ...reclaimed }, 'took back jobs whose lease expired (their consumer stopped or crashed mid-run)')
      stats.dead += reclaimed.dead
    }
    store.sweepDone(t - options.retentionMs)
  }

  function start(job: ClaimedJob): void {
    const controller = new AbortController()
    const entry: Running = { job, controller, settled: Promise.resolve(), abandoned: false }
    running.set(job.id, entry)
    stats.running = running.size
    if (running.size === 1) renewTimer ??= setInterval(renew, Math.max(10, Math.floor(options.visibilityMs / 3)))
    entry.settled = detached(() => run(job, controller)).then((outcome) => end(job, outcome), (error: unknown) => end(job, failure(job, error)))
  }

  type Outcome = { state: 'done' } | { state: 'waiting'; at: number; error: JobError } | { state: 'dead'; error: JobError } | { state: 'released' }

  async function run(job: ClaimedJob, controller: AbortController): Promise<Outcome> {
    let child: Logger | undefined
    const runOptions: PipelineRunOptions = {
      // Made only if a step logs: most jobs never do.
      get logger() { return child ??= logger.child({ queue, job: String(job.id), attempt: job.attempts }) },
      signal: controller.signal,
    }
    const facts = {
      queue, id: String(job.id), attempt: job.attempts, maxAttempts: options.maxAttempts, key: job.key,
      priority: job.priority, enqueuedAt: new Date(job.createdAt).toISOString(),
    }
    let deadline: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => {
        const error = new QueueError('ERR_QUEUE_JOB_TIMEOUT', `job ${job.id} of queue '${queue}' ran longer than its timeout (${options.timeoutMs} ms); it was aborted`)
        controller.abort(error)
        reject(error)
      }, options.timeoutMs)
    })
    try {
      const response = await Promise.race([
        pipeline.run({ trigger: QUEUE_TRIGGER, id: `${queue}#${job.id}`, input: JSON.parse(job.payload), meta: facts, view: { job: facts } }, runOptions),
        timedOut,
      ])
      if (response.status >= 400) {
        const body = response.body as { error?: { code?: unknown; message?: unknown } } | undefined
        const code = typeof body?.error?.code === 'string' ? body.error.code : 'ERR_QUEUE_JOB_FAILED'
        const message = typeof body?.error?.message === 'string' ? body.error.message : `the pipeline answered status ${response.status}`
        return failure(job, { status: response.status, code, message })
      }
      return { state: 'done' }
    } catch (error) {
      // Aborted because the module stops (not by the timeout): give the job back undone.
      if (controller.signal.aborted && stopped && !(controller.signal.reason instanceof QueueError)) return { state: 'released' }
      return failure(job, error)
    } finally {
      clearTimeout(deadline)
    }
  }

  function failure(job: ClaimedJob, error: unknown): Outcome {
    const e = error as { code?: unknown; message?: unknown; status?: unknown }
    const recorded: JobError = {
      code: typeof e?.code === 'string' ? e.code : 'ERR_QUEUE_JOB_FAILED',
      message: typeof e?.message === 'string' ? e.message.slice(0, 2000) : String(error).slice(0, 2000),
    }
    const status = isStepError(error) || typeof e?.status === 'number' ? Number(e.status) : 500
    if (isPermanent(status)) return { state: 'dead', error: recorded }
    if (job.attempts >= options.maxAttempts) return { state: 'dead', error: recorded }
    return { state: 'waiting', at: now() + backoffMs(job.attempts, options.retry, random), error: recorded }
  }

  async function end(job: ClaimedJob, outcome: Outcome): Promise<void> {
    if (running.get(job.id)?.abandoned) return
    const t = now()
    try {
      const ours = await batch.write(() => outcome.state === 'released'
        ? store.release(job.id, lease, job.attempts, t)
        : store.finish(job.id, lease, job.attempts, outcome.state, outcome.state === 'waiting' ? outcome.at : t, t, outcome.state === 'done' ? undefined : outcome.error))
      if (!ours) {
        logger.warn({ queue, job: String(job.id), attempt: job.attempts }, 'the job\'s lease had expired and another consumer took it over: this run\'s outcome is dropped')
      } else if (outcome.state === 'done') {
        stats.completed++
      } else if (outcome.state === 'waiting') {
        stats.retried++
        logger.warn({ queue, job: String(job.id), attempt: job.attempts, retryAt: new Date(outcome.at).toISOString(), err: outcome.error }, 'job failed; it will be retried')
      } else if (outcome.state === 'dead') {
        stats.dead++
        logger.error({ queue, job: String(job.id), attempt: job.attempts, err: outcome.error }, 'job failed for good: moved to the dead-letter queue')
      }
    } catch (error) {
      logger.error({ err: error, queue, job: String(job.id) }, 'recording the job\'s outcome failed; its lease will expire and it runs again')
    } finally {
      running.delete(job.id)
      stats.running = running.size
      if (running.size === 0) { clearInterval(renewTimer); renewTimer = undefined }
      wake()
    }
  }

  function renew(): void {
    if (running.size === 0) return
    batch.write(() => store.renew(lease, now() + options.visibilityMs))
      .catch((error: unknown) => logger.error({ err: error, queue }, 'renewing leases failed'))
  }

  return {
    wake,
    stats: () => ({ ...stats }),
    /** Begins claiming (the module's commit: once its generation serves). */
    start() { live = true; wake() },
    /** Claims nothing more; lets runs finish for stopGraceMs, then aborts the rest and gives their jobs back. */
    async stop(): Promise<void> {
      stopped = true
      clearTimeout(timer)
      await claim
      const settled = Promise.all([...running.values()].map((r) => r.settled))
      let grace: ReturnType<typeof setTimeout> | undefined
      const late = await Promise.race([settled.then(() => false), new Promise<boolean>((resolve) => { grace = setTimeout(() => resolve(true), options.stopGraceMs) })])
      clearTimeout(grace)
      if (late) {
        logger.warn({ queue, running: running.size }, `jobs still running ${options.stopGraceMs} ms after stop; aborting them (they run again later)`)
        // Given back now rather than when their runs notice the abort: a run that ignores its signal must not hold the stop.
        const left = [...running.values()]
        for (const r of left) { r.abandoned = true; r.controller.abort(new Error('the queue module is stopping')) }
        const t = now()
        await batch.write(() => { for (const r of left) store.release(r.job.id, lease, r.job.attempts, t) })
          .catch((error: unknown) => logger.error({ err: error, queue }, 'giving jobs back failed; their leases expire and they run again'))
        running.clear()
      }
      clearInterval(renewTimer)
    },
  }
}

export type Consumer = ReturnType<typeof createConsumer>
