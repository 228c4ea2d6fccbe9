// The queue's write batcher on a real queues.db: a write that throws fails alone while the rest of its batch commits;
// a batch that cannot get the write lock (another process holds it) fails as a whole, every write told why, after
// one wait for the lock — never one wait per write, which would freeze the engine for the busy timeout n times.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createBatcher } from '../plugins/queue/batch.ts'
import { openQueueDatabase, queueStatements } from '../plugins/queue/store.ts'

const cleanups: (() => void)[] = []
afterEach(() => { for (const c of cleanups.splice(0).reverse()) c() })

/** queues.db with no busy wait, and how many times its batcher began a write transaction (asked for the lock). */
function open() {
  const dir = mkdtempSync(join(tmpdir(), 'islet-queue-batch-'))
  const file = join(dir, 'queues.db')
  const db = openQueueDatabase(file, 0)
  cleanups.push(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  const counter = { locks: 0 }
  const counted = new Proxy(db, {
    get(target, property) {
      if (property !== 'transaction') {
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (fn: (...args: never[]) => unknown) => {
        const transaction = target.transaction(fn)
        return Object.assign((...args: never[]) => transaction(...args), {
          immediate: (...args: never[]) => { counter.locks++; return transaction.immediate(...args) },
        })
      }
    },
  })
  return { file, db, store: queueStatements(db, 'q'), batch: createBatcher(counted), counter }
}

const job = (n: number) => ({ payload: JSON.stringify(n), runAt: 0, priority: 0, key: undefined })

describe('queue write batches', () => {
  it('a write that throws fails alone; the others of its batch commit', async () => {
    const { store, batch } = open()
    const results = await Promise.allSettled([
      batch.write(() => store.enqueue([job(1)], 0)),
      batch.write(() => { store.enqueue([job(2)], 0); throw new Error('bad write') }),
      batch.write(() => store.enqueue([job(3)], 0)),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(store.counts(0).waiting).toBe(2)
  })

  it('while another process holds the lock, the whole batch fails at once with ERR_QUEUE_BUSY, after one try for the lock', async () => {
    const { file, store, batch, counter } = open()
    const other = new Database(file)
    cleanups.push(() => other.close())
    other.exec('BEGIN IMMEDIATE')
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => batch.write(() => store.enqueue([job(n)], 0))))
    expect(counter.locks).toBe(1)
    for (const r of results) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_QUEUE_BUSY', details: { busyTimeoutMs: 0 } })
    }
    expect((results[0] as PromiseRejectedResult).reason.message).toContain('locked by another process')
    other.exec('COMMIT')
    await batch.write(() => store.enqueue([job(6)], 0))
    expect(store.counts(0).waiting).toBe(1)
  })
})
