// Runtime errors of a component carry its own file:line:col: the guest's stack mapped through the build's source map
// (kept by the engine, never in the isolate), relative to the app's folder (the cwd for `islet component test`), in
// the error message and details, the engine's log line for the failed call, reload reports and `component test`.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ComponentDecl } from '../runtime/config/types.ts'
import { createComponentHost, type ComponentEvent, type ComponentHost } from '../runtime/components/host.ts'
import { IsletError } from '../runtime/errors.ts'
import { createEventBus } from '../runtime/events/bus.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { json, startApp, writeFiles } from './support/app.ts'
import { islet } from './support/cli.ts'

// Line and column numbers below are of these sources, as an editor shows them (1-based).
const HELPER = `// Reads the host of a URL.
export function hostOf(path: string): string {
  const base: string = 'https://example.com'
  return new URLPattern(path, base).host
}
`
const INDEX = `import { defineComponent } from '@islet/sdk'
import { hostOf } from './helper.ts'

interface Input { path: string; boom?: boolean }

export default defineComponent<unknown, Input, { host: string }>({
  name: 'counter',
  execute(input) {
    if (input.boom) throw new Error('boom')
    return { host: hostOf(input.path) }
  },
})
`
// URLPattern is a global the isolate lacks. V8 places a ReferenceError raised inside `return new URLPattern(…)` at the
// return statement.
const AT_HELPER = { file: 'components/counter/helper.ts', line: 4, col: 3 }
const AT_INDEX = { file: 'components/counter/index.ts', line: 9, col: 27 }

const { dir, cleanup } = writeFiles({ 'components/counter/helper.ts': HELPER, 'components/counter/index.ts': INDEX })
afterAll(cleanup)

function decl(name: string, file: string): ComponentDecl {
  const at = { file: join(dir, 'app.yaml'), line: 1, col: 1 }
  return { name, file: join(dir, file), limits: {}, grants: { kv: false, emit: [], secrets: [] }, config: {}, source: at, configSource: at }
}

function createHost(decls: ComponentDecl[]): ComponentHost {
  return createComponentHost({
    components: decls, logger: silentLogger(), dataDir: join(dir, 'data'), bus: createEventBus(),
    sandbox: { workers: 1, limits: { timeoutMs: 1000, cpuMs: 300 }, quarantine: { breaches: 1_000, windowMs: 1, baseMs: 1, maxMs: 1 } },
  })
}

async function failure(promise: Promise<unknown>): Promise<IsletError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof IsletError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

const where = (at: { file: string; line: number; col: number }) => `(${at.file}:${at.line}:${at.col})`

describe('a component that throws at run time', () => {
  let host: ComponentHost
  beforeAll(async () => {
    host = createHost([decl('counter', 'components/counter/index.ts')])
    await host.start()
  })
  afterAll(() => host?.stop())

  it('names the line of its own source, in the file that threw (an imported one too)', async () => {
    const error = await failure(host.invoke('counter', { path: '/x' }))
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toBe(`URLPattern is not defined ${where(AT_HELPER)}`)
    expect(error.details.location).toEqual(AT_HELPER)
    const own = await failure(host.invoke('counter', { path: '/x', boom: true }))
    expect(own.message).toBe(`boom ${where(AT_INDEX)}`)
    expect(own.details.location).toEqual(AT_INDEX)
  })

  it('never shows a host path, and passes no raw frames on', async () => {
    const error = await failure(host.invoke('counter', { path: '/x' }))
    expect(error.message).not.toContain(dir)
    expect(JSON.stringify(error.details)).not.toMatch(/runtime\/|node_modules|frames/)
  })
})

describe('errors while loading and reloading', () => {
  it('module evaluation that throws is located', async () => {
    writeFileSync(join(dir, 'components/broken.ts'), `import { defineComponent } from '@islet/sdk'
const table: Record<string, number> = {}
table.x = (globalThis as any).missing.value
export default defineComponent({ name: 'broken', execute: () => table })
`)
    const host = createHost([decl('broken', 'components/broken.ts')])
    const error = await failure(host.start())
    await host.stop()
    expect(error.message).toContain(`(components/broken.ts:3:39)`)
  })

  it('a reload whose init or example throws reports where', async () => {
    const file = join(dir, 'components/reloaded.ts')
    const write = (members: string) => writeFileSync(file, `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'reloaded',
${members}
  execute: (input: any) => ({ n: input.n.toFixed(0) }),
})
`)
    write('')
    const host = createHost([decl('reloaded', 'components/reloaded.ts')])
    await host.start()
    const events: ComponentEvent[] = []
    host.onEvent((e) => events.push(e))
    try {
      write("  init() { throw new Error('no config') },")
      const init = await host.reload('reloaded')
      expect(init.error).toMatchObject({ phase: 'init' })
      expect(init.error!.message).toContain('no config (components/reloaded.ts:4:18)')

      write('  examples: [{ input: {}, output: { n: 1 } }],')
      const example = await host.reload('reloaded')
      expect(example.error).toMatchObject({ phase: 'examples', code: 'ERR_COMPONENT_EXAMPLE_FAILED' })
      expect(example.error!.message).toContain('(components/reloaded.ts:5:42)')
      const failed = events.filter((e) => e.type === 'component.reload-failed').map((e) => e.type === 'component.reload-failed' && e.error.message)
      expect(failed).toEqual([init.error!.message, example.error!.message])
    } finally {
      await host.stop()
    }
  })
})

describe('where people read it', () => {
  it("the engine's log line for the failed call names the location", async () => {
    const app = await startApp({
      'app.yaml': `apiVersion: islet/v1
components:
  - file: ./components/counter/index.ts
modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /host, pipeline: host }]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  host:
    steps: [{ type: component, config: { component: counter } }]
`,
      'components/counter/index.ts': INDEX,
      'components/counter/helper.ts': HELPER,
    })
    try {
      const res = await fetch(`${app.url}/host`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":"/x"}' })
      expect(res.status).toBe(500)
      expect((await json(res)).error).toMatchObject({ code: 'ERR_COMPONENT_THREW', message: `URLPattern is not defined ${where(AT_HELPER)}` })
      const line = app.logs.find((l) => l.level === 50 && String(l.msg).includes('URLPattern is not defined'))
      expect(line?.msg).toBe(`URLPattern is not defined ${where(AT_HELPER)}`)
    } finally {
      await app.close()
    }
  })

  it('`islet component test` shows it, relative to the cwd', () => {
    writeFileSync(join(dir, 'components/counter/examples.ts'), INDEX.replace("name: 'counter',", "name: 'counter',\n  examples: [{ name: 'reads a host', input: { path: '/x' }, output: { host: 'example.com' } }],"))
    const r = islet(['component', 'test', 'components/counter/examples.ts'], { cwd: dir })
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(`✗ reads a host: ERR_COMPONENT_THREW: URLPattern is not defined ${where(AT_HELPER)}`)
  })
})
