// The queue store: every queue of an app in one SQLite file, <dataDir>/queues.db (WAL), one row per job. Several
// engine processes share the file; what keeps them apart is that every state change is one UPDATE guarded by the
// state it expects, inside an IMMEDIATE transaction (the write lock is taken before anything is read, so two
// processes can never both read a job as waiting and both claim it). Statements are prepared once per store.
//
// A job's `run_at` means, by state: waiting → due time; running → lease expiry; done / dead → when it ended.
import type Database from 'better-sqlite3'
import { openWalFile } from '../storage/sqlite-file.ts'
import { QueueError } from './errors.ts'

export const QUEUES_FILE = 'queues.db'
const SCHEMA_VERSION = 1

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'running', 'done', 'dead')),
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  key TEXT,
  lease TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (queue, state, priority DESC, run_at, id);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (queue, state, run_at);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_key ON jobs (queue, key) WHERE key IS NOT NULL;
`

export type JobState = 'waiting' | 'running' | 'done' | 'dead'

export interface ClaimedJob {
  id: number
  /** The claim's own lease token: with id and attempts it names this claim, and only it may renew or end it. */
  lease: string
  payload: string
  attempts: number
  priority: number
  createdAt: number
  key: string | null
}

/** A job that just went dead, as the consumer tells it (`queue.<name>.dead` events). */
export interface DeadJob {
  id: number
  payload: string
  attempts: number
  key: string | null
  error: JobError
}

/** A job as the dead-letter routes and the CLI show it. */
export interface JobRecord {
  id: string
  queue: string
  state: JobState
  payload: unknown
  priority: number
  attempts: number
  key: string | null
  createdAt: string
  /** When it died (dead), the lease's end (running), or its due time (waiting). */
  at: string
  error: { code: string; message: string } | null
}

export interface QueueCounts {
  /** Due now, not claimed. */
  waiting: number
  /** Not due yet (a delay, or a retry's backoff). */
  delayed: number
  running: number
  dead: number
  done: number
}

export interface NewJob {
  payload: string
  runAt: number
  priority: number
  key: string | undefined
}

export interface JobError { code: string; message: string }

interface JobRow {
  id: number; queue: string; state: JobState; payload: string; priority: number; run_at: number; attempts: number
  key: string | null; created_at: number; error: string | null
}

/** Done jobs deleted per statement when old ones are swept: one transaction never holds the write lock for long. */
export const SWEEP_CHUNK = 1000

/** How a queue's commits reach the disk: see openQueueDatabase. */
export type QueueSynchronous = 'normal' | 'full'

/** Opens (creating) queues.db. One connection per queue module: WAL lets them and other processes share the file. */
export function openQueueDatabase(file: string, busyTimeoutMs = 5000, synchronous: QueueSynchronous = 'normal'): Database.Database {
  let db: Database.Database
  try {
    db = openWalFile(file, { busyTimeoutMs })
    // The connection's own setting (SQLite's pragma is per connection): `normal` (WAL: every commit survives a crash
    // of the process, the last ones may be lost to a power cut or an OS crash, like Redis's appendfsync everysec) or
    // `full` (an fsync per commit — per batch of writes — so they survive that too: at concurrency 1, 0.42× the jobs/s, bench §17).
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  } catch (error) {
    throw new QueueError('ERR_QUEUE_OPEN_FAILED', `could not open the queue store ${file}: ${(error as Error).message}`, { cause: error, details: { file } })
  }
  try {
    const version = Number(db.pragma('user_version', { simple: true }))
    if (version > SCHEMA_VERSION) {
      throw new Error(`it was written by a newer Islet (schema ${version}; this one knows ${SCHEMA_VERSION}): upgrade Islet or use another data directory`)
    }
    if (version < SCHEMA_VERSION) {
      db.transaction(() => { db.exec(SCHEMA); db.pragma(`user_version = ${SCHEMA_VERSION}`) }).immediate()
    }
    return db
  } catch (error) {
    db.close()
    throw new QueueError('ERR_QUEUE_OPEN_FAILED', `could not prepare the queue store ${file}: ${(error as Error).message}`, { cause: error, details: { file } })
  }
}

/** The statements of one queue, prepared once. Callers wrap writes in IMMEDIATE transactions (batch.ts). */
export function queueStatements(db: Database.Database, queue: string) {
  const insert = db.prepare(`INSERT INTO jobs (queue, state, payload, priority, run_at, key, created_at, updated_at)
    VALUES (?, 'waiting', ?, ?, ?, ?, ?, ?) ON CONFLICT (queue, key) WHERE key IS NOT NULL DO NOTHING RETURNING id`).pluck()
  const byKey = db.prepare('SELECT id FROM jobs WHERE queue = ? AND key = ?').pluck()
  // One statement claims up to n due jobs: the subquery and the update run under the same write lock. The index is
  // named: left to choose, SQLite may range-scan jobs_due on run_at and sort every waiting job for each claim.
  const claim = db.prepare(`UPDATE jobs SET state = 'running', lease = ?, run_at = ?, attempts = attempts + 1, updated_at = ?
    WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_claim WHERE queue = ? AND state = 'waiting' AND run_at <= ? ORDER BY priority DESC, run_at, id LIMIT ?)
    RETURNING id, payload, attempts, priority, created_at AS createdAt, key`)
  const nextDue = db.prepare(`SELECT MIN(run_at) FROM jobs WHERE queue = ? AND state = 'waiting'`).pluck()
  const finish = db.prepare(`UPDATE jobs SET state = ?, lease = NULL, run_at = ?, updated_at = ?, error = ?
    WHERE id = ? AND lease = ? AND attempts = ? AND state = 'running'`)
  const release = db.prepare(`UPDATE jobs SET state = 'waiting', lease = NULL, run_at = ?, updated_at = ?, attempts = attempts - 1
    WHERE id = ? AND lease = ? AND attempts = ? AND state = 'running'`)
  const renew = db.prepare(`UPDATE jobs SET run_at = ? WHERE id = ? AND lease = ? AND attempts = ? AND state = 'running'`)
  // A lease that ran out: its consumer is gone (crash, kill -9, a stalled event loop). Its last allowed attempt → dead.
  const expiredToDead = db.prepare(`UPDATE jobs SET state = 'dead', lease = NULL, updated_at = ?, error = ?
    WHERE queue = ? AND state = 'running' AND run_at <= ? AND attempts >= ? RETURNING id, payload, attempts, key`)
  const expiredToWaiting = db.prepare(`UPDATE jobs SET state = 'waiting', lease = NULL, updated_at = ?
    WHERE queue = ? AND state = 'running' AND run_at <= ?`)
  const sweep = db.prepare(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE queue = ? AND state = 'done' AND run_at <= ? LIMIT ?)`)
  const counts = db.prepare(`SELECT state, run_at > ? AS later, COUNT(*) AS n FROM jobs WHERE queue = ? GROUP BY state, later`)
  const dead = deadLetterStatements(db)

  return {
    /** Adds jobs; a job whose key exists already is not added: its id comes back with deduped. */
    enqueue(jobs: readonly NewJob[], now: number): { id: string; deduped: boolean }[] {
      return jobs.map((job) => {
        const id = insert.get(queue, job.payload, job.priority, job.runAt, job.key ?? null, now, now) as number | undefined
        if (id !== undefined) return { id: String(id), deduped: false }
        return { id: String(byKey.get(queue, job.key) as number), deduped: true }
      })
    },
    claim(n: number, lease: string, leaseUntil: number, now: number): ClaimedJob[] {
      return (claim.all(lease, leaseUntil, now, queue, now, n) as Omit<ClaimedJob, 'lease'>[])
        .map((job) => ({ ...job, lease }))
        .sort((a, b) => b.priority - a.priority || a.id - b.id)
    },
    /** The due time of the earliest waiting job, if any. */
    nextDue: () => nextDue.get(queue) as number | null,
    /** Ends a claim (done, dead, or waiting again with a due time); false when the claim is no longer this one's. */
    finish(id: number, lease: string, attempt: number, state: 'done' | 'dead' | 'waiting', at: number, now: number, error?: JobError): boolean {
      return finish.run(state, at, now, error ? JSON.stringify(error) : null, id, lease, attempt).changes === 1
    },
    /** Gives a claim back undone (its module stopped): due now, the attempt not counted. */
    release: (id: number, lease: string, attempt: number, now: number) => release.run(now, now, id, lease, attempt).changes === 1,
    /** Moves one claim's lease end on; false when the claim is no longer held (its lease ran out, it was claimed again). */
    renew: (id: number, lease: string, attempt: number, until: number) => renew.run(until, id, lease, attempt).changes === 1,
    /** Takes back expired leases: to waiting, or dead after the last allowed attempt (each told to `died`). */
    reclaimExpired(now: number, maxAttempts: number, died?: (job: DeadJob) => void): { dead: number; waiting: number } {
      const error = { code: 'ERR_QUEUE_LEASE_EXPIRED', message: 'the lease expired during the last allowed attempt: its consumer stopped or crashed mid-run' }
      const rows = expiredToDead.all(now, JSON.stringify(error), queue, now, maxAttempts) as Omit<DeadJob, 'error'>[]
      for (const row of rows) died?.({ ...row, error })
      const w = expiredToWaiting.run(now, queue, now).changes
      return { dead: rows.length, waiting: w }
    },
    /** Deletes at most `limit` done jobs that ended before `before`; how many it deleted. */
    sweepDone: (before: number, limit: number) => sweep.run(queue, before, limit).changes,
    counts(now: number): QueueCounts {
      const out: QueueCounts = { waiting: 0, delayed: 0, running: 0, dead: 0, done: 0 }
      for (const row of counts.all(now, queue) as { state: JobState; later: number; n: number }[]) {
        if (row.state === 'waiting') out[row.later ? 'delayed' : 'waiting'] += row.n
        else out[row.state] += row.n
      }
      return out
    },
    dead: {
      list: (limit: number, after = 0) => dead.list(queue, limit, after),
      get: (id: number) => dead.get(queue, id),
      retry: (id: number | undefined, now: number) => dead.retry(queue, id, now),
      purge: (id: number | undefined) => dead.purge(queue, id),
    },
  }
}

