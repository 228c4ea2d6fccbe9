// A queue's consumer: claims due jobs (as many as it has free slots, in one statement), runs its pipeline for each
// under a lease it renews while the run lasts, and ends each claim: done, retried after an exponential backoff with
// jitter, or dead. It wakes at once when this process enqueues or a run ends, at the earliest due time it knows of,
// and at least every `pollMs` (jobs enqueued by other processes, leases of crashed consumers running out). Each claim
// has its own lease token: a run renews and ends only its own claim, so a run that outlived its lease (the job was
// claimed again, maybe by this very consumer) can neither end nor keep alive the claim that replaced it.
import { isPermanentStatus, isStepError, MAX_TIMER_MS, type Logger, type Pipeline, type PipelineRunOptions } from '@islet/sdk'
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import type { Batcher } from './batch.ts'
import { isQueueError, QueueError } from './errors.ts'
import { SWEEP_CHUNK, type ClaimedJob, type DeadJob, type JobError, type QueueStatements } from './store.ts'
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
  /**
   * Told of each job that went dead in this process (out of attempts, failed for good, or its lease ran out in its
   * last attempt), once the change is committed. Must not throw.
   */
  onDead?: (job: DeadJob) => void
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

/** The wait before attempt `attempt + 1` after `attempt` failed: delay × factor^(attempt-1), capped, less up to `jitter` of it. */
export function backoffMs(attempt: number, retry: ConsumerOptions['retry'], random: () => number): number {
  const raw = Math.min(retry.delayMs * retry.factor ** Math.max(0, attempt - 1), retry.maxDelayMs)
  return Math.round(raw * (1 - retry.jitter * random()))
}

