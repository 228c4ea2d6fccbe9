// Scopes are compared as exact members of an array. A third-party authenticator that hands over a JWT's `scope`
// claim as it is — the space-separated string `read:admin-panel orders:read` — must not pass the admin API's check
// by substring (String.prototype.includes) or a route's by letters (new Set(string)): a principal whose scopes are
// not an array holds none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  defineModuleType, definePlugin, httpAuthenticator, httpMiddleware, PRINCIPAL_LOCAL,
  type Authenticator, type HttpRequestView, type MiddlewareProvider, type Principal,
} from '@islet/sdk'
import { json, startApp, type TestApp } from '../support/app.ts'

/** An authenticator with the bug: `scopes` is the claim's string. Bearer `<scopes>` → that string as scopes. */
const sloppy = definePlugin({
  name: 'sloppy-auth', version: '1.0.0',
  moduleTypes: [defineModuleType<Record<string, never>, MiddlewareProvider & Authenticator>({
    type: 'test.sloppy',
    provides: [httpMiddleware, httpAuthenticator],
    configSchema: { type: 'object', additionalProperties: false },
    create() {
      const authenticate = async (request: HttpRequestView): Promise<Principal | undefined> => {
        const header = request.headers.authorization
        if (typeof header !== 'string' || !header.startsWith('Bearer ')) return undefined
        return { subject: 'someone', via: 'sloppy', scopes: decodeURIComponent(header.slice(7)) as unknown as string[] }
      }
      return {
        challenge: 'Bearer realm="islet"',
        authenticate,
        middleware: async (http, next) => {
          const principal = await authenticate(http.request)
          if (principal) http.locals[PRINCIPAL_LOCAL] = principal
          return next()
        },
      }
    },
  })],
})

let app: TestApp
beforeAll(async () => {
  app = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: sloppy
    type: test.sloppy
  - name: admin
    type: islet.admin
    config: { auth: [sloppy] }
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /x, pipeline: ok, requires: [x] }]
  - name: web
    type: http.server
    config: { port: 0, host: 0.0.0.0, middleware: [sloppy, admin], routers: [api] }
pipelines:
  ok:
    steps:
      - type: respond
        config: { body: ok }
` }, { plugins: [sloppy] })
})
afterAll(async () => { await app?.close() })

const url = () => app.url.replace('//0.0.0.0:', '//127.0.0.1:')
const as = (scopes: string) => ({ headers: { authorization: `Bearer ${encodeURIComponent(scopes)}` } })

describe('a principal whose scopes are a string', () => {
  it('holds no admin scope, whatever the string contains', async () => {
    for (const scopes of ['read:admin-panel orders:read', 'admin', 'admin:read']) {
      const res = await fetch(`${url()}/admin/status`, as(scopes))
      expect(res.status, scopes).toBe(403)
      expect((await json(res)).error.code).toBe('ERR_ADMIN_FORBIDDEN')
    }
  })

  it('holds no route scope either, not even a one-letter one its letters spell', async () => {
    const res = await fetch(`${url()}/x`, as('max'))
    expect(res.status).toBe(403)
    expect((await json(res)).error).toMatchObject({ code: 'ERR_HTTP_FORBIDDEN', details: { missing: ['x'] } })
  })
})
