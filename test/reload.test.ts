// Config reload end to end on loopback: routes added, changed and removed, unchanged modules kept, failures and
// cycles leaving the old generation serving, the listening socket handed over, and no request failing under load.
import { request, Agent, type IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { defineContract, defineModuleType, definePlugin, defineStepType } from '@islet/sdk'
import type { AppConfig } from '../runtime/config/types.ts'
import type { ConfigEvent } from '../runtime/engine/engine.ts'
import type { HttpServer } from '../plugins/http/index.ts'
import { editConfig, json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'

/** Lifecycle calls of `test.counter` modules, e.g. `start counter`; what each was handed as `ctx.previous`. */
const calls: string[] = []
const previous = new Map<string, object | undefined>()
let gate: Promise<void> = Promise.resolve()
/** Requests that reached a `test.gate` step. */
let atGate = 0

/** What a test.counter hands its successor: its lifecycle, as a contract (ctx.previous finds it through this). */
const counter = defineContract<{ start(): void; stop(): void }>('test.counter', { start: 'function', stop: 'function' })

const plugin = definePlugin({
  name: 'test-reload', version: '1.0.0',
  moduleTypes: [
    defineModuleType<{ failStart?: boolean; label?: string }>({
      type: 'test.counter', configSchema: { type: 'object' }, provides: [counter],
      create(config, ctx) {
        calls.push(`create ${ctx.name}`)
        previous.set(ctx.name, ctx.previous(counter))
        return {
          start() {
            calls.push(`start ${ctx.name}`)
            if (config.failStart) throw new Error(`${ctx.name} refuses to start`)
          },
          stop() { calls.push(`stop ${ctx.name}`) },
        }
      },
    }),
  ],
  stepTypes: [
    defineStepType<{ ms: number }>({
      type: 'test.pause', configSchema: { type: 'object', properties: { ms: { type: 'integer' } } },
      create: (config) => async () => { await new Promise((r) => setTimeout(r, config.ms)) },
    }),
    defineStepType({ type: 'test.gate', configSchema: { type: 'object' }, create: () => async () => { atGate++; await gate } }),
  ],
})

interface AppOptions {
  generation: number
  prefix?: string
  extraRoute?: boolean
  counter?: string | false
  port?: number
  /** Raw YAML appended to `modules:`. */
  modules?: string
  /** Steps run before the respond step. */
  before?: string
}

function app(o: AppOptions): string {
  return `
apiVersion: islet/v1
modules:
${o.counter === false ? '' : `  - name: counter
    type: test.counter
    config: ${o.counter ?? '{}'}`}
  - name: api
    type: http.router
    config:
      prefix: '${o.prefix ?? '/v1'}'
      routes:
        - { method: GET, path: /gen, pipeline: gen }
        - { method: GET, path: /stable, pipeline: stable }${o.extraRoute ? `
        - { method: GET, path: /extra, pipeline: extra }` : ''}
  - name: web
    type: http.server
    config: { port: ${o.port ?? 0}, routers: [api], shutdownTimeoutMs: 5000 }
${o.modules ?? ''}
pipelines:
  gen:
    steps:${o.before ?? ''}
      - type: respond
        config: { body: { generation: ${o.generation}, tag: 'gen-${o.generation}' } }
  stable:
    steps:
      - type: respond
        config: { body: { stable: true } }
  extra:
    steps:
      - type: respond
        config: { body: { extra: ${o.generation} } }
`
}

const next = (t: TestApp, yaml: string): Promise<AppConfig> => editConfig(t, yaml, [plugin])

const get = async (t: TestApp, path: string) => {
  const res = await fetch(`${t.url}${path}`)
  return { status: res.status, body: await json(res) }
}

let open: TestApp | undefined
async function start(yaml: string): Promise<TestApp> {
  calls.length = 0
  previous.clear()
  open = await startApp({ 'app.yaml': yaml }, { plugins: [plugin] })
  return open
}
afterEach(async () => {
  await open?.close()
  open = undefined
})

describe('config reload', () => {
  it('adds a route: the new path answers, the old ones keep answering on the same port', async () => {
    const t = await start(app({ generation: 1 }))
    const counter = t.engine.module('counter')
    const events: ConfigEvent[] = []
    t.engine.onEvent((e) => events.push(e))
    const result = await t.engine.reload(await next(t, app({ generation: 2, extraRoute: true })))
    expect(result).toMatchObject({ ok: true, generation: 2, restarted: ['api', 'web'], added: [], removed: [] })
    expect(t.engine.module<HttpServer>('web').url()).toBe(t.url)
    expect(await get(t, '/v1/extra')).toEqual({ status: 200, body: { extra: 2 } })
    expect(await get(t, '/v1/stable')).toEqual({ status: 200, body: { stable: true } })
    expect(await get(t, '/v1/gen')).toEqual({ status: 200, body: { generation: 2, tag: 'gen-2' } })
    // The unchanged module keeps its instance and was neither created nor started again.
    expect(t.engine.module('counter')).toBe(counter)
    expect(calls).toEqual(['create counter', 'start counter'])
    const status = t.engine.status()
    expect(status).toMatchObject({ state: 'ready', generation: 2, configHash: t.engine.config.hash })
    expect(status.lastReload).toMatchObject({ ok: true, restarted: ['api', 'web'], added: [], removed: [] })
    expect(events).toEqual([expect.objectContaining({ type: 'config.reloaded', generation: 2, hash: t.engine.config.hash, restarted: ['api', 'web'] })])
  })

  it("changes a router's prefix and a pipeline's answer", async () => {
    const t = await start(app({ generation: 1 }))
    expect((await t.engine.reload(await next(t, app({ generation: 1, prefix: '/v2' })))).ok).toBe(true)
    expect((await get(t, '/v1/gen')).status).toBe(404)
    expect(await get(t, '/v2/gen')).toMatchObject({ status: 200, body: { generation: 1 } })
    expect((await t.engine.reload(await next(t, app({ generation: 3, prefix: '/v2' })))).ok).toBe(true)
    expect(await get(t, '/v2/gen')).toEqual({ status: 200, body: { generation: 3, tag: 'gen-3' } })
    expect(t.engine.status().generation).toBe(3)
  })

  it('removes a module and stops it; replaces a changed one, handing it the instance it replaces', async () => {
    const t = await start(app({ generation: 1 }))
    const old = t.engine.module('counter')
    const changed = await t.engine.reload(await next(t, app({ generation: 1, counter: '{ label: b }' })))
    expect(changed).toMatchObject({ ok: true, restarted: ['counter'], added: [], removed: [] })
    expect(previous.get('counter')).toBe(old)
    expect(calls).toEqual(['create counter', 'start counter', 'create counter', 'start counter', 'stop counter'])
    const removed = await t.engine.reload(await next(t, app({ generation: 1, counter: false })))
    expect(removed).toMatchObject({ ok: true, restarted: [], added: [], removed: ['counter'] })
    expect(calls.at(-1)).toBe('stop counter')
    expect(() => t.engine.module('counter')).toThrow(/not started/)
    expect(t.engine.status().modules.map((m) => m.name)).toEqual(['api', 'web'])
    expect((await get(t, '/v1/gen')).status).toBe(200)
  })

  it('a module failing to start keeps the old generation serving, its socket given back, and reports why', async () => {
    const t = await start(app({ generation: 1 }))
    const events: ConfigEvent[] = []
    t.engine.onEvent((e) => events.push(e))
    // `flaky` starts after `web`, so the new server has already taken the socket over when the reload fails.
    const flaky = '  - name: flaky\n    type: test.counter\n    config: { failStart: true }\n'
    const result = await t.engine.reload(await next(t, app({ generation: 2, modules: flaky })))
    expect(result).toMatchObject({
      ok: false, generation: 1, restarted: [], added: [],
      error: { code: 'ERR_MODULE_START_FAILED', module: 'flaky', phase: 'start' },
    })
    expect(result.error!.message).toContain('flaky refuses to start')
    expect(calls.slice(-2)).toEqual(['start flaky', 'stop flaky'])
    expect(await get(t, '/v1/gen')).toEqual({ status: 200, body: { generation: 1, tag: 'gen-1' } })
    expect(t.engine.status()).toMatchObject({ generation: 1, lastReload: { ok: false, error: { module: 'flaky' } } })
    expect(events).toEqual([expect.objectContaining({ type: 'config.reload-failed', error: expect.objectContaining({ code: 'ERR_MODULE_START_FAILED' }) })])
    // The generation that kept serving can still be replaced, and stops cleanly afterwards.
    expect((await t.engine.reload(await next(t, app({ generation: 3 })))).ok).toBe(true)
    expect(await get(t, '/v1/gen')).toMatchObject({ body: { generation: 3 } })
  })

  it('rejects a dependency cycle and changes nothing', async () => {
    const t = await start(app({ generation: 1 }))
    const cycle = '  - name: a\n    type: test.counter\n    dependsOn: [b]\n  - name: b\n    type: test.counter\n    dependsOn: [a]\n'
    const result = await t.engine.reload(await next(t, app({ generation: 2, modules: cycle })))
    expect(result).toMatchObject({ ok: false, generation: 1, error: { code: 'ERR_MODULE_GRAPH_CYCLE' } })
    expect(result.error!.message).toMatch(/a → b → a|b → a → b/)
    expect(calls).toEqual(['create counter', 'start counter'])
    expect(await get(t, '/v1/gen')).toMatchObject({ body: { generation: 1 } })
  })

  it('a request in flight during the swap finishes on the old generation; the reload resolves once it drained', async () => {
    let release!: () => void
    gate = new Promise((r) => { release = r })
    const t = await start(app({ generation: 1, before: '\n      - type: test.gate' }))
    const reached = atGate
    const inflight = get(t, '/v1/gen')
    await until(() => atGate > reached) // the request is held inside generation 1's pipeline
    let settled = false
    const reloading = t.engine.reload(await next(t, app({ generation: 2 }))).then((r) => { settled = true; return r })
    await until(async () => (await get(t, '/v1/gen')).body.generation === 2) // swapped while draining
    expect(settled).toBe(false)
    release()
    expect(await inflight).toEqual({ status: 200, body: { generation: 1, tag: 'gen-1' } })
    expect((await reloading).ok).toBe(true)
  })

  it('a keep-alive connection opened before the reload is served by the new generation after it', async () => {
    const t = await start(app({ generation: 1 }))
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const once = () => new Promise<{ reused: boolean; body: { generation: number } }>((resolve, reject) => {
      const req = request(`${t.url}/v1/gen`, { agent }, (res: IncomingMessage) => {
        let text = ''
        res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve({ reused: req.reusedSocket, body: JSON.parse(text) }))
      })
      req.on('error', reject).end()
    })
    expect(await once()).toMatchObject({ body: { generation: 1 } })
    expect((await t.engine.reload(await next(t, app({ generation: 2 })))).ok).toBe(true)
    expect(await once()).toEqual({ reused: true, body: { generation: 2, tag: 'gen-2' } })
    agent.destroy()
  })

  it('moves to a new port: listens there first, then closes the old one', async () => {
    const t = await start(app({ generation: 1 }))
    const port = await freePort()
    expect((await t.engine.reload(await next(t, app({ generation: 2, port })))).ok).toBe(true)
    const url = t.engine.module<HttpServer>('web').url()
    expect(url).toBe(`http://127.0.0.1:${port}`)
    expect(await json(await fetch(`${url}/v1/gen`))).toMatchObject({ generation: 2 })
    await expect(fetch(`${t.url}/v1/gen`)).rejects.toThrow()
  })

  it('adding the first component is refused with a clear message', async () => {
    const t = await start(app({ generation: 1 }))
    const config = await next(t, app({ generation: 2 }))
    const result = await t.engine.reload({ ...config, components: [{ ...fakeComponent }] })
    expect(result).toMatchObject({ ok: false, error: { code: 'ERR_CONFIG_RELOAD_NEEDS_RESTART' } })
    expect(result.error!.message).toContain('adding the first component needs a restart')
    expect(calls).toEqual(['create counter', 'start counter'])
  })
})

describe('config reload under load', () => {
  it('5 reloads while 8 keep-alive clients fetch: every response is 200 and from exactly one generation', async () => {
    const pause = '\n      - type: test.pause\n        config: { ms: 2 }'
    const t = await start(app({ generation: 1, before: pause }))
    let running = true
    const failures: string[] = []
    const seen = new Set<number>()
    let total = 0
    const client = async () => {
      let last = 0
      while (running) {
        try {
          const res = await fetch(`${t.url}/v1/gen`)
          const body = await res.json() as { generation: number; tag: string }
          total++
          if (res.status !== 200) failures.push(`status ${res.status}: ${JSON.stringify(body)}`)
          else if (body.tag !== `gen-${body.generation}`) failures.push(`mixed generations: ${JSON.stringify(body)}`)
          else if (body.generation < last) failures.push(`went back from generation ${last} to ${body.generation}`)
          else { last = body.generation; seen.add(body.generation) }
        } catch (error) {
          failures.push(String((error as Error).cause ?? error))
        }
      }
    }
    const clients = Array.from({ length: 8 }, client)
    const results = []
    // Each reload waits until the clients have been served by the generation before it: every generation serves.
    for (let generation = 2; generation <= 6; generation++) {
      await until(() => seen.has(generation - 1))
      results.push(await t.engine.reload(await next(t, app({ generation, before: pause }))))
    }
    await until(() => seen.has(6))
    running = false
    await Promise.all(clients)
    expect(results.map((r) => [r.ok, r.generation])).toEqual([[true, 2], [true, 3], [true, 4], [true, 5], [true, 6]])
    expect(failures).toEqual([])
    expect(total).toBeGreaterThan(0)
    expect(seen).toEqual(new Set([1, 2, 3, 4, 5, 6]))
  })
})

const fakeComponent = {
  name: 'quote', file: '/nowhere/quote.ts', limits: {}, config: undefined,
  grants: { kv: false, emit: [], secrets: [] },
  source: { file: '/nowhere/app.yaml', line: 1, col: 1 }, configSource: { file: '/nowhere/app.yaml', line: 1, col: 1 },
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}
