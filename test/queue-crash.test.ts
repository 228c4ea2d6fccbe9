// The queue's guarantees across real engine processes (`islet run` in child processes, one data directory):
// at-least-once across kill -9 (the jobs a killed consumer held run again after a restart once their lease ran out;
// jobs completed before the kill never run again; jobs waiting run once), and several processes consuming one queue
// never run a job twice. Each run appends `start <job> <attempt> <pid>` to a file from a small step plugin.
import Database from 'better-sqlite3'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spawnIslet, type RunningIslet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { until } from './support/until.ts'

// A step that records each run and, for a job marked `hang`, never ends its first attempt (until aborted).
const MARK_PLUGIN = `import { appendFileSync } from 'node:fs'
import { definePlugin, defineStepType } from '@islet/sdk'
const mark = defineStepType({
  type: 'mark.run',
  configSchema: { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
  create(config) {
    return async (scope) => {
      const job = scope.view.job
      appendFileSync(config.file, 'start ' + job.id + ' ' + job.attempt + ' ' + process.pid + '\\n')
      if (scope.input.hang && job.attempt === 1) await new Promise((resolve) => scope.signal.addEventListener('abort', resolve))
      if (scope.input.slow) await new Promise((resolve) => setTimeout(resolve, 2))
    }
  },
})
export default definePlugin({ name: 'mark', version: '1.0.0', islet: '^0.1.0', stepTypes: [mark] })
`

const APP = `apiVersion: islet/v1
plugins: [./mark.ts]
modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /jobs, pipeline: submit }]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
  - name: work
    type: queue.sqlite
    config:
      pollInterval: 50
      consumer:
        pipeline: process
        concurrency: 4
        visibilityTimeout: 1s
        stopGrace: 0
pipelines:
  submit:
    steps:
      - name: put
        type: enqueue
        config: { queue: work, payload: '\${{ body }}' }
      - type: respond
        config: { status: 202, body: '\${{ steps.put }}' }
  process:
    steps:
      - type: mark.run
        config: { file: '\${MARK_FILE}' }
`

interface Start { job: string; attempt: number; pid: number }

function setup() {
  const { dir, cleanup } = writeFiles({ 'app.yaml': APP, 'mark.ts': MARK_PLUGIN, 'marks.log': '' })
  const marks = join(dir, 'marks.log')
  const engine = (): RunningIslet => spawnIslet(['run', 'app.yaml', '--data-dir', 'data'], { cwd: dir, env: { PORT: '0', MARK_FILE: marks } })
  const urlOf = async (run: RunningIslet) => String((await run.waitFor((l) => typeof l.url === 'string', 45_000)).url)
  const starts = (): Start[] => readFileSync(marks, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [, job, attempt, pid] = line.split(' ')
    return { job: job!, attempt: Number(attempt), pid: Number(pid) }
  })
  const states = (): Map<string, string> => {
    const db = new Database(join(dir, 'data', 'queues.db'), { readonly: true })
    try {
      return new Map((db.prepare('SELECT id, state FROM jobs').all() as { id: number; state: string }[]).map((r) => [String(r.id), r.state]))
    } finally { db.close() }
  }
  const enqueue = async (url: string, body: unknown) => {
    const response = await fetch(`${url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(response.status).toBe(202)
    return ((await response.json()) as { id: string }).id
  }
  return { dir, cleanup, engine, urlOf, starts, states, enqueue }
}

const stop = async (run: RunningIslet) => { if (run.child.exitCode === null) run.child.kill('SIGTERM'); await run.exited }

describe('queue durability across engine processes', () => {
  it('kill -9: held jobs run again after restart once their lease expires; done jobs never again; waiting jobs once', async () => {
    const t = setup()
    const first = t.engine()
    let second: RunningIslet | undefined
    try {
      const url = await t.urlOf(first)
      const hang = new Set([3, 7, 11, 19])
      const ids: string[] = []
      for (let n = 1; n <= 30; n++) ids.push(await t.enqueue(url, { n, hang: hang.has(n) }))
      const hanging = new Set([...hang].map((n) => ids[n - 1]!))
      const pid1 = first.child.pid!
      // The four hanging jobs hold all four slots: every job that ran before them has been recorded done.
      await until(() => t.starts().filter((s) => hanging.has(s.job)).length === 4, { ms: 30_000, explain: () => readFileSync(join(t.dir, 'marks.log'), 'utf8') })
      const before = t.states()
      first.child.kill('SIGKILL')
      await first.exited
      const doneAtKill = [...before].filter(([, state]) => state === 'done').map(([id]) => id)
      expect(doneAtKill.length + 4 + [...before.values()].filter((s) => s === 'waiting').length).toBe(30)
      expect([...hanging].every((id) => before.get(id) === 'running')).toBe(true)

      second = t.engine()
      await t.urlOf(second)
      const pid2 = second.child.pid!
      await until(() => [...t.states().values()].filter((s) => s === 'done').length === 30, { ms: 30_000, explain: () => JSON.stringify([...t.states()]) })

      const starts = t.starts()
      const runsOf = (id: string) => starts.filter((s) => s.job === id)
      for (const id of ids) {
        if (hanging.has(id)) {
          // Held by the killed consumer: its first attempt in the first engine, run again (attempt 2) in the second.
          expect(runsOf(id).map((s) => [s.attempt, s.pid])).toEqual([[1, pid1], [2, pid2]])
        } else {
          expect(runsOf(id)).toHaveLength(1)
        }
      }
      // None of the jobs recorded done before the kill ran in the second engine.
      const rerun = starts.filter((s) => s.pid === pid2 && doneAtKill.includes(s.job))
      expect(rerun).toEqual([])
      expect(starts.filter((s) => s.pid === pid2)).toHaveLength(30 - doneAtKill.length)
    } finally {
      await stop(first)
      if (second) await stop(second)
      t.cleanup()
    }
  }, 120_000)

  it('two engine processes on one data directory never run one job twice', async () => {
    const t = setup()
    const a = t.engine()
    const b = t.engine()
    try {
      const [urlA, urlB] = await Promise.all([t.urlOf(a), t.urlOf(b)])
      const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => t.enqueue(i % 2 ? urlA : urlB, { i, slow: true })))
      await until(() => [...t.states().values()].filter((s) => s === 'done').length === 200, { ms: 60_000 })
      const starts = t.starts()
      expect(starts).toHaveLength(200)
      expect(new Set(starts.map((s) => s.job))).toEqual(new Set(ids))
      expect(starts.every((s) => s.attempt === 1)).toBe(true)
    } finally {
      await Promise.all([stop(a), stop(b)])
      t.cleanup()
    }
  }, 120_000)
})