export type QueueStatements = ReturnType<typeof queueStatements>

/**
 * The dead-letter queue: jobs that ran out of attempts or failed with an error retrying cannot fix. They stay until
 * retried (back to waiting, due now, attempts from zero) or purged. Also what the CLI uses on the file directly.
 */
export function deadLetterStatements(db: Database.Database) {
  const list = db.prepare(`SELECT * FROM jobs WHERE queue = ? AND state = 'dead' AND id > ? ORDER BY id LIMIT ?`)
  const get = db.prepare(`SELECT * FROM jobs WHERE queue = ? AND state = 'dead' AND id = ?`)
  const retryOne = db.prepare(`UPDATE jobs SET state = 'waiting', attempts = 0, run_at = ?, updated_at = ?, error = NULL WHERE queue = ? AND state = 'dead' AND id = ?`)
  const retryAll = db.prepare(`UPDATE jobs SET state = 'waiting', attempts = 0, run_at = ?, updated_at = ?, error = NULL WHERE queue = ? AND state = 'dead'`)
  const purgeOne = db.prepare(`DELETE FROM jobs WHERE queue = ? AND state = 'dead' AND id = ?`)
  const purgeAll = db.prepare(`DELETE FROM jobs WHERE queue = ? AND state = 'dead'`)
  return {
    list: (queue: string, limit: number, after: number) => (list.all(queue, after, limit) as JobRow[]).map(record),
    get(queue: string, id: number): JobRecord | undefined {
      const row = get.get(queue, id) as JobRow | undefined
      return row && record(row)
    },
    /** Moves one dead job (or all) back to waiting; how many moved. */
    retry: (queue: string, id: number | undefined, now: number) =>
      db.transaction(() => (id === undefined ? retryAll.run(now, now, queue) : retryOne.run(now, now, queue, id)).changes).immediate(),
    purge: (queue: string, id: number | undefined) =>
      db.transaction(() => (id === undefined ? purgeAll.run(queue) : purgeOne.run(queue, id)).changes).immediate(),
  }
}

/** Every queue the file holds jobs of, with its counts. */
export function allQueueCounts(db: Database.Database, now: number): Map<string, QueueCounts> {
  const out = new Map<string, QueueCounts>()
  const rows = db.prepare(`SELECT queue, state, run_at > ? AS later, COUNT(*) AS n FROM jobs GROUP BY queue, state, later ORDER BY queue`)
    .all(now) as { queue: string; state: JobState; later: number; n: number }[]
  for (const row of rows) {
    let counts = out.get(row.queue)
    if (!counts) out.set(row.queue, counts = { waiting: 0, delayed: 0, running: 0, dead: 0, done: 0 })
    if (row.state === 'waiting') counts[row.later ? 'delayed' : 'waiting'] += row.n
    else counts[row.state] += row.n
  }
  return out
}

function record(row: JobRow): JobRecord {
  let payload: unknown
  try { payload = JSON.parse(row.payload) } catch { payload = row.payload }
  return {
    id: String(row.id), queue: row.queue, state: row.state, payload, priority: row.priority, attempts: row.attempts, key: row.key,
    createdAt: new Date(row.created_at).toISOString(), at: new Date(row.run_at).toISOString(),
    error: row.error ? JSON.parse(row.error) as JobError : null,
  }
}
