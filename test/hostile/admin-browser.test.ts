// The admin API's no-token loopback convenience against a browser on the operator's machine: a web page cannot send
// a token, but it can make the browser send requests to 127.0.0.1. Two ways in, both refused without a token:
// DNS rebinding (the page's own name re-pointed at 127.0.0.1: the browser then sends `Host: evil.example:port` and
// reads the answers as same-origin) and cross-site requests (a form or fetch POST from another origin, whose answer
// the page cannot read but whose effect happens: a deploy, a rollback).
import { request } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type TestApp } from '../support/app.ts'
import { tokenAuth } from '../support/token-auth.ts'

let app: TestApp
beforeAll(async () => {
  app = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: tok
    type: test.token
    config: { tokens: { t-admin: { subject: ops, scopes: [admin] } } }
  - name: admin
    type: islet.admin
    config: { auth: [tok] }
  - name: web
    type: http.server
    config: { port: 0, host: 127.0.0.1, middleware: [admin] }
` }, { plugins: [tokenAuth] })
})
afterAll(async () => { await app?.close() })

/** A request to the app's loopback address with the headers a browser would send (fetch cannot set Host). */
function send(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const url = new URL(app.url)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : text }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('admin loopback convenience vs a browser', () => {
  it('keeps answering a loopback client that names a loopback host', async () => {
    const port = new URL(app.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
      expect((await send('GET', '/admin/status', { host })).status, host).toBe(200)
    }
    // A page of this very server (same origin) is not cross-site.
    expect((await send('GET', '/admin/status', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status).toBe(200)
  })

  it('refuses a request whose Host is not a loopback name (DNS rebinding) unless it carries a token', async () => {
    const port = new URL(app.url).port
    // 0.0.0.0: browsers let public pages send requests there, and Linux delivers them to loopback ("0.0.0.0 day").
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `0.0.0.0:${port}`, `[::]:${port}`]) {
      const res = await send('GET', '/admin/status', { host })
      expect(res.status, host).toBe(401)
      expect(res.body.error).toMatchObject({ code: 'ERR_ADMIN_AUTH_REQUIRED', details: { reason: 'host' } })
    }
    expect((await send('GET', '/admin/status', { host: `evil.example:${port}`, authorization: 'Bearer t-admin' })).status).toBe(200)
  })

  it('refuses a cross-origin request (another site\'s page posting to 127.0.0.1) unless it carries a token', async () => {
    const port = new URL(app.url).port
    const host = `127.0.0.1:${port}`
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${Number(port) === 1 ? 2 : Number(port) - 1}`]) {
      for (const method of ['GET', 'POST']) {
        const res = await send(method, '/admin/status', { host, origin })
        expect(res.status, `${method} ${origin}`).toBe(401)
        expect(res.body.error).toMatchObject({ code: 'ERR_ADMIN_AUTH_REQUIRED', details: { reason: 'origin' } })
      }
    }
    // A navigation or a no-cors request from another site says so in Sec-Fetch-Site even without Origin.
    const navigated = await send('GET', '/admin/status', { host, 'sec-fetch-site': 'cross-site' })
    expect(navigated.status).toBe(401)
    expect((await send('GET', '/admin/status', { host, origin: 'https://evil.example', authorization: 'Bearer t-admin' })).status).toBe(200)
  })

  it('refuses an HTTP/1.0 request, which is how nginx\'s default proxy_pass forwards (no proxy header, Host rewritten)', async () => {
    const url = new URL(app.url)
    const raw = (lines: string[]) => new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.end(`${lines.join('\r\n')}\r\n\r\n`))
      let text = ''
      socket.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve(text)).on('error', reject)
    })
    const nginx = ['GET /admin/status HTTP/1.0', `Host: ${url.host}`, 'Connection: close']
    const refused = await raw(nginx)
    expect(refused).toMatch(/^HTTP\/1\.[01] 401/)
    expect(refused).toContain('"reason":"proxied"')
    expect(await raw([...nginx, 'Authorization: Bearer t-admin'])).toMatch(/^HTTP\/1\.[01] 200/)
    expect(await raw(['GET /admin/status HTTP/1.1', `Host: ${url.host}`, 'Connection: close'])).toMatch(/^HTTP\/1\.1 200/)
  })
})
