// The execution store: one SQLite file <dataDir>/executions.db (WAL, shared by the engine processes of one data
// directory) holding each recorded execution's row and its numbered events. A step's record is not stored apart:
// it is folded from its `step.*` events when an execution is read, so the events an SSE client replays and the
// steps `GET …/:id` shows cannot disagree.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import type { Execution, ExecutionEvent, ExecutionFilter, ExecutionStatus, ExecutionStep, ExecutionSummary } from '@islet/sdk'
import { openWalFile } from '../../plugins/storage/sqlite-file.ts'
import { IsletError, messageOf } from '../errors.ts'

export const EXECUTIONS_FILE = 'executions.db'

export interface NewExecution {
  id: string
  pipeline: string
  trigger: string
  runId: string
  startedAt: number
  inputBytes: number
  /** `host:pid:boot` of the engine running it: how a restart tells its own dead runs from another process's live ones. */
  owner: string
}

export interface ExecutionEnd {
  status: Exclude<ExecutionStatus, 'running'>
  endedAt: number
  /** The response's JSON, or null when it was larger than the cap (or not JSON). */
  output: string | null
  outputBytes: number | null
  truncated: boolean
  error?: { code: string; message: string }
}

export interface ExecutionStore {
  insert(execution: NewExecution): void
  appendEvent(event: ExecutionEvent): void
  /** Ends a running execution; false when it was not running any more (another path ended it first). */
  finish(id: string, end: ExecutionEnd): boolean
  get(id: string): Execution | undefined
  summary(id: string): (ExecutionSummary & { owner: string }) | undefined
  list(filter: ExecutionFilter): ExecutionSummary[]
  events(id: string, after: number): ExecutionEvent[]
  /** Asks the process owning `id` to cancel it (it polls: see cancelRequests). */
  requestCancel(id: string): void
  /** The running executions of `owner` whose cancellation another process asked for. */
  cancelRequests(owner: string): string[]
  /** Running executions whose owner `isDead` says is gone: marked interrupted (with their last event); their ids. */
  interruptOrphans(isDead: (owner: string) => boolean, now: number): string[]
  /**
   * Deletes a batch of the ended executions older than `maxAgeMs` or beyond the newest `maxCount`: how many went,
   * and whether more may be left (a batch came back full: call again).
   */
  prune(now: number, maxAgeMs: number, maxCount: number): { pruned: number; more: boolean }
  close(): void
}

interface Row {
  id: string; pipeline: string; trigger: string; run_id: string; status: string; started_at: number; ended_at: number | null
  input_bytes: number; output: string | null; output_bytes: number | null; output_truncated: number
  error_code: string | null; error_message: string | null; owner: string
}

/** Deleting more than this many executions per transaction would hold the write lock long: a pass deletes in batches. */
const PRUNE_BATCH = 500

/** Whether a store exists in `dataDir` (a restart needs to look for orphans only then). */
export function hasExecutionStore(dataDir: string): boolean {
  return existsSync(join(dataDir, EXECUTIONS_FILE))
}

