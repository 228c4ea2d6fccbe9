// Graceful shutdown and readiness: in-flight requests finish, the drain has a deadline, /readyz is 503 until every
// module has started.
import { describe, expect, it } from 'vitest'
import { defineModuleType, definePlugin, defineStepType } from '@islet/sdk'
import { json, openTestApp, startApp } from './support/app.ts'
import { until } from './support/until.ts'

/** A latch a test opens by hand; steps and modules wait on it. */
function latch() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { open, opened }
}

const entered = { slow: latch() }
let release = latch()
const plugin = definePlugin({
  name: 'test-slow', version: '1.0.0',
  stepTypes: [defineStepType({
    type: 'test.wait', configSchema: { type: 'object' },
    create: () => async () => { entered.slow.open(); await release.opened; return { done: true } },
  })],
})

const app = (shutdownTimeoutMs: number, requestTimeoutMs = 30_000) => `
apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /slow, pipeline: slow }
  - name: web
    type: http.server
    config: { port: 0, routers: [api], shutdownTimeoutMs: ${shutdownTimeoutMs}, requestTimeoutMs: ${requestTimeoutMs} }
pipelines:
  slow:
    steps:
      - type: test.wait
`

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, refuses new connections, then stops', async () => {
    entered.slow = latch()
    release = latch()
    // A drain deadline far beyond anything this test waits for: only the released request can end the stop.
    const t = await startApp({ 'app.yaml': app(60_000) }, { plugins: [plugin] })
    const inflight = fetch(`${t.url}/slow`)
    await entered.slow.opened
    let stopped = false
    const stopping = t.engine.stop().then(() => { stopped = true })
    await until(() => fetch(`${t.url}/healthz`).then(() => false, () => true)) // the listener is closed
    expect(stopped).toBe(false) // still draining
    release.open()
    const res = await inflight
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ done: true })
    await stopping
    expect(t.engine.state).toBe('stopped')
    await t.close()
  })

  it('aborts requests still running at the drain deadline with a 503, and finishes the stop', async () => {
    entered.slow = latch()
    release = latch() // never opened
    const t = await startApp({ 'app.yaml': app(100) }, { plugins: [plugin] })
    const inflight = fetch(`${t.url}/slow`)
    await entered.slow.opened
    await t.engine.stop()
    const res = await inflight
    expect(res.status).toBe(503)
    expect((await json(res)).error.code).toBe('ERR_HTTP_SHUTTING_DOWN')
    release.open()
    await t.close()
  })
})

describe('request timeout', () => {
  it('answers 503 ERR_HTTP_REQUEST_TIMEOUT when a pipeline outlives requestTimeoutMs, and keeps serving', async () => {
    entered.slow = latch()
    release = latch()
    // The request's headers must arrive within the same limit (else 408): 2 s leaves a loaded machine room for that,
    // and the pipeline (held by the latch) outlives it whatever the load.
    const t = await startApp({ 'app.yaml': app(5000, 2000) }, { plugins: [plugin] })
    const res = await fetch(`${t.url}/slow`)
    expect(res.status).toBe(503)
    const { error } = await json(res)
    expect(error).toMatchObject({ code: 'ERR_HTTP_REQUEST_TIMEOUT', message: 'the request did not complete within 2000 ms' })
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200)
    release.open()
    await t.close()
  })
})

describe('readiness', () => {
  it('/readyz is 503 while a module is still starting, 200 once all have', async () => {
    const gate = latch()
    const gated = definePlugin({
      name: 'test-gate', version: '1.0.0',
      moduleTypes: [defineModuleType({ type: 'test.gate', configSchema: { type: 'object' }, create: () => ({ start: () => gate.opened }) })],
    })
    const yaml = `
apiVersion: islet/v1
modules:
  - name: web
    type: http.server
    config: { port: 0 }
  - name: slow-module
    type: test.gate
`
    const t = await openTestApp({ 'app.yaml': yaml }, { plugins: [gated] })
    let url: string | undefined
    await until(() => {
      try { url = t.url() } catch { /* not listening yet */ }
      return url !== undefined
    })
    const before = await fetch(`${url}/readyz`)
    expect(before.status).toBe(503)
    expect(await json(before)).toEqual({ status: 'starting' })
    gate.open()
    await t.started
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    await t.close()
  })
})