export function createConsumer(store: QueueStatements, batch: Batcher, options: ConsumerOptions) {
  const { queue, pipeline, concurrency, logger } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  // This consumer's claims: each claim statement gets its own lease token, and a job's (id, lease, attempt) names one
  // claim, so a late answer never ends another's — not even a later claim of the same job by this consumer.
  const consumerId = `${process.pid}.${randomUUID().slice(0, 8)}`
  let claims = 0
  /** Runs going on, by run (not by job id: a run that lost its lease and the one that claimed the job again both count). */
  const running = new Set<Running>()
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

  /**
   * Claims what free slots allow; called on enqueue, when a run ends, and by the timer. Never two claims at once.
   * Runs in the consumer's own async context, whoever called it (an enqueue inside a state transition): the claim,
   * the timers it arms, the runs and what they publish must not carry that caller's context along.
   */
  function wake(): void {
    detached(claimDue)
  }

  function claimDue(): void {
    if (stopped || !live) return
    if (claiming) { again = true; return }
    const free = concurrency - running.size
    if (free <= 0) return
    claiming = true
    again = false
    const lease = `${consumerId}.${++claims}`
    let next: number | null = null
    // What maintenance did, acted on once the batch committed (a rolled-back batch, re-run, did it again from scratch).
    let maintained: Maintenance | undefined
    claim = batch.write(() => {
      const t = now()
      maintained = t - lastMaintenance < Math.min(options.pollMs, options.visibilityMs) ? undefined : maintain(t)
      // Nothing due yet (only delayed jobs, or none): the claim would scan every delayed job for nothing.
      const due = store.nextDue()
      if (due === null || due > t) { next = due; return [] }
      const jobs = store.claim(free, lease, t + options.visibilityMs, t)
      // Fewer than asked: nothing more is due now, so sleep until the earliest waiting job is.
      if (jobs.length < free) next = store.nextDue()
      return jobs
    }).then(async (jobs) => {
      claiming = false
      if (maintained) afterMaintenance(maintained)
      if (stopped) {
        // Claimed while the module began to stop: given back at once, never started.
        const t = now()
        if (jobs.length > 0) await batch.write(() => { for (const job of jobs) store.release(job.id, job.lease, job.attempts, t) })
        return
      }
      for (const job of jobs) start(job)
      if (again || (jobs.length === free && jobs.length > 0)) { setImmediate(wake); return }
      arm(next === null ? Infinity : next)
    }, (error: unknown) => {
      claiming = false
      if (stopped) return
      logger.error({ err: error, queue }, 'claiming jobs failed; trying again at the next poll')
      arm(Infinity)
    }).catch((error: unknown) => logger.error({ err: error, queue }, 'giving back jobs claimed during stop failed; their leases expire and they run again'))
  }

  /**
   * Sets the timer for `due` (or the poll interval, whichever is sooner). A job delayed by days is found by its due
   * time in the file, never by one long timer: the wait is capped at what a Node timer can hold.
   */
  function arm(due: number): void {
    const at = Math.min(due, now() + options.pollMs)
    if (timer !== undefined && timerAt <= at) return
    clearTimeout(timer)
    timerAt = at
    timer = setTimeout(() => { timer = undefined; timerAt = Infinity; wake() }, Math.min(MAX_TIMER_MS, Math.max(0, at - now())))
    timer.unref?.()
  }

  /** What one maintenance pass did inside a claim's batch. */
  interface Maintenance { at: number; waiting: number; died: DeadJob[]; sweepBefore: number | undefined }

  /**
   * At most once per poll interval (the caller checks): take back expired leases of consumers that are gone, forget a
   * first chunk of old done jobs. Writes only: what it did is counted, logged and told in afterMaintenance, once the
   * batch committed.
   */
  function maintain(t: number): Maintenance {
    const died: DeadJob[] = []
    const reclaimed = store.reclaimExpired(t, options.maxAttempts, (job) => { died.push(job) })
    const before = t - options.retentionMs
    return { at: t, waiting: reclaimed.waiting, died, sweepBefore: store.sweepDone(before, SWEEP_CHUNK) === SWEEP_CHUNK ? before : undefined }
  }

  function afterMaintenance(m: Maintenance): void {
    lastMaintenance = m.at
    if (m.waiting + m.died.length > 0) {
      logger.warn({ queue, waiting: m.waiting, dead: m.died.length }, 'took back jobs whose lease expired (their consumer stopped or crashed mid-run)')
      stats.dead += m.died.length
    }
    for (const job of m.died) options.onDead?.(job)
    // More old done jobs than one chunk: the rest in batches of their own.
    if (m.sweepBefore !== undefined) sweep(m.sweepBefore)
  }

  /** Deletes the rest of the old done jobs a chunk per batch, so enqueues and claims get the lock in between. */
  function sweep(before: number): void {
    if (stopped) return
    batch.write(() => store.sweepDone(before, SWEEP_CHUNK))
      .then((deleted) => { if (deleted === SWEEP_CHUNK) sweep(before) })
      .catch((error: unknown) => logger.error({ err: error, queue }, 'deleting old done jobs failed; trying again at the next poll'))
  }

  function start(job: ClaimedJob): void {
    const controller = new AbortController()
    const entry: Running = { job, controller, settled: Promise.resolve(), abandoned: false }
    running.add(entry)
    stats.running = running.size
    if (running.size === 1) renewTimer ??= setInterval(renew, Math.max(10, Math.floor(options.visibilityMs / 3)))
    entry.settled = detached(() => run(job, controller)).then((outcome) => end(entry, outcome), (error: unknown) => end(entry, failure(job, error)))
  }

  type Outcome = { state: 'done' } | { state: 'waiting'; at: number; error: JobError } | { state: 'dead'; error: JobError } | { state: 'released' }

  async function run(job: ClaimedJob, controller: AbortController): Promise<Outcome> {
    let child: Logger | undefined
    const runOptions: PipelineRunOptions = {
      // Made only if a step logs: most jobs never do.
      // `jobAttempt`, not `attempt`: steps that retry (retry, http.request) log their own `attempt` on this logger.
      get logger() { return child ??= logger.child({ queue, job: String(job.id), jobAttempt: job.attempts }) },
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
    if (isPermanentStatus(status)) return { state: 'dead', error: recorded }
    if (job.attempts >= options.maxAttempts) return { state: 'dead', error: recorded }
    return { state: 'waiting', at: now() + backoffMs(job.attempts, options.retry, random), error: recorded }
  }

  async function end(entry: Running, outcome: Outcome): Promise<void> {
    // Given back by stop(): its job is waiting again (or the file closed); what this run did is not recorded.
    if (entry.abandoned) return
    const { job } = entry
    try {
      const ours = await recordOutcome(entry, outcome)
      if (!ours) {
        logger.warn({ queue, job: String(job.id), attempt: job.attempts }, 'the job\'s lease had expired and the job was claimed again: this run\'s outcome is dropped')
      } else if (outcome.state === 'done') {
        stats.completed++
      } else if (outcome.state === 'waiting') {
        stats.retried++
        logger.warn({ queue, job: String(job.id), attempt: job.attempts, retryAt: new Date(outcome.at).toISOString(), err: outcome.error }, 'job failed; it will be retried')
      } else if (outcome.state === 'dead') {
        stats.dead++
        logger.error({ queue, job: String(job.id), attempt: job.attempts, err: outcome.error }, 'job failed for good: moved to the dead-letter queue')
        options.onDead?.({ id: job.id, payload: job.payload, attempts: job.attempts, key: job.key, error: outcome.error })
      }
    } catch (error) {
      // Given back by stop() while the write waited: nothing to record.
      if (!entry.abandoned) logger.error({ err: error, queue, job: String(job.id) }, 'recording the job\'s outcome failed; its lease will expire and it runs again')
    } finally {
      running.delete(entry)
      stats.running = running.size
      if (running.size === 0) { clearInterval(renewTimer); renewTimer = undefined }
      wake()
    }
  }

  /**
   * Writes a run's outcome. queues.db held by another process past busyTimeoutMs is waited out rather than given up:
   * the run stays among the running, so its lease is still renewed, and the write is tried again with a growing
   * pause until it lands, the claim is lost (renewal aborts the run) or the module gives the job back on stop.
   * Giving up would let the lease run out and a job that succeeded run again.
   */
  async function recordOutcome(entry: Running, outcome: Outcome): Promise<boolean> {
    const { job } = entry
    for (let attempt = 0; ; attempt++) {
      const t = now()
      try {
        return await batch.write(() => outcome.state === 'released'
          ? store.release(job.id, job.lease, job.attempts, t)
          : store.finish(job.id, job.lease, job.attempts, outcome.state, outcome.state === 'waiting' ? outcome.at : t, t, outcome.state === 'done' ? undefined : outcome.error))
      } catch (error) {
        const lost = entry.controller.signal.aborted && entry.controller.signal.reason instanceof QueueError && entry.controller.signal.reason.code === 'ERR_QUEUE_LEASE_LOST'
        if (!isQueueError(error, 'ERR_QUEUE_BUSY') || entry.abandoned || lost) throw error
        if (attempt === 0) logger.warn({ queue, job: String(job.id), err: error }, 'recording the job\'s outcome waits for queues.db, locked by another process')
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)))
      }
    }
  }

  /**
   * Moves on the lease of each run's own claim. A claim no longer held (its lease ran out while the event loop
   * stalled, and the job was taken back) is not renewed: its run is aborted, as its outcome would be dropped anyway.
   */
  function renew(): Promise<void> {
    const runs = [...running]
    if (runs.length === 0) return Promise.resolve()
    return batch.write(() => {
      const until = now() + options.visibilityMs
      return runs.filter((r) => !store.renew(r.job.id, r.job.lease, r.job.attempts, until))
    }).then((lost) => {
      for (const r of lost) {
        // Ended meanwhile (its outcome was recorded in the same batch, before the renewal): nothing to abort.
        if (!running.has(r) || r.abandoned || r.controller.signal.aborted) continue
        logger.warn({ queue, job: String(r.job.id), attempt: r.job.attempts }, 'the run\'s lease ran out and its job was taken back (to run again, or dead): aborting this run')
        r.controller.abort(new QueueError('ERR_QUEUE_LEASE_LOST', `job ${r.job.id} of queue '${queue}': the lease of attempt ${r.job.attempts} ran out while it ran ` +
          '(the event loop stalled longer than visibilityTimeout) and the job was taken back; this run was aborted'))
      }
    }, (error: unknown) => logger.error({ err: error, queue }, 'renewing leases failed'))
  }

  return {
    wake,
    /** Renews the leases of the runs going on now (what the renewal timer does every visibilityTimeout / 3). */
    renew,
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
        await batch.write(() => { for (const r of left) store.release(r.job.id, r.job.lease, r.job.attempts, t) })
          .catch((error: unknown) => logger.error({ err: error, queue }, 'giving jobs back failed; their leases expire and they run again'))
        running.clear()
        stats.running = 0
      }
      clearInterval(renewTimer)
    },
  }
}

export type Consumer = ReturnType<typeof createConsumer>
