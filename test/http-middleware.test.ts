// Middleware written against the sdk alone (no Koa): a third-party bearer-token auth module that attaches the user
// for the rest of the request, which the route's pipeline reads as ${{ locals.user }}, over real HTTP on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineModuleType, definePlugin, httpMiddleware, type HttpMiddleware, type MiddlewareProvider } from '@islet/sdk'
import { json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'
import type { HttpServer } from '../plugins/http/index.ts'

/** What an `acme.auth` module is configured with: bearer tokens and the users they stand for. */
interface AuthConfig {
  users: Record<string, { name: string; role: string }>
}

const acme = definePlugin({
  name: '@acme/auth', version: '1.0.0',
  moduleTypes: [defineModuleType<AuthConfig, MiddlewareProvider>({
    type: 'acme.auth',
    provides: [httpMiddleware],
    configSchema: {
      type: 'object', additionalProperties: false, required: ['users'],
      properties: { users: { type: 'object', additionalProperties: { type: 'object', properties: { name: { type: 'string' }, role: { type: 'string' } } } } },
    },
    create(config) {
      const middleware: HttpMiddleware = async (http, next) => {
        const auth = http.request.headers.authorization
        const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined
        const user = token === undefined ? undefined : config.users[token]
        if (!user) {
          http.respond({ status: 401, headers: { 'www-authenticate': 'Bearer' },
            body: { error: { code: 'ACME_UNAUTHENTICATED', message: 'a valid bearer token is required', requestId: http.request.id } } })
          return next() // answered: the rest of the chain does not run
        }
        http.locals.user = { ...user }
        if (http.request.headers['x-acme-since'] !== undefined) http.locals.since = new Date(0)   // not JSON data
        await next()
        // What the rest of the chain answered, as it stands now.
        http.setHeader('x-acme-answered', String(http.response.status))
      }
      return { middleware }
    },
  })],
})

const APP = `
apiVersion: islet/v1
modules:
  - name: auth
    type: acme.auth
    config:
      users:
        t0ken-ada: { name: Ada, role: admin }
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /me, pipeline: me }
  - name: web
    type: http.server
    config: { port: 0, middleware: [auth], routers: [api] }
pipelines:
  me:
    steps:
      - if: \${{ locals.user.role != 'admin' }}
        then:
          - type: fail
            config: { status: 403, code: ERR_NOT_ADMIN, message: admins only }
      - type: respond
        config: { status: 201, body: { user: '\${{ locals.user }}', path: '\${{ meta.path }}' } }
`

describe('third-party middleware through the sdk', () => {
  let app: TestApp
  beforeAll(async () => { app = await startApp({ 'app.yaml': APP }, { plugins: [acme] }) })
  afterAll(async () => { await app?.close() })

  it('attaches the authenticated user for the pipeline, which reads it as ${{ locals.user }}', async () => {
    const res = await fetch(`${app.url}/me`, { headers: { authorization: 'Bearer t0ken-ada' } })
    expect(res.status).toBe(201)
    expect(await json(res)).toEqual({ user: { name: 'Ada', role: 'admin' }, path: '/me' })
    expect(res.headers.get('x-acme-answered')).toBe('201')
  })

  it('refuses a local that is not JSON data (a Date) where the middleware assigns it, naming it: never a silent {}', async () => {
    const res = await fetch(`${app.url}/me`, { headers: { authorization: 'Bearer t0ken-ada', 'x-acme-since': '1' } })
    expect(res.status).toBe(500)
    expect(await json(res)).toMatchObject({ error: { code: 'ERR_HTTP_LOCALS_INVALID',
      message: expect.stringMatching(/^locals\.since holds a Date object, which is not JSON data/) } })
  })

  it('answers 401 itself when the token is missing or wrong; the pipeline never runs', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
      const res = await fetch(`${app.url}/me`, { headers })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer')
      expect(await json(res)).toMatchObject({ error: { code: 'ACME_UNAUTHENTICATED' } })
    }
  })
})

/** Requests waiting on /wait, and why each one's signal aborted, by request id. */
const waiting = new Set<string>()
const aborted = new Map<string, string>()

const slow = definePlugin({
  name: '@acme/slow', version: '1.0.0',
  moduleTypes: [defineModuleType<Record<string, never>, MiddlewareProvider>({
    type: 'acme.slow',
    provides: [httpMiddleware],
    configSchema: { type: 'object' },
    create() {
      // Waits on /wait until the request's signal aborts, then fails with its reason.
      const middleware: HttpMiddleware = async (http, next) => {
        if (http.request.path !== '/wait') return next()
        waiting.add(http.request.id)
        const reason = await new Promise<unknown>((resolve) => http.signal.addEventListener('abort', () => resolve(http.signal.reason)))
        aborted.set(http.request.id, (reason as { code?: string }).code ?? 'none')
        throw reason
      }
      return { middleware }
    },
  })],
})

describe("a middleware's signal", () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: slow
    type: acme.slow
  - name: web
    type: http.server
    config: { port: 0, requestTimeoutMs: 300, middleware: [slow] }
  - name: patient
    type: http.server
    config: { port: 0, requestTimeoutMs: 600000, middleware: [slow] }
` }, { plugins: [slow] })
  })
  afterAll(async () => { await app?.close() })

  it('aborts when the request times out: the answer is the server\'s 503', async () => {
    const res = await fetch(`${app.url}/wait`, { headers: { 'x-request-id': 'slow-1' } })
    expect(res.status).toBe(503)
    expect(await json(res)).toMatchObject({ error: { code: 'ERR_HTTP_REQUEST_TIMEOUT' } })
    expect(aborted.get('slow-1')).toBe('ERR_HTTP_REQUEST_TIMEOUT')
  })

  it('aborts when the client goes away first', async () => {
    const url = app.engine.module<HttpServer>('patient').url()
    const client = new AbortController()
    const pending = fetch(`${url}/wait`, { headers: { 'x-request-id': 'gone-1' }, signal: client.signal }).catch(() => 'cancelled')
    await until(() => waiting.has('gone-1'))
    client.abort()
    expect(await pending).toBe('cancelled')
    await until(() => aborted.has('gone-1'))
    expect(aborted.get('gone-1')).toBe('ERR_HTTP_CLIENT_CLOSED')
  })
})
