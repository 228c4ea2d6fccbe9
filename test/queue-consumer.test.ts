// The queue consumer on a real queues.db with the clock in the test's hands: a lease that runs out while its run goes
// on (the job claimed again by the same consumer, or retried from the dead letters), a run that outlives its stop,
// delayed jobs and sweeping old done jobs. Runs end when the test answers them; `settle` plays out the writes they
// set off (each batch is one turn of the event loop), so nothing here waits on a clock.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger, Pipeline } from '@islet/sdk'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createBatcher, type Batcher } from '../plugins/queue/batch.ts'
import { createConsumer, type ConsumerOptions } from '../plugins/queue/consumer.ts'
import { MAX_TIMER_MS } from '@islet/sdk'
import { until } from './support/until.ts'
import { SWEEP_CHUNK, openQueueDatabase, queueStatements, type DeadJob, type QueueStatements } from '../plugins/queue/store.ts'

const VISIBILITY = 600_000
const cleanups: (() => void)[] = []
afterEach(() => { for (const c of cleanups.splice(0).reverse()) c() })

interface Run { id: string; attempt: number; signal: AbortSignal; answer(status?: number): void }
interface Line { level: string; fields: Record<string, unknown>; message: string }

function recordingLogger(lines: Line[]): Logger {
  const at = (level: string) => (fields: unknown, message?: string) => {
    lines.push(typeof fields === 'string' ? { level, fields: {}, message: fields } : { level, fields: fields as Record<string, unknown>, message: message ?? '' })
  }
  const logger: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger }
  return logger
}

/** A consumer whose runs wait for the test, on a fresh queues.db; `counting` wraps the store the consumer sees. */
function harness(options: Partial<ConsumerOptions> & { ignoresAbort?: boolean; busyTimeoutMs?: number; counting?: (store: QueueStatements) => QueueStatements } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'islet-queue-consumer-'))
  const db = openQueueDatabase(join(dir, 'queues.db'), options.busyTimeoutMs)
  const store = queueStatements(db, 'q')
  const raw = createBatcher(db)
  // Writes asked for and not yet answered (and acted on): the consumer awaits what this returns.
  let inflight = 0
  const batch: Batcher = {
    write(work) { inflight++; return raw.write(work).finally(() => { inflight-- }) },
    flush: raw.flush,
  }
  const clock = { t: 1_000_000 }
  const runs: Run[] = []
  const lines: Line[] = []
  const pipeline: Pipeline = {
    name: 'process',
    run: (input, runOptions) => new Promise((resolve, reject) => {
      const signal = runOptions.signal as AbortSignal
      if (!options.ignoresAbort) signal.addEventListener('abort', () => reject(signal.reason))
      runs.push({
        id: String(input.meta.id), attempt: Number(input.meta.attempt), signal,
        answer: (status = 200) => resolve({ status, headers: {}, body: status >= 400 ? { error: { code: 'ERR_TEST', message: `status ${status}` } } : null }),
      })
    }),
  }
  const consumer = createConsumer(options.counting ? options.counting(store) : store, batch, {
    queue: 'q', pipeline, concurrency: 2, visibilityMs: VISIBILITY, timeoutMs: 3_600_000, maxAttempts: 5,
    retry: { delayMs: 10_000_000, factor: 2, maxDelayMs: 10_000_000, jitter: 0 }, pollMs: VISIBILITY, stopGraceMs: 0,
    retentionMs: 7 * 86_400_000, logger: recordingLogger(lines), now: () => clock.t, random: () => 0, ...options,
  })
  cleanups.push(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  /** Runs the event loop until every write the consumer asked for is answered and set off no other (two quiet turns). */
  async function settle(): Promise<void> {
    for (let quiet = 0; quiet < 2;) {
      await new Promise((resolve) => setImmediate(resolve))
      quiet = inflight === 0 ? quiet + 1 : 0
    }
  }
  const row = (id: string) => db.prepare('SELECT state, attempts, run_at AS at FROM jobs WHERE id = ?').get(id) as { state: string; attempts: number; at: number }
  const enqueue = (runAt = clock.t) => store.enqueue([{ payload: '{}', runAt, priority: 0, key: undefined }], clock.t)[0]!.id
  const warnings = () => lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.message)
  return { db, store, consumer, clock, runs, lines, settle, row, enqueue, warnings }
}

