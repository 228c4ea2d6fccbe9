// Slow clients cannot use up the engine: open connections are capped (maxConnections: more are closed as they
// arrive), and a connection whose headers are not complete within headersTimeoutMs gets 408 and is closed. Found by a
// red-team pass: ~20,000 connections trickling headers filled the engine's file descriptors, and /healthz and every
// route were unreachable until the 30 s request timeout closed them.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'

// Two apps, so that neither limit can act in the other's test: `capped` never times a header out within a test's
// budget, `hasty` has room for every connection the test opens.
const app = (config: string) => `apiVersion: islet/v1
modules:
  - name: web
    type: http.server
    config: { port: 0, ${config} }
`

let capped: TestApp
let hasty: TestApp
beforeAll(async () => {
  capped = await startApp({ 'app.yaml': app('maxConnections: 3, headersTimeoutMs: 600000, requestTimeoutMs: 600000') })
  hasty = await startApp({ 'app.yaml': app('headersTimeoutMs: 300') })
})
afterAll(async () => { await Promise.all([capped?.close(), hasty?.close()]) })

/** A connection that sends part of its headers and then nothing; resolves once it is connected. */
function slow(t: TestApp): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(t.url).port), '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { received += chunk })
    const closed = new Promise<string>((done) => socket.once('close', () => done(received)))
    socket.once('error', reject)
    socket.once('connect', () => { socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); resolve({ socket, closed }) })
  })
}

it('a connection past maxConnections is closed as it arrives; the server answers again once there is room', async () => {
  const held = await Promise.all([slow(capped), slow(capped), slow(capped)])
  // The fourth: accepted by the kernel, then closed by the server without an answer.
  const extra = await slow(capped)
  expect(await extra.closed).toBe('')
  for (const { socket } of held) socket.destroy()
  await Promise.all(held.map((h) => h.closed))
  // Room again once the server has seen those closes too (its count, not the client's, decides).
  await until(async () => (await fetch(`${capped.url}/healthz`).catch(() => undefined))?.status === 200,
    { ms: 10_000, explain: () => 'the server never answered again after the held connections closed' })
})

it('headers not complete within headersTimeoutMs get 408 and a closed connection', async () => {
  const { closed } = await slow(hasty)
  expect(await closed).toMatch(/^HTTP\/1\.1 408/)
})
