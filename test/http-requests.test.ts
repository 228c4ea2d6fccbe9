// A routed request's life on the server: its body decoded by its charset, its deadline among the other requests in
// flight, and its cancellation when its connection closes (pipelined requests included).
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin, defineStepType } from '@islet/sdk'
import { json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'

/** Runs holding on /hold, and why each one's signal aborted, by request id. */
const holding = new Set<string>()
const aborted = new Map<string, string>()

const plugin = definePlugin({
  name: 'test-hold', version: '1.0.0',
  stepTypes: [defineStepType({
    type: 'test.hold', configSchema: { type: 'object' },
    // Holds until the run's signal aborts, then ends with its reason.
    create: () => async (scope) => {
      holding.add(scope.id)
      const reason = await new Promise<unknown>((resolve) => scope.signal.addEventListener('abort', () => resolve(scope.signal.reason)))
      aborted.set(scope.id, (reason as { code?: string }).code ?? 'none')
      throw reason
    },
  })],
})

const APP = `apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /echo, pipeline: echo }
        - { method: GET, path: /hold, pipeline: hold }
        - { method: GET, path: /now, pipeline: now }
  - name: web
    type: http.server
    config: { port: 0, routers: [api], requestTimeoutMs: 400, shutdownTimeoutMs: 500 }
  - name: patient
    type: http.server
    config: { port: 0, routers: [api], requestTimeoutMs: 600000, shutdownTimeoutMs: 500 }
pipelines:
  echo:
    steps:
      - type: respond
        config: { body: { got: '\${{ body }}' } }
  hold:
    steps:
      - type: test.hold
  now:
    steps:
      - type: respond
        config: { body: { ok: true } }
`

let app: TestApp
beforeAll(async () => { app = await startApp({ 'app.yaml': APP }, { plugins: [plugin] }) })
afterAll(() => app.close())

const patientUrl = () => app.engine.module<{ url(): string }>('patient').url()

describe('request bodies', () => {
  it('decodes text by its charset (latin1 here), refuses a charset it does not know with 415, and reads JSON that starts with a BOM', async () => {
    const latin1 = await fetch(`${app.url}/echo`, { method: 'POST', body: Buffer.from([0x63, 0x61, 0x66, 0xe9]), headers: { 'content-type': 'text/plain; charset=latin1' } })
    expect(await json(latin1)).toEqual({ got: 'café' })
    const unknown = await fetch(`${app.url}/echo`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain; charset=klingon' } })
    expect(unknown.status).toBe(415)
    expect((await json(unknown)).error.message).toBe("charset 'klingon' is not supported; send utf-8")
    const bom = await fetch(`${app.url}/echo`, { method: 'POST', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]), headers: { 'content-type': 'application/json' } })
    expect(await json(bom)).toEqual({ got: { a: 1 } })
  })
})

describe('request deadlines', () => {
  it('times out each request in flight at its own deadline; one answered in between is not touched', async () => {
    const first = fetch(`${app.url}/hold`, { headers: { 'x-request-id': 'late-1' } })
    await until(() => holding.has('late-1'))
    const fast = await fetch(`${app.url}/now`)
    const second = fetch(`${app.url}/hold`, { headers: { 'x-request-id': 'late-2' } })
    expect(fast.status).toBe(200)
    const [a, b] = await Promise.all([first, second])
    for (const res of [a, b]) {
      expect(res.status).toBe(503)
      expect((await json(res)).error).toMatchObject({ code: 'ERR_HTTP_REQUEST_TIMEOUT', message: 'the request did not complete within 400 ms' })
    }
    expect([aborted.get('late-1'), aborted.get('late-2')]).toEqual(['ERR_HTTP_REQUEST_TIMEOUT', 'ERR_HTTP_REQUEST_TIMEOUT'])
  })
})

describe('a connection that closes', () => {
  it('cancels every request in flight on it, pipelined ones included', async () => {
    const url = new URL(patientUrl())
    const socket = connect(Number(url.port), url.hostname)
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.write('GET /hold HTTP/1.1\r\nHost: x\r\nX-Request-Id: piped-1\r\n\r\nGET /hold HTTP/1.1\r\nHost: x\r\nX-Request-Id: piped-2\r\n\r\n')
    await until(() => holding.has('piped-1') && holding.has('piped-2'))
    socket.destroy()
    await until(() => aborted.has('piped-1') && aborted.has('piped-2'))
    expect([aborted.get('piped-1'), aborted.get('piped-2')]).toEqual(['ERR_HTTP_CLIENT_CLOSED', 'ERR_HTTP_CLIENT_CLOSED'])
    // The connection's next requests (on a new one) are served as usual.
    expect((await fetch(`${patientUrl()}/now`)).status).toBe(200)
  })

  it('leaves a request on another connection running', async () => {
    const url = new URL(patientUrl())
    const gone = connect(Number(url.port), url.hostname)
    const stays = fetch(`${patientUrl()}/hold`, { headers: { 'x-request-id': 'stays-1' } }).catch(() => undefined)
    gone.write('GET /hold HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-2\r\n\r\n')
    await until(() => holding.has('gone-2') && holding.has('stays-1'))
    gone.destroy()
    await until(() => aborted.has('gone-2'))
    expect(aborted.has('stays-1')).toBe(false)
    void stays
  })

  it('cancels a request whose client resets the connection, without logging an error for it', async () => {
    const url = new URL(patientUrl())
    const socket = connect(Number(url.port), url.hostname)
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.write('GET /hold HTTP/1.1\r\nHost: x\r\nX-Request-Id: reset-1\r\n\r\n')
    await until(() => holding.has('reset-1'))
    socket.resetAndDestroy() // a TCP reset: the server's socket errors (ECONNRESET) rather than just ending
    await until(() => aborted.has('reset-1'))
    expect(aborted.get('reset-1')).toBe('ERR_HTTP_CLIENT_CLOSED')
    // The request's end is logged once it is answered: wait for that line, then look for errors among its lines.
    await until(() => app.logs.some((l) => l.requestId === 'reset-1'))
    expect((await fetch(`${patientUrl()}/now`)).status).toBe(200)
    const errors = app.logs.filter((l) => l.requestId === 'reset-1' && (l.level as number) >= 50)
    expect(errors.map((l) => l.msg)).toEqual([])
  })
})
