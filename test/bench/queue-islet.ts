// The Islet side of §17's queue benchmark: a real `islet run` (its own process group) of QUEUE_APP, queue.sqlite
// queues c1 and c8 (consumer concurrency 1 and 8) whose consumer pipeline is one `log` step (at warn, so the
// engine's own info lines stay off): the job's start is that line's time. Jobs are enqueued as a user's client
// would: POST /jobs/c1 or /jobs/c8, a route whose pipeline is an `enqueue` step answering 202 once the job is
// committed. Completion is read from <data dir>/queues.db (state done; updated_at is when it was written).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { writeFiles } from '../support/files.ts'
import { until } from '../support/until.ts'
import { post, startCli } from './cli-server.ts'
import { onExit } from './exit-cleanup.ts'
import { burst, QUEUE_PORT, startLine, type Target } from './queue-target.ts'

/** BENCH_QUEUE_SYNC=full measures the queues with an fsync per commit (queue.sqlite's `synchronous: full`). */
export const QUEUE_SYNC = process.env.BENCH_QUEUE_SYNC === 'full' ? 'full' : 'normal'

export const QUEUE_APP = `apiVersion: islet/v1
modules:
  - name: c1
    type: queue.sqlite
    config: { synchronous: ${QUEUE_SYNC}, consumer: { pipeline: work, concurrency: 1 } }
  - name: c8
    type: queue.sqlite
    config: { synchronous: ${QUEUE_SYNC}, consumer: { pipeline: work, concurrency: 8 } }
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /jobs/c1, pipeline: put-c1 }
        - { method: POST, path: /jobs/c8, pipeline: put-c8 }
  - name: web
    type: http.server
    config:
      port: \${PORT:-0}
      routers: [api]
pipelines:
  put-c1:
    steps:
      - { name: job, type: enqueue, config: { queue: c1, payload: '\${{ body }}', delay: '\${{ body.delayMs }}' } }
      - { type: respond, config: { status: 202, body: '\${{ steps.job }}' } }
  put-c8:
    steps:
      - { name: job, type: enqueue, config: { queue: c8, payload: '\${{ body }}', delay: '\${{ body.delayMs }}' } }
      - { type: respond, config: { status: 202, body: '\${{ steps.job }}' } }
  work:
    steps:
      - type: log
        config: { level: warn, message: job-start, fields: { q: '\${{ job.queue }}', i: '\${{ input.i }}' } }
`

export async function startIslet(): Promise<Target> {
  const { dir, cleanup } = writeFiles({ 'app.yaml': QUEUE_APP })
  const dataDir = mkdtempSync(join(tmpdir(), 'islet-bench-queue-'))
  const starts = new Map<number, number>()
  const server = startCli('run', join(dir, 'app.yaml'), QUEUE_PORT, { dataDir, logLevel: 'warn', stdout: startLine(starts) })
  const forget = onExit(() => { try { process.kill(-server.pid, 'SIGKILL') } catch { /* gone */ } rmSync(dataDir, { recursive: true, force: true }); cleanup() })
  await until(async () => {
    if (server.child.exitCode !== null) throw new Error(`islet run exited with ${server.child.exitCode}: ${server.stderr()}`)
    return post(`${server.url}/jobs/c1`, '{"i":-1}', 2000).then(async (r) => { await r.arrayBuffer(); return r.status === 202 }, () => false)
  }, { ms: 60_000, everyMs: 20, explain: () => server.stderr() })
  const db = new Database(join(dataDir, 'queues.db'), { readonly: true, fileMustExist: true })
  const maxId = db.prepare('SELECT COALESCE(MAX(id), 0) FROM jobs WHERE queue = ?').pluck()
  // This run's rows only, by id: left to choose, SQLite counts every done job of the queue at each poll, and the
  // polling (this process, sharing the machine's 2 cores with the server) grows with every round.
  const done = db.prepare(`SELECT COUNT(*) AS n, MAX(updated_at) AS last FROM jobs NOT INDEXED WHERE id > ? AND queue = ? AND state = 'done'`)
  const target: Target = {
    label: `islet queue.sqlite (${QUEUE_SYNC})`, roots: [server.pid], starts,
    async enqueue(queue, i, delayMs) {
      const res = await post(`${server.url}/jobs/${queue}`, JSON.stringify({ i, delayMs }), 10_000)
      await res.arrayBuffer()
      if (res.status !== 202) throw new Error(`POST /jobs/${queue} answered ${res.status}`)
    },
    async backlog(queue, count, inFlight, sent, leadMs) {
      const dueAt = Date.now() + leadMs
      const b = await burst(target, queue, count, inFlight, sent, dueAt)
      return { dueAt, late: b.lastAck > dueAt, failed: b.failed }
    },
    async expect(queue, count) {
      const after = maxId.get(queue) as number
      return async () => {
        let last = 0
        await until(() => {
          const r = done.get(after, queue) as { n: number; last: number | null }
          last = r.last ?? 0
          return r.n >= count
        }, { ms: 120_000, everyMs: 20, explain: () => server.stderr() })
        return last
      }
    },
    async close() {
      db.close()
      await server.stop()
      forget()
      rmSync(dataDir, { recursive: true, force: true })
      cleanup()
    },
  }
  return target
}
