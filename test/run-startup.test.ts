// What `islet run` starts beside the engine: on unchanged components, the one sandbox worker that serves them (no
// esbuild service, no examples worker); for an app without components, nothing.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spawnIslet, type RunningIslet } from './support/cli.ts'
import { writeFiles } from './support/app.ts'
import { until } from './support/until.ts'

const COMPONENT = `import { defineComponent } from '@islet/sdk'
export default defineComponent<unknown, { n: number }, { twice: number }>({
  name: 'twice',
  input: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
  examples: [{ input: { n: 2 }, output: { twice: 4 } }],
  execute: ({ n }) => ({ twice: n * 2 }),
})
`

const APP = `apiVersion: islet/v1
components:
  - file: ./twice.ts
modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /twice, pipeline: twice }]
  - name: web
    type: http.server
    config:
      port: 0
      host: 127.0.0.1
      routers: [api]
pipelines:
  twice:
    steps:
      - { name: t, type: component, config: { component: twice, input: '\${{ body }}' } }
      - { type: respond, config: { body: '\${{ steps.t }}' } }
`

/** The command lines of the processes `pid` started that are still running. */
function children(pid: number): string[] {
  let ids: string[]
  try {
    ids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
  } catch {
    return []
  }
  return ids.flatMap((id) => {
    try {
      return [readFileSync(`/proc/${id}/cmdline`, 'utf8').split('\0').join(' ')]
    } catch {
      return []
    }
  })
}

async function started(dir: string, data: string): Promise<{ run: RunningIslet; port: number }> {
  const run = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, data)], { cwd: dir })
  const line = await run.waitFor((l) => typeof l.url === 'string', 30_000)
  await run.waitFor((l) => l.msg === 'engine ready', 30_000)
  return { run, port: Number(new URL(line.url as string).port) }
}

async function stopped(run: RunningIslet): Promise<void> {
  run.child.kill('SIGTERM')
  expect(await run.exited).toBe(0)
}

describe.skipIf(process.platform !== 'linux')('islet run: the processes beside the engine', () => {
  it('on components compiled by an earlier run, only the sandbox worker: no esbuild, no examples worker', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': APP, 'twice.ts': COMPONENT })
    // The first run may compile (and keeps the bundle on disk); its examples ran before it served.
    await stopped((await started(dir, 'd1')).run)
    const { run, port } = await started(dir, 'd2')
    try {
      const response = await fetch(`http://127.0.0.1:${port}/twice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":21}' })
      expect(await response.json()).toEqual({ twice: 42 })
      const running = children(run.child.pid!)
      expect(running, running.join('\n')).toHaveLength(1)
      expect(running[0]).toMatch(/runtime\/sandbox\/worker\.ts|\.cache\/islet\/worker\/worker-[0-9a-f]+\.mjs/)
    } finally {
      await stopped(run)
      cleanup()
    }
  }, 90_000)

  it('on a component it had to compile, esbuild\'s service stops once start-up is done', async () => {
    // Unique source: no bundle on disk from an earlier run or test, so this run starts esbuild.
    const { dir, cleanup } = writeFiles({ 'app.yaml': APP, 'twice.ts': `${COMPONENT}// ${process.pid}-${Date.now()}\n` })
    const { run, port } = await started(dir, 'data')
    try {
      const response = await fetch(`http://127.0.0.1:${port}/twice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":4}' })
      expect(await response.json()).toEqual({ twice: 8 })
      // esbuild stops a second after its last build, the examples worker 1.5 s after its last example: wait for both,
      // whichever goes first; what stays is the sandbox worker alone.
      const settled = () => children(run.child.pid!).length === 1 && !children(run.child.pid!).some((c) => c.includes('esbuild'))
      await until(settled, { ms: 20_000, explain: () => children(run.child.pid!).join('\n') })
      expect(children(run.child.pid!)[0]).toMatch(/runtime\/sandbox\/worker\.ts|\.cache\/islet\/worker\/worker-[0-9a-f]+\.mjs/)
    } finally {
      await stopped(run)
      cleanup()
    }
  }, 60_000)

  it('an app that only looked as if it might declare components keeps no worker', async () => {
    // `imports:` makes run fork a worker early, in case an imported file declares components; none does.
    const { dir, cleanup } = writeFiles({
      'app.yaml': APP.replace(/components:\n {2}- file: \.\/twice\.ts\n/, 'imports: [./pipelines.yaml]\n').replace(/pipelines:\n[\s\S]*$/, ''),
      'pipelines.yaml': 'apiVersion: islet/v1\npipelines:\n  twice:\n    steps:\n      - { type: respond, config: { body: { twice: 0 } } }\n',
    })
    const { run } = await started(dir, 'data')
    try {
      await until(() => children(run.child.pid!).length === 0, { ms: 15_000, explain: () => children(run.child.pid!).join('\n') })
    } finally {
      await stopped(run)
      cleanup()
    }
  }, 60_000)
})

describe.skipIf(process.platform !== 'linux')('islet run: the engine heap', () => {
  // Node's default young generation grows to ~50 MB under load and is kept: the engine re-executes itself (same
  // pid, bin.js) with a smaller semi-space before loading anything, unless one was chosen.
  const INLINE = APP.replace(/components:\n {2}- file: \.\/twice\.ts\n/, '').replace(/pipelines:\n[\s\S]*$/, 'pipelines:\n  twice:\n    steps:\n      - { type: respond, config: { body: { twice: 0 } } }\n')
  const flags = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.startsWith('--max-semi-space-size'))

  it('serves from the same process with --max-semi-space-size=8', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': INLINE })
    const { run } = await started(dir, 'data')
    try {
      expect(flags(run.child.pid!)).toEqual(['--max-semi-space-size=8'])
    } finally {
      await stopped(run)
      cleanup()
    }
  }, 60_000)

  it('a size given in NODE_OPTIONS wins: no re-execution', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': INLINE })
    const run = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir, env: { NODE_OPTIONS: '--max-semi-space-size=16' } })
    await run.waitFor((l) => l.msg === 'engine ready', 30_000)
    try {
      expect(flags(run.child.pid!)).toEqual([])
    } finally {
      await stopped(run)
      cleanup()
    }
  }, 60_000)
})
