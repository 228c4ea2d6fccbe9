// Guarding an app's routes over real HTTP on loopback: `requires:` scopes against the principal an auth middleware
// attached (and the config diagnostic when no auth middleware could attach one), the http.rate-limit module, and
// http.server trustProxy deciding the client address that rate limits and the access log key on.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, startApp, writeFiles, type TestApp } from './support/app.ts'
import { tokenAuth } from './support/token-auth.ts'
import { until } from './support/until.ts'
import { loadConfig } from '../runtime/config/load.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'

const TOKENS = `
      tokens:
        t-writer: { subject: writer, scopes: [orders:read, orders:write] }
        t-reader: { subject: reader, scopes: [orders:read] }
        t-other: { subject: other, scopes: [orders:read] }`

const ok = `
  ok:
    steps:
      - type: respond
        config: { body: { who: '\${{ locals.principal.subject }}' } }`

describe('route requires:', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: tok
    type: test.token
    config:
      optional: true${TOKENS}
  - name: api
    type: http.router
    config:
      prefix: /api
      routes:
        - { method: POST, path: /orders, pipeline: ok, requires: [orders:write], bodyLimit: 16 }
        - { method: GET, path: /orders, pipeline: ok, requires: [orders:read] }
        - { method: GET, path: /open, pipeline: ok }
  - name: web
    type: http.server
    config: { port: 0, middleware: [tok], routers: [api] }
pipelines:${ok}
` }, { plugins: [tokenAuth] })
  })
  afterAll(async () => { await app?.close() })

  const call = (method: string, path: string, token?: string, body?: string) => fetch(`${app.url}${path}`, {
    method, body, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
  })

  it('answers a request without a principal 401 ERR_HTTP_UNAUTHENTICATED with a Bearer challenge, before reading its body', async () => {
    // A body past the route's limit: were it read first, the answer would be 413.
    const res = await call('POST', '/api/orders', undefined, JSON.stringify({ pad: 'x'.repeat(64) }))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="islet"')
    const { error } = await json(res)
    expect(error).toMatchObject({ code: 'ERR_HTTP_UNAUTHENTICATED', requestId: res.headers.get('x-request-id') })
    expect(error.message).toContain('POST /api/orders')
    // An anonymous caller is not told which scopes the route takes.
    expect(error.message).not.toContain('orders:write')
  })

  it('answers a principal that lacks a scope 403 ERR_HTTP_FORBIDDEN naming the missing scopes', async () => {
    const res = await call('POST', '/api/orders', 't-reader', '{}')
    expect(res.status).toBe(403)
    const { error } = await json(res)
    expect(error.code).toBe('ERR_HTTP_FORBIDDEN')
    expect(error.details).toEqual({ missing: ['orders:write'], required: ['orders:write'] })
    expect(error.message).toContain('orders:write')
    expect(error.message).toContain("'reader'")
  })

  it('runs the pipeline for a principal holding every required scope; routes without requires: stay open', async () => {
    const write = await call('POST', '/api/orders', 't-writer', '{}')
    expect(write.status).toBe(200)
    expect(await json(write)).toEqual({ who: 'writer' })
    expect((await call('GET', '/api/orders', 't-reader')).status).toBe(200)
    expect((await call('GET', '/api/open')).status).toBe(200)
  })
})

describe('a route with requires: on a server without authentication middleware', () => {
  const yaml = (middleware: string) => `apiVersion: islet/v1
modules:
  - name: tok
    type: test.token
    config: { tokens: {} }
  - name: log
    type: http.access-log
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /open, pipeline: ok }
        - method: POST
          path: /orders
          pipeline: ok
          requires: [orders:write]
  - name: web
    type: http.server
    config: { port: 0, middleware: [${middleware}], routers: [api] }
