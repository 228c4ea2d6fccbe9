// Write batching: every queue write asked for in one turn of the event loop (enqueues, claims, completions) runs in
// one IMMEDIATE transaction, each in a savepoint of its own (one that throws undoes only itself). A burst of 1,000
// enqueues costs one commit instead of 1,000, and a claim that follows them in the same turn sees them.
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

  const flush = () => {
    scheduled = false
    if (pending.length === 0) return
    const batch = pending
    pending = []
    const results: { ok: boolean; value: unknown }[] = []
    try {
      db.transaction(() => {
        for (const item of batch) {
          try {
            // A nested better-sqlite3 transaction is a savepoint: a throw rolls back this item alone.
            results.push({ ok: true, value: db.transaction(item.work)() })
          } catch (error) {
            results.push({ ok: false, value: error })
          }
        }
      }).immediate()
    } catch (error) {
      // The commit itself failed (disk full, the busy timeout ran out): nothing of the batch happened.
      for (const item of batch) item.reject(error)
      return
    }
    batch.forEach((item, i) => (results[i]!.ok ? item.resolve(results[i]!.value) : item.reject(results[i]!.value)))
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
