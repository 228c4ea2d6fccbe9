// Queue consumers over a real queues.db: retries with exponential backoff (tiny delays from config, never a sleep),
// the dead-letter queue for jobs out of attempts or failed for good, idempotent enqueue, and the DLQ's admin routes
// with tokens (list, inspect, retry, purge), over real HTTP on loopback.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { BusEvent } from '@islet/sdk'
import { backoffMs } from '../plugins/queue/consumer.ts'
import { json } from './support/app.ts'
import { startQueueApp as start } from './support/queue-app.ts'
import { until } from './support/until.ts'

const admin = (token: string) => ({ authorization: `Bearer ${token}` })

describe('queue retries and the dead-letter queue', () => {
  it('retries a failing job with backoff until an attempt succeeds; a job out of attempts, or failed with a 4xx, goes dead', async () => {
    const t = await start()
    const deadEvents: BusEvent[] = []
    t.engine.events.subscribe('queue.work.dead', (e) => { deadEvents.push(e) })
    try {
      const flaky = await t.post({ name: 'flaky', failUntil: 2 })
      const hopeless = await t.post({ name: 'hopeless', failUntil: 99 })
      const invalid = await t.post({ name: 'invalid', failUntil: 99, status: 422 })
      await until(() => t.queue.counts().done === 1 && t.queue.counts().dead === 2, { explain: () => JSON.stringify(t.queue.counts()) })
      expect(t.runs('flaky')).toEqual([1, 2, 3])
      expect(t.runs('hopeless')).toEqual([1, 2, 3])
      // 422: the job itself is wrong, so retrying cannot help: dead after one attempt.
      expect(t.runs('invalid')).toEqual([1])
      const list = await json(await fetch(`${t.url}/admin/queues/work/dead`, { headers: admin('t-read') }))
      expect(list.jobs.map((j: { id: string }) => j.id).sort()).toEqual([hopeless.id, invalid.id].sort())
      const one = await json(await fetch(`${t.url}/admin/queues/work/dead/${hopeless.id}`, { headers: admin('t-read') }))
      expect(one).toMatchObject({ id: hopeless.id, state: 'dead', attempts: 3, payload: { name: 'hopeless' }, error: { code: 'ERR_FLAKY', message: 'attempt 3 of hopeless fails' } })
      expect(flaky.deduped).toBe(false)
      // Each job gone dead is published on queue.<name>.dead, for subscribers to react to.
      await until(() => deadEvents.length === 2)
      expect(deadEvents.map((e) => e.payload).sort((a: any, b: any) => a.payload.name.localeCompare(b.payload.name))).toEqual([
        { queue: 'work', job: { id: hopeless.id, key: null, attempts: 3 }, error: { code: 'ERR_FLAKY', message: 'attempt 3 of hopeless fails' }, payload: { name: 'hopeless', failUntil: 99 } },
        { queue: 'work', job: { id: invalid.id, key: null, attempts: 1 }, error: expect.objectContaining({ code: 'ERR_FLAKY' }), payload: { name: 'invalid', failUntil: 99, status: 422 } },
      ])
      expect(deadEvents[0]!.source).toBe('module:work')
      // /admin/status shows each queue's counts (from the file) and its consumer's in this process.
      const status = await json(await fetch(`${t.url}/admin/status`, { headers: admin('t-read') }))
      const work = status.modules.find((m: { name: string }) => m.name === 'work')
      expect(work.detail).toMatchObject({ waiting: 0, delayed: 0, running: 0, dead: 2, done: 1, consumer: { concurrency: 4, running: 0, completed: 1, dead: 2, retried: 4 } })
    } finally { await t.close() }
  })

  it('backs off exponentially, capped, less a random part of at most the jitter', () => {
    const retry = { delayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0.5 }
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, retry, () => 0))).toEqual([100, 200, 400, 800, 1000])
    expect(backoffMs(3, retry, () => 1)).toBe(200)
    expect(backoffMs(3, { ...retry, jitter: 0 }, () => 1)).toBe(400)
  })

  it('dedupes an enqueue whose idempotency key the queue holds, before and after the job ran', async () => {
    const t = await start()
    try {
      const first = await t.post({ name: 'once', key: 'order-17' })
      const again = await Promise.all([t.post({ name: 'once', key: 'order-17' }), t.post({ name: 'once', key: 'order-17' })])
      expect(again).toEqual([{ id: first.id, deduped: true }, { id: first.id, deduped: true }])
      await until(() => t.queue.counts().done === 1)
      expect(await t.post({ name: 'once', key: 'order-17' })).toEqual({ id: first.id, deduped: true })
      const other = await t.post({ name: 'other', key: 'order-18' })
      expect(other.deduped).toBe(false)
      await until(() => t.queue.counts().done === 2)
      expect(t.runs('once')).toEqual([1])
      // A delay (text or ms) holds the job back: it is stored as delayed, due an hour from now.
      await t.post({ name: 'later', delay: '1h' })
      expect(t.queue.counts()).toMatchObject({ delayed: 1 })
      expect((await json(await fetch(`${t.url}/admin/queues/work`, { headers: admin('t-read') }))).delayed).toBe(1)
      // A key the queue cannot hold is the caller's mistake: 422 with the code, nothing enqueued.
      const refused = await fetch(`${t.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', key: 'k'.repeat(201) }) })
      expect(refused.status).toBe(422)
      expect((await json(refused)).error.code).toBe('ERR_QUEUE_OPTIONS')
      expect(t.queue.counts()).toMatchObject({ waiting: 0, delayed: 1, done: 2 })
    } finally { await t.close() }
  })

  it('retries and purges dead jobs through the admin API: reads need admin:read, changes admin', async () => {
    const t = await start()
    try {
      for (const name of ['a', 'b', 'c']) t.broken(name, true)
      const [a, b] = [await t.post({ name: 'a' }), await t.post({ name: 'b' }), await t.post({ name: 'c' })]
      await until(() => t.queue.counts().dead === 3, { explain: () => JSON.stringify(t.queue.counts()) })

      const listed = await fetch(`${t.url}/admin/queues`, { headers: admin('t-read') })
      expect(await json(listed)).toMatchObject({ queues: [{ name: 'work', dead: 3, waiting: 0, running: 0 }] })
      const refused = await fetch(`${t.url}/admin/queues/work/dead/${a.id}/retry`, { method: 'POST', headers: admin('t-read') })
      expect(refused.status).toBe(403)
      expect((await json(refused)).error).toMatchObject({ code: 'ERR_ADMIN_FORBIDDEN', details: { needs: ['admin'] } })
      const bad = await fetch(`${t.url}/admin/queues/work/dead`, { method: 'DELETE', headers: admin('not-a-token') })
      expect(bad.status).toBe(401)
      expect(t.queue.counts().dead).toBe(3)

      // Fixed: a retried job runs again from attempt 1 and completes.
      t.broken('a', false)
      const retried = await fetch(`${t.url}/admin/queues/work/dead/${a.id}/retry`, { method: 'POST', headers: admin('t-admin') })
      expect(await json(retried)).toEqual({ queue: 'work', retried: 1 })
      await until(() => t.queue.counts().done === 1)
      expect(t.runs('a')).toEqual([1, 2, 3, 1])
      const gone = await fetch(`${t.url}/admin/queues/work/dead/${a.id}`, { headers: admin('t-read') })
      expect(gone.status).toBe(404)
      expect((await json(gone)).error.code).toBe('ERR_QUEUE_JOB_UNKNOWN')

      const purgedOne = await fetch(`${t.url}/admin/queues/work/dead/${b.id}`, { method: 'DELETE', headers: admin('t-admin') })
      expect(await json(purgedOne)).toEqual({ queue: 'work', purged: 1 })
      const unknown = await fetch(`${t.url}/admin/queues/nope/dead`, { headers: admin('t-read') })
      expect(unknown.status).toBe(404)
      expect((await json(unknown)).error.code).toBe('ERR_QUEUE_UNKNOWN')
      const purgedAll = await fetch(`${t.url}/admin/queues/work/dead`, { method: 'DELETE', headers: admin('t-admin') })
      expect(await json(purgedAll)).toEqual({ queue: 'work', purged: 1 })
      expect(t.queue.counts()).toMatchObject({ dead: 0, done: 1, waiting: 0, delayed: 0, running: 0 })
      expect(t.runs('c')).toEqual([1, 2, 3])
    } finally { await t.close() }
  })
})

describe('a queues.db another process keeps locked', () => {
  it('answers the enqueue step 503 ERR_QUEUE_BUSY, nothing stored, and enqueues again once the lock is gone', async () => {
    const t = await start({ busyTimeoutMs: 0 })
    const other = new Database(join(t.dir, 'data', 'queues.db'))
    try {
      other.pragma('busy_timeout = 10000')
      other.exec('BEGIN IMMEDIATE')
      const refused = await fetch(`${t.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'locked-out' }) })
      expect(refused.status).toBe(503)
      expect((await json(refused)).error).toMatchObject({ code: 'ERR_QUEUE_BUSY', message: expect.stringContaining('nothing was enqueued') })
      other.exec('ROLLBACK')
      await t.post({ name: 'let-in' })
      await until(() => t.runs('let-in').length === 1)
      expect(t.runs('locked-out')).toEqual([])
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
      await t.close()
    }
  })
})