describe('queue consumer', () => {
  it('a run that outlived its lease, the job claimed again by the same consumer, neither ends nor keeps the new claim', async () => {
    const h = harness()
    const id = h.enqueue()
    h.consumer.start()
    await h.settle()
    expect(h.runs.map((r) => r.attempt)).toEqual([1])

    // The event loop "stalled" past the lease: the next wake takes the job back and, with a slot free, claims it again.
    h.clock.t += 2 * VISIBILITY
    h.consumer.wake()
    await h.settle()
    expect(h.runs.map((r) => r.attempt)).toEqual([1, 2])
    expect(h.consumer.stats().running).toBe(2)

    // Renewing moves on the second claim's lease only; the first run, whose claim is gone, is aborted.
    await h.consumer.renew()
    await h.settle()
    expect(h.runs[0]!.signal.aborted).toBe(true)
    expect(h.runs[0]!.signal.reason).toMatchObject({ code: 'ERR_QUEUE_LEASE_LOST' })
    expect(h.runs[1]!.signal.aborted).toBe(false)
    expect(h.row(id)).toMatchObject({ state: 'running', attempts: 2, at: h.clock.t + VISIBILITY })
    // Its end is not the second run's: that one is still counted, and its lease still renewed.
    expect(h.consumer.stats().running).toBe(1)
    h.clock.t += VISIBILITY / 2
    await h.consumer.renew()
    h.clock.t += VISIBILITY / 2 + 1
    h.consumer.wake()
    await h.settle()
    expect(h.runs).toHaveLength(2)

    h.runs[1]!.answer(200)
    await h.settle()
    expect(h.row(id)).toMatchObject({ state: 'done', attempts: 2 })
    expect(h.consumer.stats()).toMatchObject({ running: 0, completed: 1, dead: 0 })
    await h.consumer.stop()
  })

  it('a stale run of a job retried from the dead letters cannot fail the new run of the same attempt number', async () => {
    const died: DeadJob[] = []
    const h = harness({ maxAttempts: 1, onDead: (job) => { died.push(job) } })
    const id = h.enqueue()
    h.consumer.start()
    await h.settle()
    // The lease runs out during the last allowed attempt: dead; an operator retries it (attempts from zero again).
    h.clock.t += 2 * VISIBILITY
    h.consumer.wake()
    await h.settle()
    expect(h.row(id)).toMatchObject({ state: 'dead', attempts: 1 })
    // Told as gone dead (queue.<name>.dead), like a job that failed its last attempt.
    expect(died).toEqual([{ id: Number(id), payload: '{}', attempts: 1, key: null, error: expect.objectContaining({ code: 'ERR_QUEUE_LEASE_EXPIRED' }) }])
    expect(h.store.dead.retry(Number(id), h.clock.t)).toBe(1)
    h.consumer.wake()
    await h.settle()
    expect(h.runs.map((r) => r.attempt)).toEqual([1, 1])

    h.runs[0]!.answer(500)
    await h.settle()
    expect(h.row(id)).toMatchObject({ state: 'running', attempts: 1 })
    expect(h.warnings()).toContain('the job\'s lease had expired and the job was claimed again: this run\'s outcome is dropped')
    h.runs[1]!.answer(200)
    await h.settle()
    expect(h.row(id)).toMatchObject({ state: 'done', attempts: 1 })
    await h.consumer.stop()
  })

  it('a run that ignores the abort and ends after the stop gave its job back records nothing and logs nothing', async () => {
    const h = harness({ concurrency: 1, ignoresAbort: true })
    const id = h.enqueue()
    h.consumer.start()
    await h.settle()
    await h.consumer.stop()
    expect(h.row(id)).toMatchObject({ state: 'waiting', attempts: 0 })
    expect(h.consumer.stats().running).toBe(0)
    h.runs[0]!.answer(200)
    await h.settle()
    expect(h.row(id)).toMatchObject({ state: 'waiting', attempts: 0 })
    expect(h.warnings()).toEqual([`jobs still running 0 ms after stop; aborting them (they run again later)`])
  })

  it('with only delayed jobs, a wake claims nothing and runs no claim; the timer never exceeds what Node can hold', async () => {
    let claims = 0
    const timers = vi.spyOn(globalThis, 'setTimeout')
    cleanups.push(() => timers.mockRestore())
    // A poll interval no config allows, so the wake timer follows the job's due time, 30 days away.
    const h = harness({ pollMs: 2 ** 32, counting: (store) => ({ ...store, claim: (...args) => { claims++; return store.claim(...args) } }) })
    const id = h.enqueue(h.clock.t + 30 * 86_400_000)
    h.consumer.start()
    await h.settle()
    expect(claims).toBe(0)
    expect(h.runs).toHaveLength(0)
    const delays = timers.mock.calls.map(([, ms]) => Number(ms ?? 0))
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS)

    h.clock.t += 30 * 86_400_000
    h.consumer.wake()
    await h.settle()
    expect(claims).toBe(1)
    expect(h.runs.map((r) => r.id)).toEqual([id])
    h.runs[0]!.answer(200)
    await h.settle()
    await h.consumer.stop()
  })

  it('a job\'s outcome waits out queues.db locked by another process, its lease kept, and is recorded once: the job never runs again', async () => {
    const h = harness({ busyTimeoutMs: 0 })
    const id = h.enqueue()
    h.consumer.start()
    await h.settle()
    expect(h.runs).toHaveLength(1)
    const other = new Database(h.db.name)
    cleanups.push(() => { if (other.inTransaction) other.exec('ROLLBACK'); other.close() })
    other.exec('BEGIN IMMEDIATE')
    h.runs[0]!.answer(200)
    await until(() => h.warnings().some((w) => w.includes('waits for queues.db')))
    // Still running as far as the consumer goes: its lease is renewed meanwhile, so nobody takes the job back.
    expect(h.consumer.stats()).toMatchObject({ running: 1, completed: 0 })
    other.exec('ROLLBACK')
    await until(() => h.consumer.stats().completed === 1)
    expect(h.row(id)).toMatchObject({ state: 'done', attempts: 1 })
    expect(h.consumer.stats().running).toBe(0)
    h.clock.t += 2 * VISIBILITY
    h.consumer.wake()
    await h.settle()
    expect(h.runs).toHaveLength(1)
    await h.consumer.stop()
  })

  it('sweeps old done jobs a chunk per transaction until none is left', async () => {
    const deleted: number[] = []
    const h = harness({ retentionMs: 1000, counting: (store) => ({ ...store, sweepDone: (...args) => { const n = store.sweepDone(...args); deleted.push(n); return n } }) })
    const insert = h.db.prepare(`INSERT INTO jobs (queue, state, payload, run_at, created_at, updated_at) VALUES ('q', 'done', '{}', ?, 0, 0)`)
    h.db.transaction(() => { for (let i = 0; i < 2.5 * SWEEP_CHUNK; i++) insert.run(i % 2 === 0 ? 0 : h.clock.t) })()
    h.consumer.start()
    await h.settle()
    // Half of them ended long ago; the others just now, within the retention.
    expect(deleted).toEqual([SWEEP_CHUNK, 0.25 * SWEEP_CHUNK])
    expect(h.store.counts(h.clock.t).done).toBe(1.25 * SWEEP_CHUNK)
    await h.consumer.stop()
  })
})