export function openExecutionStore(dataDir: string): ExecutionStore {
  const file = join(dataDir, EXECUTIONS_FILE)
  let db: Database.Database
  try {
    db = openWalFile(file)
    db.exec(`
      CREATE TABLE IF NOT EXISTS executions (
        id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, trigger TEXT NOT NULL, run_id TEXT NOT NULL, status TEXT NOT NULL,
        started_at INTEGER NOT NULL, ended_at INTEGER, input_bytes INTEGER NOT NULL,
        output TEXT, output_bytes INTEGER, output_truncated INTEGER NOT NULL DEFAULT 0,
        error_code TEXT, error_message TEXT, owner TEXT NOT NULL, cancel_requested INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS executions_started ON executions (started_at);
      CREATE INDEX IF NOT EXISTS executions_pipeline ON executions (pipeline, started_at);
      CREATE INDEX IF NOT EXISTS executions_running ON executions (owner) WHERE status = 'running';
      CREATE TABLE IF NOT EXISTS execution_events (
        execution TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (execution, seq)) WITHOUT ROWID;
    `)
  } catch (error) {
    throw new IsletError('ERR_EXECUTION_STORE', `the execution store ${file} could not be opened: ${messageOf(error)}`, { cause: error })
  }
  const q = {
    insert: db.prepare(`INSERT INTO executions (id, pipeline, trigger, run_id, status, started_at, input_bytes, owner)
      VALUES (@id, @pipeline, @trigger, @runId, 'running', @startedAt, @inputBytes, @owner)`),
    event: db.prepare('INSERT INTO execution_events (execution, seq, event) VALUES (?, ?, ?)'),
    finish: db.prepare(`UPDATE executions SET status = @status, ended_at = @endedAt, output = @output, output_bytes = @outputBytes,
      output_truncated = @truncated, error_code = @errorCode, error_message = @errorMessage WHERE id = @id AND status = 'running'`),
    get: db.prepare('SELECT * FROM executions WHERE id = ?'),
    events: db.prepare('SELECT event FROM execution_events WHERE execution = ? AND seq > ? ORDER BY seq').pluck(),
    lastSeq: db.prepare('SELECT max(seq) FROM execution_events WHERE execution = ?').pluck(),
    requestCancel: db.prepare(`UPDATE executions SET cancel_requested = 1 WHERE id = ? AND status = 'running'`),
    cancelRequests: db.prepare(`SELECT id FROM executions WHERE status = 'running' AND owner = ? AND cancel_requested = 1`).pluck(),
    running: db.prepare(`SELECT id, pipeline, owner FROM executions WHERE status = 'running'`),
    oldEnded: db.prepare(`SELECT id FROM executions WHERE status != 'running' AND started_at < ? LIMIT ${PRUNE_BATCH}`).pluck(),
    overCount: db.prepare(`SELECT id FROM executions WHERE status != 'running' ORDER BY started_at DESC, id DESC LIMIT ${PRUNE_BATCH} OFFSET ?`).pluck(),
    deleteOne: db.prepare('DELETE FROM executions WHERE id = ?'),
    deleteEvents: db.prepare('DELETE FROM execution_events WHERE execution = ?'),
  }

  const failed = (what: string, error: unknown) =>
    new IsletError('ERR_EXECUTION_STORE', `the execution store ${file} could not ${what}: ${messageOf(error)}`, { cause: error })
  const guard = <T>(what: string, work: () => T): T => {
    try {
      return work()
    } catch (error) {
      throw failed(what, error)
    }
  }

  const remove = db.transaction((ids: string[]) => {
    for (const id of ids) {
      q.deleteEvents.run(id)
      q.deleteOne.run(id)
    }
  })

  const finishRow = (id: string, end: ExecutionEnd): boolean => q.finish.run({
    id, status: end.status, endedAt: end.endedAt, output: end.output, outputBytes: end.outputBytes, truncated: end.truncated ? 1 : 0,
    errorCode: end.error?.code ?? null, errorMessage: end.error?.message ?? null,
  }).changes > 0

  return {
    insert: (execution) => guard('record a new execution', () => { q.insert.run(execution) }),
    appendEvent: (event) => guard('record an event', () => { q.event.run(event.execution, event.seq, JSON.stringify(event)) }),
    finish: (id, end) => guard('record an execution\'s end', () => finishRow(id, end)),
    get(id) {
      const row = guard('read an execution', () => q.get.get(id) as Row | undefined)
      if (!row) return undefined
      const events = guard('read an execution\'s events', () => (q.events.all(id, 0) as string[]).map((e) => JSON.parse(e) as ExecutionEvent))
      return full(row, events)
    },
    summary(id) {
      const row = guard('read an execution', () => q.get.get(id) as Row | undefined)
      return row && { ...summaryOf(row), owner: row.owner }
    },
    list(filter) {
      const where: string[] = []
      const params: unknown[] = []
      if (filter.pipeline !== undefined) { where.push('pipeline = ?'); params.push(filter.pipeline) }
      if (filter.status !== undefined) { where.push('status = ?'); params.push(filter.status) }
      if (filter.since !== undefined) { where.push('started_at >= ?'); params.push(Date.parse(filter.since)) }
      const sql = `SELECT * FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`
      return guard('list executions', () => (db.prepare(sql).all(...params, filter.limit ?? 50) as Row[]).map(summaryOf))
    },
    events: (id, after) => guard('read an execution\'s events', () => (q.events.all(id, after) as string[]).map((e) => JSON.parse(e) as ExecutionEvent)),
    requestCancel: (id) => guard('record a cancellation request', () => { q.requestCancel.run(id) }),
    cancelRequests: (owner) => guard('read cancellation requests', () => q.cancelRequests.all(owner) as string[]),
    interruptOrphans(isDead, now) {
      const rows = guard('read running executions', () => q.running.all() as { id: string; pipeline: string; owner: string }[])
      const orphans = rows.filter((r) => isDead(r.owner))
      const error = { code: 'ERR_EXECUTION_INTERRUPTED', message: 'the engine process running this execution stopped before it ended (found at the next start)' }
      guard('mark interrupted executions', () => db.transaction(() => {
        for (const { id, pipeline } of orphans) {
          if (!finishRow(id, { status: 'interrupted', endedAt: now, output: null, outputBytes: null, truncated: false, error })) continue
          const seq = ((q.lastSeq.get(id) as number | null) ?? 0) + 1
          const event: ExecutionEvent = { seq, type: 'pipeline.failed', execution: id, pipeline, at: new Date(now).toISOString(), status: 'interrupted', error }
          q.event.run(id, seq, JSON.stringify(event))
        }
      })())
      return orphans.map((o) => o.id)
    },
    prune(now, maxAgeMs, maxCount) {
      return guard('prune old executions', () => {
        let pruned = 0
        let more = false
        for (const ids of [q.oldEnded.all(now - maxAgeMs) as string[], q.overCount.all(maxCount) as string[]]) {
          remove(ids)
          pruned += ids.length
          more ||= ids.length === PRUNE_BATCH
        }
        return { pruned, more }
      })
    },
    close: () => db.close(),
  }
}

