// Durability of the workflow plugins across real engine processes (`islet run` children, one data directory):
// a durable event subscription keeps what it took across kill -9 and, after a restart, delivers each event exactly
// once; idempotency keys hold across processes (the same keys enqueued through two engines make one job each, run
// once). Each consumer run appends a JSON line to a file from a small step plugin.
import Database from 'better-sqlite3'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { killIslets, spawnIslet, type RunningIslet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { until } from './support/until.ts'

// Records `start` and `done` of each run; a run whose `hold` is true never ends its first attempt (until aborted).
const RECORD_PLUGIN = `import { appendFileSync } from 'node:fs'
import { definePlugin, defineStepType } from '@islet/sdk'
const record = defineStepType({
  type: 'record.run',
  configSchema: { type: 'object', additionalProperties: false, required: ['file', 'of', 'hold'], properties: { file: { type: 'string' }, of: {}, hold: {} } },
  create(config, ctx) {
    const of = ctx.compile(config.of)
    const hold = ctx.compile(config.hold)
    return async (scope) => {
      const line = (phase) => appendFileSync(config.file, JSON.stringify({ phase, of: of(scope), attempt: scope.view.job.attempt, pid: process.pid }) + '\\n')
      line('start')
      if (hold(scope) === true && scope.view.job.attempt === 1) await new Promise((resolve) => scope.signal.addEventListener('abort', resolve))
      line('done')
    }
  },
})
export default definePlugin({ name: 'record', version: '1.0.0', islet: '^0.1.0', stepTypes: [record] })
`

interface Run { phase: 'start' | 'done'; of: string; attempt: number; pid: number }

const running: RunningIslet[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  await killIslets(running)
  cleanups.splice(0).forEach((cleanup) => cleanup())
})

function setup(app: string) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': app, 'record.ts': RECORD_PLUGIN, 'runs.log': '' })
  cleanups.push(cleanup)
  const log = join(dir, 'runs.log')
  const engine = (): RunningIslet => {
    const run = spawnIslet(['run', 'app.yaml', '--data-dir', 'data'], { cwd: dir, env: { PORT: '0', RUNS_FILE: log } })
    running.push(run)
    return run
  }
  const urlOf = async (run: RunningIslet) => String((await run.waitFor((l) => typeof l.url === 'string', 45_000)).url)
  const runs = (): Run[] => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Run)
  const jobs = (): { state: string; key: string | null }[] => {
    const db = new Database(join(dir, 'data', 'queues.db'), { readonly: true })
    try {
      return db.prepare('SELECT state, key FROM jobs').all() as { state: string; key: string | null }[]
    } finally { db.close() }
  }
  const post = async (url: string, path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(response.status).toBe(202)
    return response.json() as Promise<Record<string, unknown>>
  }
  return { engine, urlOf, runs, jobs, post, log }
}

const HTTP = `  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /events, pipeline: publish }, { method: POST, path: /jobs, pipeline: submit }]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
`

describe('workflow durability across engine processes', () => {
  it('a durable subscription survives kill -9: after a restart every event is delivered, each exactly once', async () => {
    const t = setup(`apiVersion: islet/v1
plugins: [./record.ts]
modules:
${HTTP}  - name: outbox
    type: queue.sqlite
    config: { pollInterval: 50, consumer: { pipeline: deliver, concurrency: 2, visibilityTimeout: 1s, stopGrace: 0 } }
  - name: subs
    type: events.subscriber
    config: { subscriptions: [{ topic: mail.*, durable: { queue: outbox } }] }
pipelines:
  publish:
    steps:
      - { type: emit, config: { topic: mail.sent, payload: '\${{ body }}' } }
      - { type: respond, config: { status: 202, body: {} } }
  submit:
    steps: [{ type: respond, config: { status: 202, body: {} } }]
  deliver:
    steps:
      - { type: record.run, config: { file: '\${RUNS_FILE}', of: '\${{ input.payload.n }}', hold: '\${{ input.payload.hold }}' } }
`)
    const first = t.engine()
    const url = await t.urlOf(first)
    // Two held events fill both consumer slots; the eight after them are stored and wait.
    for (let n = 1; n <= 10; n++) await t.post(url, '/events', { n, hold: n <= 2 })
    await until(() => t.jobs().length === 10 && t.runs().filter((r) => r.phase === 'start').length === 2,
      { ms: 30_000, explain: () => `${JSON.stringify(t.jobs())} ${readFileSync(t.log, 'utf8')}` })
    expect(t.jobs().map((j) => j.state).sort()).toEqual([...Array(2).fill('running'), ...Array(8).fill('waiting')])
    first.child.kill('SIGKILL')
    await first.exited

    const second = t.engine()
    await t.urlOf(second)
    await until(() => t.jobs().every((j) => j.state === 'done'), { ms: 30_000, explain: () => JSON.stringify(t.jobs()) })
    const runs = t.runs()
    const done = runs.filter((r) => r.phase === 'done')
    // Every event delivered once, by the restarted engine; the two held ones ran again once their lease ran out.
    expect(done.map((r) => Number(r.of)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(done.every((r) => r.pid === second.child.pid)).toBe(true)
    expect(runs.filter((r) => r.phase === 'start' && r.pid === first.child.pid).map((r) => Number(r.of)).sort()).toEqual([1, 2])
    expect(done.filter((r) => r.attempt === 2).map((r) => Number(r.of)).sort()).toEqual([1, 2])
  }, 120_000)

  it('idempotency keys hold across two engine processes: 10 keys enqueued through both make 10 jobs, each run once', async () => {
    const t = setup(`apiVersion: islet/v1
plugins: [./record.ts]
modules:
${HTTP}  - name: work
    type: queue.sqlite
    config: { pollInterval: 50, consumer: { pipeline: process, concurrency: 2 } }
pipelines:
  publish:
    steps: [{ type: respond, config: { status: 202, body: {} } }]
  submit:
    steps:
      - name: put
        type: enqueue
        config: { queue: work, payload: '\${{ body }}', key: '\${{ body.key }}' }
      - { type: respond, config: { status: 202, body: '\${{ steps.put }}' } }
  process:
    steps:
      - { type: record.run, config: { file: '\${RUNS_FILE}', of: '\${{ input.key }}', hold: false } }
`)
    const [a, b] = [t.engine(), t.engine()]
    const [urlA, urlB] = await Promise.all([t.urlOf(a), t.urlOf(b)])
    const keys = Array.from({ length: 10 }, (_, i) => `order-${i}`)
    // Each key through both engines at once, so the two race for it.
    const answers = await Promise.all(keys.flatMap((key) => [t.post(urlA, '/jobs', { key }), t.post(urlB, '/jobs', { key })]))
    for (let i = 0; i < keys.length; i++) {
      const [viaA, viaB] = [answers[2 * i]!, answers[2 * i + 1]!]
      expect(viaA.id).toBe(viaB.id)
      expect([viaA.deduped, viaB.deduped].sort()).toEqual([false, true])
    }
    await until(() => t.jobs().length === 10 && t.jobs().every((j) => j.state === 'done'), { ms: 30_000, explain: () => JSON.stringify(t.jobs()) })
    expect(t.jobs().map((j) => j.key).sort()).toEqual([...keys].sort())
    const done = t.runs().filter((r) => r.phase === 'done')
    expect(done.map((r) => r.of).sort()).toEqual([...keys].sort())
    expect(done.every((r) => r.attempt === 1)).toBe(true)
  }, 120_000)
})