pipelines:${ok}
`
  const load = async (text: string) => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': text })
    const registry = createBuiltinRegistry()
    registry.register(tokenAuth)
    try {
      return await loadConfig(join(dir, 'app.yaml'), { registry, env: {} })
    } finally { cleanup() }
  }

  it('is a config error at the route\'s requires:, naming the server and the module that would authenticate', async () => {
    const { config, diagnostics } = await load(yaml('log'))
    expect(config).toBeUndefined()
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_ROUTE_UNAUTHENTICATED', severity: 'error', line: 16, col: 21, path: 'modules.2.config.routes.1.requires' }])
    expect(diagnostics[0]!.message).toContain("route POST /orders requires orders:write, but server 'web' lists no authentication middleware")
    expect(diagnostics[0]!.hint).toBe("list one of tok in the middleware of server 'web'")
  })

  it('loads once the server lists a module that provides http.authenticator', async () => {
    const { config, diagnostics } = await load(yaml('log, tok'))
    expect(diagnostics).toEqual([])
    expect(config).toBeDefined()
  })
})

describe('http.rate-limit', () => {
  // So slow a refill that no token comes back during a test, however loaded the machine.
  const RATE = 0.0001
  const app = (limit: string, trustProxy = 0) => ({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: tok
    type: test.token
    config:
      optional: true${TOKENS}
  - name: limit
    type: http.rate-limit
    config: ${limit}
  - name: log
    type: http.access-log
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /hello, pipeline: ok }]
  - name: web
    type: http.server
    config: { port: 0, trustProxy: ${trustProxy}, middleware: [log, tok, limit], routers: [api] }
pipelines:${ok}
` })

  it('lets `burst` requests through, then answers 429 ERR_HTTP_RATE_LIMITED with Retry-After and RateLimit headers', async () => {
    const t = await startApp(app(`{ ratePerSecond: ${RATE}, burst: 2, by: address }`), { plugins: [tokenAuth] })
    try {
      const first = await fetch(`${t.url}/hello`)
      expect(first.status).toBe(200)
      expect([first.headers.get('ratelimit-limit'), first.headers.get('ratelimit-remaining')]).toEqual(['2', '1'])
      expect(first.headers.get('x-ratelimit-remaining')).toBe('1')
      expect((await fetch(`${t.url}/hello`)).headers.get('ratelimit-remaining')).toBe('0')
      const refused = await fetch(`${t.url}/hello`)
      expect(refused.status).toBe(429)
      const retryAfter = refused.headers.get('retry-after')!
      // Integer seconds until one token is back: about 1 / RATE.
      expect(retryAfter).toMatch(/^\d+$/)
      expect(Number(retryAfter)).toBeGreaterThan(0.9 / RATE)
      expect(Number(retryAfter)).toBeLessThanOrEqual(1 / RATE)
      expect(refused.headers.get('ratelimit-remaining')).toBe('0')
      expect(Number(refused.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(Number(retryAfter))
      const { error } = await json(refused)
      expect(error).toMatchObject({ code: 'ERR_HTTP_RATE_LIMITED', details: { retryAfterSeconds: Number(retryAfter), limit: 2 } })
    } finally { await t.close() }
  })

  it('by principal: each authenticated caller has its own bucket; callers without one share their address\'s', async () => {
    const t = await startApp(app(`{ ratePerSecond: ${RATE}, burst: 1, by: principal }`), { plugins: [tokenAuth] })
    try {
      const get = (token?: string) => fetch(`${t.url}/hello`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      expect((await get('t-reader')).status).toBe(200)
      expect((await get('t-reader')).status).toBe(429)
      expect((await get('t-other')).status).toBe(200)
      expect((await get()).status).toBe(200)
      expect((await get()).status).toBe(429)
    } finally { await t.close() }
  })

  it('by address with trustProxy 0 ignores X-Forwarded-For: a client cannot get a fresh bucket by inventing addresses', async () => {
    const t = await startApp(app(`{ ratePerSecond: ${RATE}, burst: 1, by: address }`), { plugins: [tokenAuth] })
    try {
      expect((await fetch(`${t.url}/hello`, { headers: { 'x-forwarded-for': '203.0.113.1' } })).status).toBe(200)
      expect((await fetch(`${t.url}/hello`, { headers: { 'x-forwarded-for': '203.0.113.2' } })).status).toBe(429)
    } finally { await t.close() }
  })

  it('by address with trustProxy 1 keys on the address the proxy reports, and the access log shows it', async () => {
    const t = await startApp(app(`{ ratePerSecond: ${RATE}, burst: 1, by: address }`, 1), { plugins: [tokenAuth] })
    try {
      // The client's own claim (left) is not believed; the entry the one trusted proxy appended (right) is.
      const via = (client: string) => fetch(`${t.url}/hello`, { headers: { 'x-forwarded-for': `10.9.9.9, ${client}` } })
      expect((await via('203.0.113.1')).status).toBe(200)
      expect((await via('203.0.113.1')).status).toBe(429)
      expect((await via('203.0.113.2')).status).toBe(200)
      const completed = () => t.logs.filter((l) => l.msg === 'request completed')
      await until(() => completed().length === 3)
      const lines = completed()
      expect(lines.map((l) => [l.clientAddress, l.status])).toEqual([['203.0.113.1', 200], ['203.0.113.1', 429], ['203.0.113.2', 200]])
    } finally { await t.close() }
  })
})
