// Write batching: every queue write asked for in one turn of the event loop (enqueues, claims, completions, renewals)
// runs in one IMMEDIATE transaction, so a burst of 1,000 enqueues costs one commit instead of 1,000, and a claim
// that follows them in the same turn sees them. If a write of a batch throws, the batch is rolled back, that write
// fails alone and the others run again as one batch (the fast path pays for no savepoints). If the transaction itself
// fails — the write lock not had within the busy timeout — every write of the batch fails at once: trying them one
// by one would block the event loop for the busy timeout once per write.
import type Database from 'better-sqlite3'
import { QueueError } from './errors.ts'

interface Pending {
  work: () => unknown
  resolve: (value: any) => void
  reject: (error: unknown) => void
}

export interface Batcher {
  /** Runs `work` (synchronous database statements only) in the next batch; resolves with what it returned. */
  write<T>(work: () => T): Promise<T>
  /** Runs what is pending now, synchronously (before the connection closes). */
  flush(): void
}

export function createBatcher(db: Database.Database): Batcher {
  let pending: Pending[] = []
  let scheduled = false
  /** The write that threw in the last batch run, or -1: the transaction itself failed (BEGIN or COMMIT). */
  let failedAt = -1
  const all = db.transaction((batch: Pending[]) => batch.map((item, i) => {
    failedAt = i
    const result = item.work()
    failedAt = -1
    return result
  }))

  const flush = () => {
    scheduled = false
    let batch = pending
    pending = []
    while (batch.length > 0) {
      failedAt = -1
      let results: unknown[]
      try {
        results = all.immediate(batch)
      } catch (error) {
        if (failedAt < 0) {
          const reason = lockFailure(db, error, batch.length)
          for (const item of batch) item.reject(reason)
          return
        }
        // Work is re-runnable: each closure reads and writes only the database (and notes what it read).
        const failed = failedAt
        batch[failed]!.reject(error)
        batch = batch.filter((_, i) => i !== failed)
        continue
      }
      batch.forEach((item, i) => item.resolve(results[i]))
      return
    }
  }

  return {
    write<T>(work: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({ work, resolve, reject })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
    flush,
  }
}

/** What each write of a batch whose transaction failed is told: busy (another process held the lock) says so. */
function lockFailure(db: Database.Database, error: unknown, writes: number): unknown {
  const code = (error as { code?: unknown })?.code
  if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) return error
  const waited = Number(db.pragma('busy_timeout', { simple: true }))
  return new QueueError('ERR_QUEUE_BUSY', `queues.db stayed locked by another process for longer than busyTimeoutMs (${waited} ms): ` +
    `this write and the ${writes - 1} others batched with it were not made; try again (or raise busyTimeoutMs)`, { cause: error, details: { busyTimeoutMs: waited } })
}
