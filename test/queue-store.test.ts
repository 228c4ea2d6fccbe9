// The queue store on a real queues.db with the clock passed in: claim order (priority, then due time, then id),
// delays, leases that run out (the job is claimed again; the late owner's outcome is refused), the last attempt's
// lease running out (dead), and a completed job that no claim ever returns again.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openQueueDatabase, queueStatements } from '../plugins/queue/store.ts'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

function open() {
  const dir = mkdtempSync(join(tmpdir(), 'islet-queue-'))
  dirs.push(dir)
  const db = openQueueDatabase(join(dir, 'queues.db'))
  return { db, store: queueStatements(db, 'q'), other: queueStatements(db, 'other') }
}

const job = (payload: unknown, runAt: number, priority = 0, key?: string) => ({ payload: JSON.stringify(payload), runAt, priority, key })

describe('queue store', () => {
  it('claims by priority, then due time, then id; a delayed job only once due; queues apart', () => {
    const { db, store, other } = open()
    try {
      const ids = store.enqueue([job('a', 100), job('b', 100, 5), job('c', 50), job('late', 1000, 9), job('d', 100, 5)], 0).map((r) => r.id)
      other.enqueue([job('x', 0, 100)], 0)
      // One at a time (a consumer with one free slot): the order each claim picks. A batch is the same set, started at once.
      const claimed = [1, 2, 3, 4, 5].flatMap(() => store.claim(1, 'L', 200, 100)).map((j) => JSON.parse(j.payload))
      expect(claimed).toEqual(['b', 'd', 'c', 'a'])
      expect(store.counts(100)).toMatchObject({ running: 4, delayed: 1, waiting: 0 })
      expect(store.nextDue()).toBe(1000)
      expect(store.claim(10, 'L', 2000, 1000).map((j) => [String(j.id), j.attempts])).toEqual([[ids[3], 1]])
      expect(other.counts(0)).toMatchObject({ waiting: 1 })
    } finally { db.close() }
  })

  it('a lease that runs out is claimed again; the first owner can no longer end it; done is never claimed again', () => {
    const { db, store } = open()
    try {
      const [{ id }] = store.enqueue([job('p', 0)], 0)
      const [first] = store.claim(1, 'A', 1000, 0)
      expect(store.renew(first!.id, 'A', 1, 2000)).toBe(true)
      expect(store.reclaimExpired(1999, 5)).toEqual({ dead: 0, waiting: 0 })
      expect(store.reclaimExpired(2000, 5)).toEqual({ dead: 0, waiting: 1 })
      const [second] = store.claim(1, 'B', 5000, 2000)
      expect([String(second!.id), second!.attempts]).toEqual([id, 2])
      expect(store.finish(first!.id, 'A', 1, 'done', 2500, 2500)).toBe(false)
      expect(store.finish(second!.id, 'B', 2, 'done', 2600, 2600)).toBe(true)
      expect(store.reclaimExpired(99_999, 5)).toEqual({ dead: 0, waiting: 0 })
      expect(store.claim(1, 'C', 200_000, 100_000)).toEqual([])
      expect(store.counts(100_000)).toMatchObject({ done: 1, waiting: 0, running: 0 })
    } finally { db.close() }
  })

  it('renews only the claim named by its lease and attempt; a claim taken back and claimed again is not the old one', () => {
    const { db, store } = open()
    try {
      const [{ id }] = store.enqueue([job('p', 0)], 0)
      const [first] = store.claim(1, 'A.1', 1000, 0)
      expect(first!.lease).toBe('A.1')
      store.reclaimExpired(1000, 5)
      const [second] = store.claim(1, 'A.2', 3000, 1000)
      expect(store.renew(first!.id, 'A.1', 1, 9000)).toBe(false)
      expect(store.renew(second!.id, 'A.2', 1, 9000)).toBe(false)
      expect(store.renew(second!.id, 'A.2', 2, 4000)).toBe(true)
      expect(db.prepare('SELECT run_at FROM jobs WHERE id = ?').pluck().get(id)).toBe(4000)
    } finally { db.close() }
  })

  it('sweeps done jobs past the retention at most a chunk at a time', () => {
    const { db, store, other } = open()
    try {
      store.enqueue([0, 1, 2, 3, 4].map((n) => job(n, 0)), 0)
      other.enqueue([job('x', 0)], 0)
      for (const claimed of store.claim(5, 'A', 100, 0)) store.finish(claimed.id, 'A', 1, 'done', claimed.id <= 4 ? 10 : 50, 10)
      other.finish(other.claim(1, 'B', 100, 0)[0]!.id, 'B', 1, 'done', 10, 10)
      expect([store.sweepDone(20, 3), store.sweepDone(20, 3), store.sweepDone(20, 3)]).toEqual([3, 1, 0])
      expect(store.counts(0).done).toBe(1)
      expect(other.counts(0).done).toBe(1)
    } finally { db.close() }
  })

  it('commits as the queue\'s synchronous says: NORMAL by default (crash-safe in WAL), FULL (an fsync per commit) when asked', () => {
    const { db } = open()
    const full = openQueueDatabase(db.name, 5000, 'full')
    try {
      expect(db.pragma('synchronous', { simple: true })).toBe(1)
      expect(full.pragma('synchronous', { simple: true })).toBe(2)
    } finally { db.close(); full.close() }
  })

  it('a lease that runs out during the last allowed attempt sends the job to the dead letters', () => {
    const { db, store } = open()
    try {
      store.enqueue([job('p', 0)], 0)
      store.claim(1, 'A', 10, 0)
      expect(store.reclaimExpired(10, 1)).toEqual({ dead: 1, waiting: 0 })
      expect(store.dead.list(10)).toMatchObject([{ payload: 'p', attempts: 1, error: { code: 'ERR_QUEUE_LEASE_EXPIRED' } }])
    } finally { db.close() }
  })
})
