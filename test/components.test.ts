// Components in an application: YAML components section, the component step behind HTTP routes, error mapping,
// and the HTTP server staying up while a sandbox worker dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from './support/until.ts'
import { json, startApp, writeFiles, type TestApp } from './support/app.ts'
import { openApp } from '../runtime/app.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { join } from 'node:path'

const QUOTE = `import { defineComponent } from '@islet/sdk'
export default defineComponent<{ rate: number }, { qty: number }, { total: number }>({
  name: 'quote',
  config: { type: 'object', properties: { rate: { type: 'number', default: 2.5 } } },
  input: { type: 'object', required: ['qty'], properties: { qty: { type: 'integer', minimum: 1 } } },
  output: { type: 'object', required: ['total'], properties: { total: { type: 'number' } } },
  execute: ({ qty }, ctx) => ({ total: qty * ctx.config.rate }),
})
`
const SPIN = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'spin', execute() { for (;;) {} } })
`
const WAIT = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'wait', execute: (_input, ctx) => { ctx.log.info('waiting'); return new Promise(() => {}) } })
`
const LEAKY = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'leaky', async execute(_i, ctx) { throw new Error('key is ' + await ctx.secrets.get('API_KEY')) } })
`

const APP = `apiVersion: islet/v1
sandbox:
  limits: { timeoutMs: 300, cpuMs: 200, memoryMb: 32 }
  quarantine: { breaches: 100 }
components:
  - file: ./components/quote.ts
    config: { rate: 3 }
  - directory: ./slow
    limits: { timeoutMs: 2000, cpuMs: 100 }
  - file: ./components/leaky.ts
    grants: { secrets: [API_KEY] }
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /quote, pipeline: quote }
        - { method: GET, path: /spin, pipeline: spin }
        - { method: GET, path: /wait, pipeline: wait }
        - { method: GET, path: /leaky, pipeline: leaky }
  - name: web
    type: http.server
    config:
      port: 0
      routers: [api]
pipelines:
  quote:
    steps:
      - { name: q, type: component, config: { component: quote } }
      - type: respond
        config: { body: { total: '\${{ steps.q.total }}', via: sandbox } }
  spin:
    steps: [{ type: component, config: { component: spin, input: {} } }]
  wait:
    steps: [{ type: component, config: { component: wait, input: {} } }]
  leaky:
    steps: [{ type: component, config: { component: leaky, input: {} } }]
`

let app: TestApp
beforeAll(async () => {
  app = await startApp({
    'app.yaml': APP, 'components/quote.ts': QUOTE, 'components/leaky.ts': LEAKY, 'slow/spin.ts': SPIN, 'slow/wait.ts': WAIT,
  }, { env: { API_KEY: 'sk-live-very-secret' } })
})
afterAll(() => app.close())

const quote = (qty: unknown) => fetch(`${app.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ qty }) })

describe('component step', () => {
  it('runs the component with its YAML config and uses its output in later steps', async () => {
    const res = await quote(4)
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ total: 12, via: 'sandbox' })
  })

  it('invalid input → 400 ERR_COMPONENT_INPUT_INVALID with the schema issues', async () => {
    const res = await quote(0)
    expect(res.status).toBe(400)
    const { error } = await json(res)
    expect(error.code).toBe('ERR_COMPONENT_INPUT_INVALID')
    expect(error.details).toEqual([{ path: '/qty', message: 'must be >= 1' }])
  })

  it('CPU breach → 500 ERR_SANDBOX_CPU_LIMIT; the server and other components keep serving', async () => {
    const res = await fetch(`${app.url}/spin`)
    expect(res.status).toBe(500)
    expect((await json(res)).error.code).toBe('ERR_SANDBOX_CPU_LIMIT')
    expect((await quote(1)).status).toBe(200)
  })

  it('wall deadline → 504 ERR_SANDBOX_TIMEOUT', async () => {
    const res = await fetch(`${app.url}/wait`)
    expect(res.status).toBe(504)
    expect((await json(res)).error).toMatchObject({ code: 'ERR_SANDBOX_TIMEOUT', message: "component 'wait' did not finish within 2000 ms" })
  })

  it('a granted secret never leaves in an error message', async () => {
    const res = await fetch(`${app.url}/leaky`)
    const text = await res.text()
    expect(res.status).toBe(500)
    expect(text).toContain('ERR_COMPONENT_THREW')
    expect(text).toContain('key is [redacted]')
    expect(text).not.toContain('sk-live')
  })

  it('a sandbox worker killed from outside fails its begun calls with ERR_SANDBOX_WORKER_LOST (503, no breach); HTTP keeps serving and components come back', async () => {
    const [worker] = await app.engine.components!.sandbox().stats()
    const breachesOfWait = () => app.engine.components!.status().find((s) => s.name === 'wait')!.breaches
    const breachesBefore = breachesOfWait()
    const waiting = () => app.logs.filter((l) => l.msg === 'waiting').length
    const before = waiting()
    const inflight = fetch(`${app.url}/wait`)
    await until(() => waiting() > before) // the call is running in the worker
    process.kill(worker.pid, 'SIGKILL')
    const res = await inflight
    expect(res.status).toBe(503)
    expect((await json(res)).error.code).toBe('ERR_SANDBOX_WORKER_LOST')
    expect(breachesOfWait()).toBe(breachesBefore)
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200)
    const again = await quote(2)
    expect(again.status).toBe(200)
    expect(await json(again)).toEqual({ total: 6, via: 'sandbox' })
    const [restarted] = await app.engine.components!.sandbox().stats()
    expect(restarted.pid).not.toBe(worker.pid)
  })
})

describe('component config', () => {
  it('a config that does not match the component schema stops startup, located in the YAML', async () => {
    const { dir, cleanup } = writeFiles({
      'app.yaml': 'apiVersion: islet/v1\ncomponents:\n  - file: ./quote.ts\n    config: { rate: fast }\n',
      'quote.ts': QUOTE,
    })
    const engine = await openApp(join(dir, 'app.yaml'), { logger: silentLogger(), dataDir: join(dir, 'data') })
    const error = await engine.start().then(() => undefined, (e: Error) => e)
    expect(error?.message).toMatch(/app\.yaml:4:13 the config of component 'quote' does not match its schema: \/rate must be number/)
    await engine.stop()
    cleanup()
  })
})
