// The admin API: status of the config generation and components, reload events over SSE, the no-token loopback
// convenience (tokens: admin-auth.test.ts), and a shutdown that an open event stream cannot hold up.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { json, startApp } from './support/app.ts'
import { loadConfig } from '../runtime/config/load.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'

const app = (body: string) => `apiVersion: islet/v1
components:
  - file: ./echo.ts
modules:
  - name: admin
    type: islet.admin
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /hello, pipeline: hello }]
  - name: web
    type: http.server
    config:
      port: 0
      middleware: [admin]
      routers: [api]
pipelines:
  hello:
    steps:
      - type: respond
        config: { body: ${body} }
`
const ECHO = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'echo', execute: (x: unknown) => x })
`

/** Opens the SSE stream and collects its events until `count` arrived. */
function events(url: string, count: number): { ready: Promise<void>; done: Promise<{ event: string; data: any }[]> } {
  let ready!: () => void
  const readyP = new Promise<void>((r) => { ready = r })
  const done = new Promise<{ event: string; data: any }[]>((resolve, reject) => {
    const seen: { event: string; data: any }[] = []
    const req = request(`${url}/admin/events`, (res) => {
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        if (buffer.includes(': connected')) ready()
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event && data) seen.push({ event, data: JSON.parse(data) })
          if (seen.length >= count) { resolve(seen); req.destroy() }
        }
      })
    })
    req.on('error', (e) => { if (seen.length < count) reject(e) })
    req.end()
  })
  return { ready: readyP, done }
}

describe('admin API', () => {
  it('reports the config generation and per-component state', async () => {
    const t = await startApp({ 'app.yaml': app("'one'"), 'echo.ts': ECHO })
    const res = await fetch(`${t.url}/admin/status`)
    expect(res.status).toBe(200)
    const status = await json(res)
    expect(status).toMatchObject({ generation: 1, state: 'ready' })
    expect(status.configHash).toMatch(/^[0-9a-f]{64}$/)
    expect(status.components).toEqual([expect.objectContaining({ name: 'echo', generation: 1, state: 'ready' })])
    expect(status.slots).toEqual([]) // the app declares none
    expect(status.components[0].sourceHash).toMatch(/^[0-9a-f]{64}$/)
    await t.close()
  })

  it("reports each kv component's usage against its quota; a write past it answers 507 ERR_CAPABILITY_QUOTA", async () => {
    const yaml = `apiVersion: islet/v1
components:
  - file: ./echo.ts
  - file: ./notes.ts
    grants: { kv: { maxBytes: 200, maxKeys: 3 } }
modules:
  - name: admin
    type: islet.admin
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /notes, pipeline: note }]
  - name: web
    type: http.server
    config: { port: 0, middleware: [admin], routers: [api] }
pipelines:
  note:
    steps:
      - type: component
        config: { component: notes }
      - type: respond
        config: { status: 204 }
`
    const NOTES = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'notes', async execute(input: { key: string; text: string }, ctx) {
  await ctx.kv.set(input.key, input.text)
  return { ok: true }
} })
`
    const t = await startApp({ 'app.yaml': yaml, 'echo.ts': ECHO, 'notes.ts': NOTES })
    const note = (key: string, text: string) => fetch(`${t.url}/notes`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, text }),
    })
    expect((await note('a', 'x'.repeat(48))).status).toBe(204) // 1 + 50 bytes
    expect((await note('b', 'y'.repeat(48))).status).toBe(204)
    const full = await note('c', 'z'.repeat(100))
    expect(full.status).toBe(507)
    expect((await json(full)).error.code).toBe('ERR_CAPABILITY_QUOTA')
    const status = await json(await fetch(`${t.url}/admin/status`))
    const byName = Object.fromEntries(status.components.map((c: { name: string }) => [c.name, c]))
    expect(byName.notes.kv).toEqual({ bytes: 102, keys: 2, maxBytes: 200, maxKeys: 3 })
    expect(byName.echo.kv).toBeUndefined()
    await t.close()
  })

  it('streams reload events as server-sent events, and the stream survives the server being swapped', async () => {
    const t = await startApp({ 'app.yaml': app("'one'"), 'echo.ts': ECHO })
    const stream = events(t.url, 1)
    await stream.ready
    writeFileSync(join(t.dir, 'app.yaml'), app("'two'"))
    const { config } = await loadConfig(join(t.dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: process.env })
    expect((await t.engine.reload(config!)).ok).toBe(true)
    const [event] = await stream.done
    expect(event.event).toBe('config.reloaded')
    expect(event.data).toMatchObject({ type: 'config.reloaded', generation: 2 })
    expect(await (await fetch(`${t.url}/hello`)).text()).toBe('two')
    await t.close()
  })

  it('an open event stream does not hold up shutdown', async () => {
    const t = await startApp({ 'app.yaml': app("'one'"), 'echo.ts': ECHO })
    const stream = events(t.url, 1)
    stream.done.catch(() => {})
    await stream.ready
    await t.close() // held up, it would never return: the test's own timeout fails it
  })

  it('asks requests a reverse proxy forwarded for a token, unless the admin module is told to trust them', async () => {
    // Behind a proxy on this host every request arrives from loopback: the proxy headers are what give it away.
    const t = await startApp({ 'app.yaml': app("'one'"), 'echo.ts': ECHO })
    const proxied = [
      { forwarded: 'for=203.0.113.7' }, { 'x-forwarded-for': '203.0.113.7' }, { 'x-real-ip': '203.0.113.7' },
      { 'x-forwarded-host': 'example.com' }, { 'cf-connecting-ip': '203.0.113.7' }, { 'true-client-ip': '203.0.113.7' },
      { 'x-envoy-external-address': '203.0.113.7' },
    ]
    for (const headers of proxied) {
      const res = await fetch(`${t.url}/admin/status`, { headers })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="islet"')
      const body = await json(res)
      expect(body.error).toMatchObject({ code: 'ERR_ADMIN_AUTH_REQUIRED', requestId: res.headers.get('x-request-id'), details: { reason: 'proxied', header: Object.keys(headers)[0] } })
      expect(body.error.message).toMatch(/trustProxyHeaders/)
      expect(body.error.message).toMatch(/islet apikey create ops --scopes admin/)
    }
    // The app's own routes do not care.
    expect((await fetch(`${t.url}/hello`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status).toBe(200)
    await t.close()

    const trusting = await startApp({ 'app.yaml': app("'one'").replace('    type: islet.admin\n', '    type: islet.admin\n    config: { trustProxyHeaders: true }\n'), 'echo.ts': ECHO })
    const res = await fetch(`${trusting.url}/admin/status`, { headers: { 'x-forwarded-for': '203.0.113.7' } })
    expect(res.status).toBe(200)
    await trusting.close()
  })
})
