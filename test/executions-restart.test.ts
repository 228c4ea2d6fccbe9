// What becomes of executions still running when their engine goes away: a graceful stop ends them `interrupted`
// (their steps see the abort while the modules are still up); a crash (kill -9 of a real `islet run`) leaves them
// running in the file, and the next start marks them `interrupted`. Never resumed. Real child processes, real SQLite.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnIslet, type RunningIslet, killIslets } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { json, startApp } from './support/app.ts'
import { gate, gatePlugin, resetGates } from './support/executions.ts'
import { until } from './support/until.ts'
import { openExecutionStore } from '../runtime/executions/store.ts'

const HANG_PLUGIN = `import { definePlugin, defineStepType } from '@islet/sdk'
export default definePlugin({
  name: 'hang', version: '1.0.0',
  stepTypes: [defineStepType({
    type: 'test.hang',
    configSchema: { type: 'object' },
    create: () => (scope) => new Promise((_resolve, reject) => scope.signal.addEventListener('abort', () => reject(scope.signal.reason), { once: true })),
  })],
})
`

const APP = (pipelineStep: string) => `apiVersion: islet/v1
modules:
  - name: admin
    type: islet.admin
  - name: runs
    type: http.executions
  - name: api
    type: http.router
    config:
      executions: runs
      routes: [{ method: POST, path: /hang, pipeline: hang, execution: async }]
  - name: web
    type: http.server
    config: { port: 0, host: 127.0.0.1, middleware: [admin], routers: [api, runs] }
pipelines:
  hang:
    steps:
      - name: hold
${pipelineStep}
`

const running: RunningIslet[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  await killIslets(running)
  for (const c of cleanups.splice(0)) c()
  resetGates()
})

async function run(dir: string): Promise<{ islet: RunningIslet; url: string }> {
  const islet = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
  running.push(islet)
  const listening = await islet.waitFor((l) => typeof l.url === 'string' && String(l.msg).startsWith('listening on'), 60_000)
  await islet.waitFor((l) => l.msg === 'engine ready', 60_000)
  return { islet, url: String(listening.url) }
}

describe('executions when the engine goes away', () => {
  it('a restart after kill -9 marks the executions the dead engine was running interrupted', async () => {
    const { dir, cleanup } = writeFiles({
      'app.yaml': `plugins: [./hang.ts]\n${APP('        type: test.hang\n        config: {}')}`,
      'hang.ts': HANG_PLUGIN,
    })
    cleanups.push(cleanup)
    const first = await run(dir)
    const { execution: id } = await json(await fetch(`${first.url}/hang`, { method: 'POST' }))
    await until(async () => (await json(await fetch(`${first.url}/admin/executions/${id}`))).steps.length === 1)
    first.islet.child.kill('SIGKILL')
    await first.islet.exited

    const second = await run(dir)
    const record = await json(await fetch(`${second.url}/executions/${id}`))
    expect(record).toMatchObject({ id, status: 'interrupted', error: { code: 'ERR_EXECUTION_INTERRUPTED' } })
    expect((await json(await fetch(`${second.url}/admin/executions?status=interrupted`))).map((e: any) => e.id)).toEqual([id])
    // Its last recorded event says so: an SSE client replaying it sees the end, and the stream ends.
    const replay = await (await fetch(`${second.url}/executions/${id}/events`)).text()
    expect(replay.trimEnd().split('\n\n').at(-1)).toContain('event: pipeline.failed')
  }, 120_000)

  it('a graceful stop ends a running execution interrupted, its step aborted while modules are still up', async () => {
    const t = await startApp({ 'app.yaml': APP('        type: test.gate\n        config: { gate: held }') }, { plugins: [gatePlugin] })
    let closed = false
    try {
      const { execution: id } = await json(await fetch(`${t.url}/hang`, { method: 'POST' }))
      await until(() => gate('held').entered === 1)
      await t.engine.stop()
      expect(gate('held').aborts).toEqual(['ERR_EXECUTION_INTERRUPTED'])
      const store = openExecutionStore(join(t.dir, 'data'))
      try {
        expect(store.get(id)).toMatchObject({ status: 'interrupted', error: { code: 'ERR_EXECUTION_INTERRUPTED' }, steps: [{ name: 'hold', status: 'failed' }] })
        expect(store.events(id, 0).at(-1)).toMatchObject({ type: 'pipeline.failed', status: 'interrupted' })
      } finally {
        store.close()
      }
      await t.close()
      closed = true
    } finally {
      if (!closed) await t.close()
    }
  })
})