const iso = (ms: number) => new Date(ms).toISOString()

function summaryOf(row: Row): ExecutionSummary {
  return {
    id: row.id, pipeline: row.pipeline, trigger: row.trigger, runId: row.run_id, status: row.status as ExecutionStatus, startedAt: iso(row.started_at),
    ...(row.ended_at !== null ? { endedAt: iso(row.ended_at), durationMs: row.ended_at - row.started_at } : {}),
    inputBytes: row.input_bytes,
    ...(row.error_code !== null ? { error: { code: row.error_code, message: row.error_message ?? '' } } : {}),
  }
}

function full(row: Row, events: ExecutionEvent[]): Execution {
  const execution: Execution = { ...summaryOf(row), steps: stepsOf(events) }
  if (row.output !== null) execution.output = JSON.parse(row.output) as Execution['output']
  if (row.output_bytes !== null) execution.outputBytes = row.output_bytes
  if (row.output_truncated) execution.outputTruncated = true
  return execution
}

/** Each step's record from its events: started, then completed or failed (a step still running has only the first). */
export function stepsOf(events: readonly ExecutionEvent[]): ExecutionStep[] {
  const steps: ExecutionStep[] = []
  const open = new Map<string, ExecutionStep[]>()
  for (const event of events) {
    if (event.step === undefined) continue
    if (event.type === 'step.started') {
      const step: ExecutionStep = { name: event.step, status: 'running', startedAt: event.at }
      steps.push(step)
      const pending = open.get(event.step)
      if (pending) pending.push(step)
      else open.set(event.step, [step])
      continue
    }
    // A step of the same name may run more than once (inside a loop): its end closes the oldest open one.
    const step = open.get(event.step)?.shift()
    if (!step) continue
    step.status = event.type === 'step.failed' ? 'failed' : 'completed'
    step.endedAt = event.at
    if (event.durationMs !== undefined) step.durationMs = event.durationMs
    if (event.outputBytes !== undefined) step.outputBytes = event.outputBytes
    if (event.error) step.error = event.error
  }
  return steps
}
