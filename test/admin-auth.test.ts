// Who may use the admin API, over real HTTP on loopback: tokens verified through the islet.admin module's `auth:`
// (a small third-party authenticator here, test.token), the scopes status and events need, and the no-token loopback
// convenience only for a server that listens on loopback — a server on 0.0.0.0 never answers without a token.
import { request } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openKeyStore } from '../plugins/auth/key-store.ts'
import { json, startApp } from './support/app.ts'
import { tokenAuth } from './support/token-auth.ts'

const app = (options: { host?: string; admin?: string; trustProxy?: number } = {}) => ({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: tok
    type: test.token
    config:
      tokens:
        t-admin: { subject: ops, scopes: [admin] }
        t-read: { subject: dashboard, scopes: [admin:read] }
        t-deploy: { subject: agent, scopes: ['deploy:pricing'] }
  - name: admin
    type: islet.admin
    config: ${options.admin ?? '{ auth: [tok] }'}
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /hello, pipeline: hello }]
  - name: web
    type: http.server
    config: { port: 0, host: '${options.host ?? '127.0.0.1'}', trustProxy: ${options.trustProxy ?? 0}, middleware: [admin], routers: [api] }
pipelines:
  hello:
    steps:
      - type: respond
        config: { body: hi }
` })

/** The server's base URL reached over loopback, whatever it listens on. */
const loopbackUrl = (url: string) => url.replace('//0.0.0.0:', '//127.0.0.1:')

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('admin API access', () => {
  it('answers a token with scope admin or admin:read; refuses another scope 403 naming the ones needed', async () => {
    const t = await startApp(app(), { plugins: [tokenAuth] })
    try {
      expect((await get(`${t.url}/admin/status`, bearer('t-admin'))).status).toBe(200)
      expect((await get(`${t.url}/admin/status`, bearer('t-read'))).status).toBe(200)
      const events = await get(`${t.url}/admin/events`, bearer('t-read'))
      expect(events.status).toBe(200)
      await events.body?.cancel()
      const refused = await get(`${t.url}/admin/status`, bearer('t-deploy'))
      expect(refused.status).toBe(403)
      const { error } = await json(refused)
      expect(error).toMatchObject({ code: 'ERR_ADMIN_FORBIDDEN', details: { needs: ['admin', 'admin:read'], subject: 'agent' } })
      expect(error.message).toContain('admin or admin:read')
      expect(error.message).toContain('deploy:pricing')
    } finally { await t.close() }
  })

  it('refuses a token the authenticator rejects with its 401 and an invalid_token challenge, even from loopback', async () => {
    const t = await startApp(app(), { plugins: [tokenAuth] })
    try {
      const res = await get(`${t.url}/admin/status`, bearer('forged'))
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="islet", error="invalid_token", error_description="[^"]+"$/)
      expect((await json(res)).error.code).toBe('ERR_TEST_TOKEN_INVALID')
      // Credentials no module in auth: reads: not silently treated as none.
      const foreign = await get(`${t.url}/admin/status`, { 'x-api-key': 'isk_abc_def' })
      expect(foreign.status).toBe(401)
      expect((await json(foreign)).error).toMatchObject({ code: 'ERR_ADMIN_AUTH_REQUIRED', details: { reason: 'unrecognised' } })
      // Without credentials a loopback client of a loopback server keeps the convenience.
      expect((await get(`${t.url}/admin/status`)).status).toBe(200)
    } finally { await t.close() }
  })

  it('a server on 0.0.0.0 never answers admin without a token, even to a client on 127.0.0.1', async () => {
    const t = await startApp(app({ host: '0.0.0.0' }), { plugins: [tokenAuth] })
    try {
      const url = loopbackUrl(t.url)
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      for (const path of ['/admin/status', '/admin/events', '/admin/slots']) {
        const res = await get(`${url}${path}`)
        expect(res.status).toBe(401)
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="islet"')
        const { error } = await json(res)
        expect(error).toMatchObject({ code: 'ERR_ADMIN_AUTH_REQUIRED', details: { reason: 'listener' } })
        expect(error.message).toContain('0.0.0.0')
        expect(error.message).toContain('islet apikey create ops --scopes admin')
      }
      expect((await get(`${url}/admin/status`, bearer('t-admin'))).status).toBe(200)
      // The app's own routes are not the admin API's business.
      expect((await get(`${url}/hello`)).status).toBe(200)
    } finally { await t.close() }
  })

  it('without auth: configured, a server on 0.0.0.0 answers no admin request, and says how to configure tokens', async () => {
    const t = await startApp(app({ host: '0.0.0.0', admin: '{}' }), { plugins: [tokenAuth] })
    try {
      for (const headers of [{}, bearer('t-admin')]) {
        const res = await get(`${loopbackUrl(t.url)}/admin/status`, headers)
        expect(res.status).toBe(401)
        const { error } = await json(res)
        expect(error.code).toBe('ERR_ADMIN_AUTH_REQUIRED')
        expect(error.message).toContain('auth: [keys]')
      }
    } finally { await t.close() }
  })

  it('a token passes where proxy headers end the loopback convenience', async () => {
    const t = await startApp(app(), { plugins: [tokenAuth] })
    try {
      const proxied = { 'x-forwarded-for': '203.0.113.7' }
      expect((await get(`${t.url}/admin/status`, proxied)).status).toBe(401)
      expect((await get(`${t.url}/admin/status`, { ...proxied, ...bearer('t-read') })).status).toBe(200)
    } finally { await t.close() }
  })

  it('with trustProxyHeaders and the server\'s trustProxy, the convenience follows the client the proxy reports', async () => {
    const t = await startApp(app({ admin: '{ auth: [tok], trustProxyHeaders: true }', trustProxy: 1 }), { plugins: [tokenAuth] })
    try {
      const remote = await get(`${t.url}/admin/status`, { 'x-forwarded-for': '203.0.113.7' })
      expect(remote.status).toBe(401)
      expect((await json(remote)).error.details).toEqual({ reason: 'peer' })
      expect((await get(`${t.url}/admin/status`, { 'x-forwarded-for': '127.0.0.1' })).status).toBe(200)
      // The trusted proxy's public name in Host is no rebinding sign; a page of another origin still is.
      const viaProxy = await new Promise<number>((resolve, reject) => {
        const url = new URL(t.url)
        request({ host: url.hostname, port: url.port, path: '/admin/status', headers: { host: 'admin.example', 'x-forwarded-for': '127.0.0.1' } },
          (res) => { res.resume(); resolve(res.statusCode!) }).on('error', reject).end()
      })
      expect(viaProxy).toBe(200)
      expect((await get(`${t.url}/admin/status`, { 'x-forwarded-for': '127.0.0.1', origin: 'https://evil.example' })).status).toBe(401)
    } finally { await t.close() }
  })

  it('with auth: [keys] (auth.apikey), a key with scope admin passes; a key without it gets 403 naming admin', async () => {
    const keys: Record<string, string> = {}
    // The keys are made before the engine opens the store: a second connection in the engine's process would drop its locks.
    const prepare = (dir: string) => {
      const store = openKeyStore(join(dir, 'data', 'keys.db'))
      try {
        keys.admin = store.create('ops', ['admin']).key
        keys.orders = store.create('shop', ['orders:write', 'admin ', 'Admin']).key
        keys.revoked = store.create('old-ops', ['admin']).key
        store.revoke(store.list().find((k) => k.name === 'old-ops')!.id)
      } finally { store.close() }
    }
    const t = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: keys
    type: auth.apikey
  - name: admin
    type: islet.admin
    config: { auth: [keys] }
  - name: web
    type: http.server
    config: { port: 0, host: 0.0.0.0, middleware: [admin] }
` }, { prepare })
    try {
      const url = loopbackUrl(t.url)
      expect((await get(`${url}/admin/status`, bearer(keys.admin!))).status).toBe(200)
      expect((await get(`${url}/admin/status`, { 'x-api-key': keys.admin! })).status).toBe(200)
      const refused = await get(`${url}/admin/status`, bearer(keys.orders!))
      expect(refused.status).toBe(403)
      expect((await json(refused)).error).toMatchObject({ code: 'ERR_ADMIN_FORBIDDEN', details: { needs: ['admin', 'admin:read'] } })
      const revoked = await get(`${url}/admin/status`, bearer(keys.revoked!))
      expect(revoked.status).toBe(401)
      expect((await json(revoked)).error.code).toBe('ERR_AUTH_INVALID_TOKEN')
      expect((await get(`${url}/admin/status`)).status).toBe(401)
    } finally { await t.close() }
  })
})
