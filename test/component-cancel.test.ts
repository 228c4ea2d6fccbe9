// Cancellation across the sandbox boundary: a request that times out or whose client goes away cancels its component
// invocation. The worker stops it and frees its slot, and the host call it was waiting on (a loopback fetch) is
// aborted, which the fetch target sees as its request's connection closing.
import { request as httpRequest, createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'

const FETCHER = `import { defineComponent } from '@islet/sdk'
/** Calls served by this isolate: it starts over only if the isolate is reset. */
let calls = 0
export default defineComponent<{ origin: string }, { mode: string }, unknown>({
  name: 'fetcher',
  config: { type: 'object', required: ['origin'], properties: { origin: { type: 'string' } } },
  async execute({ mode }, ctx) {
    if (mode === 'count') return { calls: ++calls }
    try {
      const res = await ctx.fetch(ctx.config.origin + '/' + (mode === 'trap' ? 'slow' : mode))
      return { text: await res.text() }
    } catch (error) {
      // A catch that spins: were it ever run for a cancelled call, it would breach and reset the shared isolate.
      if (mode === 'trap') for (;;) {}
      ctx.log.info('fetch rejected', { mode, code: (error as { code?: string }).code })
      throw error
    }
  },
})
`
// Spins when asked to: a CPU loop only a slice's own deadline can end.
const SPIN = `import { defineComponent } from '@islet/sdk'
export default defineComponent<unknown, { spin: boolean }, unknown>({
  name: 'spin',
  execute({ spin }) { if (spin) for (;;) {} return { spun: false } },
})
`

/** A loopback fetch target: /slow never answers, /fast does. Counts /slow requests and those whose connection closed. */
async function target() {
  const state = { origin: '', slowSeen: 0, slowClosed: 0, open: new Set<ServerResponse>() }
  const server = createServer((req, res) => {
    if (req.url !== '/slow') return void res.end('fast')
    state.slowSeen++
    state.open.add(res)
    res.once('close', () => { state.open.delete(res); if (!res.writableFinished) state.slowClosed++ })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = () => { server.closeAllConnections(); return new Promise((resolve) => server.close(resolve)) }
  return { state, close }
}

const app = (origin: string) => `apiVersion: islet/v1
sandbox:
  # A single breach would quarantine: a cancelled call must not count as one.
  quarantine: { breaches: 1 }
components:
  - file: ./components/fetcher.ts
    config: { origin: '${origin}' }
    # Without cancellation nothing would end the slow fetch for a minute: the tests' waits would fail first.
    limits: { timeoutMs: 60000 }
    grants: { fetch: { origins: ['${origin}'], privateOrigins: ['${origin}'], timeoutMs: 60000 } }
  - file: ./components/impatient.ts
    config: { origin: '${origin}' }
    # Its own deadline (not a caller) ends it while it waits on the slow fetch.
    limits: { timeoutMs: 1500 }
    grants: { fetch: { origins: ['${origin}'], privateOrigins: ['${origin}'], timeoutMs: 60000 } }
  - file: ./components/spin.ts
    # More CPU than the hasty server's whole request time: the request always times out before the CPU limit ends the loop.
    limits: { timeoutMs: 60000, cpuMs: 1500 }
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: '/fetch/:mode', pipeline: fetch }
        - { method: GET, path: '/spin/:spin', pipeline: spin }
        - { method: GET, path: '/impatient/:mode', pipeline: impatient }
  # Time enough for the component's fetch to reach the target before the request times out, even on a busy machine.
  - name: web
    type: http.server
    config: { port: 0, requestTimeoutMs: 3000, routers: [api] }
  - name: hasty
    type: http.server
    config: { port: 0, requestTimeoutMs: 500, routers: [api] }
  - name: patient
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  fetch:
    steps: [{ type: component, config: { component: fetcher, input: { mode: '\${{ params.mode }}' } } }]
  impatient:
    steps: [{ type: component, config: { component: impatient, input: { mode: '\${{ params.mode }}' } } }]
  spin:
    steps: [{ type: component, config: { component: spin, input: { spin: "\${{ params.spin == 'yes' }}" } } }]
`

let fetchTarget: Awaited<ReturnType<typeof target>>
let testApp: TestApp
let patientUrl: string
let hastyUrl: string
beforeAll(async () => {
  fetchTarget = await target()
  testApp = await startApp({
    'app.yaml': app(fetchTarget.state.origin), 'components/fetcher.ts': FETCHER, 'components/spin.ts': SPIN,
    'components/impatient.ts': FETCHER.replace("name: 'fetcher'", "name: 'impatient'"),
  })
  patientUrl = testApp.engine.module<{ url(): string }>('patient').url()
  hastyUrl = testApp.engine.module<{ url(): string }>('hasty').url()
}, 30_000)
afterAll(async () => {
  await testApp?.close()
  await fetchTarget?.close()
})

const sandbox = () => testApp.engine.components!.sandbox()
/** Nothing in flight in any worker: no invocation record, no pending host call. */
const idle = async () => (await sandbox().stats()).every((w) => w.invocations === 0 && w.hostCalls === 0)
const status = (name: string) => testApp.engine.components!.status().find((s) => s.name === name)

describe('a request that times out cancels its component invocation', () => {
  it('aborts the fetch the component awaits: the fetch target sees its request closed, the worker frees the slot', async () => {
    const seenBefore = fetchTarget.state.slowSeen
    const closedBefore = fetchTarget.state.slowClosed
    const res = await fetch(`${testApp.url}/fetch/slow`)
    expect(fetchTarget.state.slowSeen).toBeGreaterThan(seenBefore)
    expect(res.status).toBe(503)
    expect((await json(res)).error.code).toBe('ERR_HTTP_REQUEST_TIMEOUT')
    await until(() => fetchTarget.state.slowClosed > closedBefore, { explain: () => `open requests at the target: ${fetchTarget.state.open.size}` })
    await until(idle)
    // Cancelled is not the component's failure.
    expect(status('fetcher')).toMatchObject({ state: 'ready' })
    expect(status('fetcher')?.lastError).toBeUndefined()
  })

  it('no guest code runs for a cancelled call: a catch that would spin never does, and the shared isolate is not reset', async () => {
    const before = (await json(await fetch(`${testApp.url}/fetch/count`))).calls as number
    const res = await fetch(`${testApp.url}/fetch/trap`)
    expect((await json(res)).error.code).toBe('ERR_HTTP_REQUEST_TIMEOUT')
    await until(idle)
    expect(await json(await fetch(`${testApp.url}/fetch/count`))).toEqual({ calls: before + 1 })
    expect(status('fetcher')).toMatchObject({ state: 'ready' })
  })

  it('a CPU-looping component: the next request to it is served, and the cancelled call did not quarantine it', async () => {
    const res = await fetch(`${hastyUrl}/spin/yes`)
    expect(res.status).toBe(503)
    expect((await json(res)).error.code).toBe('ERR_HTTP_REQUEST_TIMEOUT')
    // The worker answers stats only once the loop's slice has ended (its CPU limit): then the slot is free.
    await until(idle, { ms: 30_000 })
    const next = await fetch(`${patientUrl}/spin/no`)
    expect(next.status).toBe(200)
    expect(await json(next)).toEqual({ spun: false })
    expect(status('spin')).toMatchObject({ state: 'ready' })
  }, 40_000)
})

describe('a client that disconnects cancels its component invocation', () => {
  it('aborts the fetch, frees the worker slot, and logs no server error; the next call succeeds', async () => {
    const seenBefore = fetchTarget.state.slowSeen
    const closedBefore = fetchTarget.state.slowClosed
    const logsBefore = testApp.logs.length
    const client = httpRequest(`${patientUrl}/fetch/slow`)
    const gone = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.on('error', () => {}) // the socket is destroyed on purpose
    client.end()
    // The component's fetch reached the target: the invocation is waiting on it.
    await until(() => fetchTarget.state.slowSeen > seenBefore)
    client.destroy()
    await gone
    await until(() => fetchTarget.state.slowClosed > closedBefore, { explain: () => `open requests at the target: ${fetchTarget.state.open.size}` })
    await until(idle)
    const serverErrors = testApp.logs.slice(logsBefore).filter((l) => typeof l.level === 'number' && l.level >= 50)
    expect(serverErrors).toEqual([])
    const next = await fetch(`${patientUrl}/fetch/fast`)
    expect(next.status).toBe(200)
    expect(await json(next)).toEqual({ text: 'fast' })
    expect(status('fetcher')).toMatchObject({ state: 'ready' })
  })
})

describe('host.invoke with a signal', () => {
  it('an already-aborted signal rejects with ERR_SANDBOX_CANCELLED before anything reaches the worker', async () => {
    const seenBefore = fetchTarget.state.slowSeen
    const error = await testApp.engine.components!.invoke('fetcher', { mode: 'slow' }, { signal: AbortSignal.abort() })
      .then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_SANDBOX_CANCELLED', details: { component: 'fetcher' } })
    // Messages to a worker are handled in order: had the invocation been sent, it would be in flight here.
    expect(await idle()).toBe(true)
    expect(fetchTarget.state.slowSeen).toBe(seenBefore)
    expect(status('fetcher')?.lastError).toBeUndefined()
  })
})

describe('an invocation its own deadline ends', () => {
  it('aborts the host call it was waiting on', async () => {
    const seenBefore = fetchTarget.state.slowSeen
    const closedBefore = fetchTarget.state.slowClosed
    const res = await fetch(`${patientUrl}/impatient/slow`)
    expect(fetchTarget.state.slowSeen).toBeGreaterThan(seenBefore)
    expect(res.status).toBe(504)
    expect((await json(res)).error.code).toBe('ERR_SANDBOX_TIMEOUT')
    await until(() => fetchTarget.state.slowClosed > closedBefore, { explain: () => `open requests at the target: ${fetchTarget.state.open.size}` })
    await until(idle)
  })
})
