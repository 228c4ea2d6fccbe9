// Test support for the queue suites: an app with a queue whose consumer records each run in app.db and fails on
// demand (an attempt number, or a switch row in app.db), an HTTP route that enqueues, and the admin API behind tokens.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { QueueModule } from '../../plugins/queue/module.ts'
import { startApp, type TestApp } from './app.ts'
import { tokenAuth } from './token-auth.ts'

const app = (options: QueueAppOptions) => `apiVersion: islet/v1
modules:
  - name: tok
    type: test.token
    config:
      tokens:
        t-admin: { subject: ops, scopes: [admin] }
        t-read: { subject: dashboard, scopes: ['admin:read'] }
  - name: admin
    type: islet.admin
    config: { auth: [tok] }
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /jobs, pipeline: submit }]
  - name: web
    type: http.server
    config: { port: 0, middleware: [admin], routers: [api] }
  - name: db
    type: storage.sqlite
    config: { file: app.db, migrations: migrations }
  - name: work
    type: queue.sqlite
    config:
      pollInterval: ${options.pollInterval ?? '5s'}
      busyTimeoutMs: ${options.busyTimeoutMs ?? 5000}
      consumer:
        pipeline: process
        concurrency: 4
        maxAttempts: 3
        retries: { delay: 2, factor: 2, maxDelay: 10, jitter: 0.5 }
pipelines:
  submit:
    steps:
      - name: put
        type: enqueue
        config: { queue: work, payload: '\${{ body }}', key: '\${{ body.key }}', priority: '\${{ body.priority ?? 0 }}', delay: '\${{ body.delay ?? 0 }}' }
      - type: respond
        config: { status: 202, body: '\${{ steps.put }}' }
  process:
    steps:
      - type: sql.exec
        config:
          db: db
          sql: INSERT INTO runs (job, name, attempt) VALUES (:job, :name, :attempt)
          params: { job: '\${{ job.id }}', name: '\${{ input.name }}', attempt: '\${{ job.attempt }}' }
      - name: switch
        type: sql.query
        config: { db: db, sql: SELECT broken FROM switch WHERE name = :name, params: { name: '\${{ input.name }}' } }
      - if: '\${{ job.attempt <= (input.failUntil ?? 0) || steps.switch[0].broken == 1 }}'
        then:
          - type: fail
            config: { status: '\${{ input.status ?? 500 }}', code: ERR_FLAKY, message: 'attempt \${{ job.attempt }} of \${{ input.name }} fails' }
`
const MIGRATION = `CREATE TABLE runs (job TEXT NOT NULL, name TEXT NOT NULL, attempt INTEGER NOT NULL);
CREATE TABLE switch (name TEXT PRIMARY KEY, broken INTEGER NOT NULL);`

export interface QueueApp extends TestApp {
  queue: QueueModule
  /** POSTs /jobs (the enqueue step): { name, failUntil?, status?, key?, priority?, delay? }. */
  post(body: unknown): Promise<{ id: string; deduped: boolean }>
  /** The attempts of the runs of jobs named `name`, in order. */
  runs(name: string): number[]
  /** Sets whether jobs named `name` fail (a row in app.db the consumer reads). */
  broken(name: string, broken: boolean): void
}

export interface QueueAppOptions {
  pollInterval?: string
  /** How long a write waits for another connection's lock on queues.db (the module's busyTimeoutMs). */
  busyTimeoutMs?: number
}

export async function startQueueApp(options: QueueAppOptions = {}): Promise<QueueApp> {
  const t = await startApp({ 'app.yaml': app(options), 'migrations/001_runs.sql': MIGRATION }, { plugins: [tokenAuth] })
  const db = new Database(join(t.dir, 'data', 'app.db'))
  return {
    ...t,
    queue: t.engine.module<QueueModule>('work'),
    async post(body) {
      const response = await fetch(`${t.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      expect(response.status).toBe(202)
      return await response.json() as { id: string; deduped: boolean }
    },
    runs: (name) => (db.prepare('SELECT attempt FROM runs WHERE name = ? ORDER BY rowid').pluck().all(name) as number[]),
    broken: (name, broken) => { db.prepare('INSERT INTO switch (name, broken) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET broken = excluded.broken').run(name, broken ? 1 : 0) },
    async close() { db.close(); await t.close() },
  }
}

