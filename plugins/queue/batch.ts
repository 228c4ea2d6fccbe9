// Write batching: every queue write asked for in one turn of the event loop (enqueues, claims, completions, renewals)
// runs in one IMMEDIATE transaction, so a burst of 1,000 enqueues costs one commit instead of 1,000, and a claim
// that follows them in the same turn sees them. If any write of a batch throws, the batch is rolled back and each
// write runs again in a transaction of its own, so one bad write fails alone (the fast path pays for no savepoints).
import type Database from 'better-sqlite3'

interface Pending {
  work: () => unknown
  resolve: (value: any) => void
  reject: (error: unknown) => void
}

export interface Batcher {
  /** Runs `work` in the next batch; resolves with its result once the batch committed (durable as the file's pragmas say). */
  write<T>(work: () => T): Promise<T>
  /** Runs what is pending now, synchronously (before the connection closes). */
  flush(): void
}

export function createBatcher(db: Database.Database): Batcher {
  let pending: Pending[] = []
  let scheduled = false
  const all = db.transaction((batch: Pending[]) => batch.map((item) => item.work()))
  const one = db.transaction((item: Pending) => item.work())

  const flush = () => {
    scheduled = false
    if (pending.length === 0) return
    const batch = pending
    pending = []
    let results: unknown[]
    try {
      results = all.immediate(batch)
    } catch {
      // Work is re-runnable: each closure reads and writes only the database (and notes what it read).
      for (const item of batch) {
        try { item.resolve(one.immediate(item)) } catch (error) { item.reject(error) }
      }
      return
    }
    batch.forEach((item, i) => item.resolve(results[i]))
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
