// auth.jwt over real HTTP on loopback: tokens verified against an HS256 secret, a JWKS file and a JWKS served on
// loopback; refusals answered 401 with an RFC 6750 challenge; the verified caller read by a pipeline as
// ${{ locals.principal.… }}.
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { Authenticator } from '@islet/sdk'
import { editConfig, json, startApp, type TestApp } from './support/app.ts'

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256-0123456789'

/** An app whose /me route answers with the principal the `jwt` middleware attached. */
function appYaml(jwtConfig: string): string {
  return `
apiVersion: islet/v1
modules:
  - name: jwt
    type: auth.jwt
    config: ${jwtConfig}
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /me, pipeline: me }
  - name: web
    type: http.server
    config: { port: 0, middleware: [jwt], routers: [api] }
pipelines:
  me:
    steps:
      - type: respond
        config: { body: { subject: '\${{ locals.principal.subject }}', via: '\${{ locals.principal.via }}', scopes: '\${{ locals.principal.scopes }}', name: '\${{ locals.principal.name }}' } }
`
}

interface Claims { sub?: string; iss?: string; aud?: string; exp?: number; scope?: string; scp?: string[]; name?: string }

async function sign(key: CryptoKey | Uint8Array, alg: string, claims: Claims, kid?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ ...claims }).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 600).sign(key)
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
const hsKey = new TextEncoder().encode(SECRET)
const good: Claims = { sub: 'user-1', iss: 'https://id.test', aud: 'orders', scope: 'orders:read orders:write', name: 'Ada' }

describe('auth.jwt with an HS256 secret from the environment', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ 'app.yaml': appYaml('{ secret: "${JWT_SECRET}", issuer: https://id.test, audience: orders }') }, { env: { JWT_SECRET: SECRET } })
  })
  afterAll(async () => { await app?.close() })

  it('a valid token reaches the pipeline, which reads the principal from locals', async () => {
    const res = await fetch(`${app.url}/me`, bearer(await sign(hsKey, 'HS256', good)))
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ subject: 'user-1', via: 'jwt', scopes: ['orders:read', 'orders:write'], name: 'Ada' })
  })

  it('no token: 401 ERR_AUTH_REQUIRED with a bare Bearer challenge', async () => {
    const res = await fetch(`${app.url}/me`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="islet"')
    expect((await json(res)).error.code).toBe('ERR_AUTH_REQUIRED')
  })

  it.each([
    ['a bad signature', () => sign(new TextEncoder().encode(`${SECRET}-other`), 'HS256', good), /signature/],
    ['an expired token', () => sign(hsKey, 'HS256', { ...good, exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['the wrong audience', () => sign(hsKey, 'HS256', { ...good, aud: 'billing' }), /aud/],
    ['the wrong issuer', () => sign(hsKey, 'HS256', { ...good, iss: 'https://evil.test' }), /iss/],
    ['garbage', async () => 'not.a.jwt', /malformed/],
  ])('%s: 401 invalid_token with a description', async (_what, token, description) => {
    const res = await fetch(`${app.url}/me`, bearer(await token()))
    expect(res.status).toBe(401)
    const challenge = res.headers.get('www-authenticate')!
    expect(challenge).toMatch(/^Bearer realm="islet", error="invalid_token", error_description="[^"\\]+"$/)
    expect(challenge).toMatch(description)
    expect((await json(res)).error.code).toBe('ERR_AUTH_INVALID_TOKEN')
  })
})

describe('auth.jwt configuration', () => {
  it('refuses an HS256 secret shorter than 32 bytes, saying so and never echoing it', async () => {
    const short = 'short-secret-0123'
    const failed = startApp({ 'app.yaml': appYaml('{ secret: "${JWT_SECRET}" }') }, { env: { JWT_SECRET: short } })
    await expect(failed).rejects.toThrow(/app\.yaml:\d+:\d+.*at least 32 characters/s)
    await expect(failed).rejects.not.toThrow(short)
  })

  it.each([
    ['two key sources', '{ secret: "${JWT_SECRET}", jwksUrl: "https://id.example/jwks.json" }', /keep one of them/],
    ['no key source', '{ audience: orders }', /set one of secret/],
    ['an HMAC algorithm with a key set', '{ jwksUrl: "https://id.example/jwks.json", algorithms: [HS256] }', /HMAC with a shared secret/],
    ['an asymmetric algorithm with a secret', '{ secret: "${JWT_SECRET}", algorithms: [HS256, RS256] }', /need a public key set/],
  ])('refuses %s', async (_what, config, message) => {
    await expect(startApp({ 'app.yaml': appYaml(config) }, { env: { JWT_SECRET: SECRET } })).rejects.toThrow(message)
  })

  it('refuses a JWKS file that holds a private key', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true })
    const jwks = JSON.stringify({ keys: [await exportJWK(pair.privateKey)] })
    await expect(startApp({ 'app.yaml': appYaml('{ jwks: ./jwks.json }'), 'jwks.json': jwks })).rejects.toThrow(/private or symmetric keys/)
  })

  it('refuses a key set fetched over plain http from a host that is not loopback', async () => {
    await expect(startApp({ 'app.yaml': appYaml('{ jwksUrl: "http://id.example/jwks.json" }') })).rejects.toThrow(/must use https/)
  })
})

describe('auth.jwt with key sets', () => {
  let es: { privateKey: CryptoKey; publicKey: CryptoKey }
  let rs: { privateKey: CryptoKey; publicKey: CryptoKey }
  let jwks: { keys: JWK[] }
  let fileApp: TestApp
  let urlApp: TestApp
  let jwksServer: Server
  let fetched = 0

  beforeAll(async () => {
    es = await generateKeyPair('ES256', { extractable: true })
    rs = await generateKeyPair('RS256', { extractable: true })
    jwks = { keys: [{ ...await exportJWK(es.publicKey), kid: 'es', alg: 'ES256' }, { ...await exportJWK(rs.publicKey), kid: 'rs', alg: 'RS256' }] }
    jwksServer = createServer((req, res) => {
      fetched++
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
    })
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    const port = (jwksServer.address() as AddressInfo).port
    fileApp = await startApp({ 'app.yaml': appYaml('{ jwks: ./jwks.json, audience: orders }'), 'jwks.json': JSON.stringify(jwks) })
    urlApp = await startApp({ 'app.yaml': appYaml(`{ jwksUrl: "http://127.0.0.1:${port}/jwks.json", audience: orders }`) })
  })
  afterAll(async () => {
    await fileApp?.close()
    await urlApp?.close()
    await new Promise((resolve) => jwksServer?.close(resolve))
  })

  it('an ES256 token verifies against a JWKS file', async () => {
    const res = await fetch(`${fileApp.url}/me`, bearer(await sign(es.privateKey, 'ES256', good, 'es')))
    expect(res.status).toBe(200)
    expect((await json(res)).subject).toBe('user-1')
  })

  it('an ES256 token verifies against a JWKS served on loopback (jwksUrl)', async () => {
    const res = await fetch(`${urlApp.url}/me`, bearer(await sign(es.privateKey, 'ES256', { ...good, scope: undefined, scp: ['a', 'b'] }, 'es')))
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ subject: 'user-1', scopes: ['a', 'b'] })
    expect(fetched).toBeGreaterThan(0)
  })

  it('refuses an HS256 token made with the public RSA key as its secret (algorithm confusion)', async () => {
    const publicJwk = JSON.stringify(jwks.keys[1])
    for (const secret of [publicJwk, (await exportJWK(rs.publicKey)).n!]) {
      for (const app of [fileApp, urlApp]) {
        const res = await fetch(`${app.url}/me`, bearer(await sign(new TextEncoder().encode(secret), 'HS256', good, 'rs')))
        expect(res.status).toBe(401)
        expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token".*not accepted/)
      }
    }
  })

  it('refuses an unsigned token (alg none)', async () => {
    const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const none = `${encode({ alg: 'none' })}.${encode({ ...good, exp: Math.floor(Date.now() / 1000) + 600 })}.`
    const res = await fetch(`${fileApp.url}/me`, bearer(none))
    expect(res.status).toBe(401)
    expect((await json(res)).error.code).toBe('ERR_AUTH_INVALID_TOKEN')
  })

  it('a key set URL that cannot be reached: 503 ERR_AUTH_JWKS_UNAVAILABLE, not a 401 that blames the token', async () => {
    const gone = createServer()
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve))
    const port = (gone.address() as AddressInfo).port
    await new Promise((resolve) => gone.close(resolve))
    const app = await startApp({ 'app.yaml': appYaml(`{ jwksUrl: "http://127.0.0.1:${port}/jwks.json" }`) })
    try {
      const res = await fetch(`${app.url}/me`, bearer(await sign(es.privateKey, 'ES256', good, 'es')))
      expect(res.status).toBe(503)
      expect((await json(res)).error.code).toBe('ERR_AUTH_JWKS_UNAVAILABLE')
    } finally {
      await app.close()
    }
  })

  it('is an http.authenticator: the admin API verifies a request through it without the middleware chain', async () => {
    const authenticator = fileApp.engine.module<Authenticator>('jwt')
    const request = (authorization?: string) => ({ id: 'r1', method: 'GET', path: '/admin', query: {}, remoteAddress: '127.0.0.1',
      clientAddress: '127.0.0.1', listenHost: '127.0.0.1', headers: authorization ? { authorization } : {} })
    expect(authenticator.challenge).toBe('Bearer realm="islet"')
    expect(await authenticator.authenticate(request())).toBeUndefined()
    expect(await authenticator.authenticate(request(`Bearer ${await sign(es.privateKey, 'ES256', good, 'es')}`)))
      .toMatchObject({ subject: 'user-1', via: 'jwt', scopes: ['orders:read', 'orders:write'] })
    await expect(authenticator.authenticate(request('Bearer not.a.jwt'))).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID_TOKEN', status: 401 })
  })

  it('a rotated JWKS file takes effect on the next config reload: the new key verifies, the removed one no longer does', async () => {
    const app = await startApp({ 'app.yaml': appYaml('{ jwks: ./jwks.json }'), 'jwks.json': JSON.stringify({ keys: [jwks.keys[0]] }) })
    try {
      const newKey = await generateKeyPair('ES256', { extractable: true })
      const oldToken = await sign(es.privateKey, 'ES256', good, 'es')
      const newToken = await sign(newKey.privateKey, 'ES256', good, 'es2')
      expect((await fetch(`${app.url}/me`, bearer(newToken))).status).toBe(401)
      writeFileSync(join(app.dir, 'jwks.json'), JSON.stringify({ keys: [{ ...await exportJWK(newKey.publicKey), kid: 'es2', alg: 'ES256' }] }))
      expect((await app.engine.reload(await editConfig(app, appYaml('{ jwks: ./jwks.json }')))).ok).toBe(true)
      expect((await fetch(`${app.url}/me`, bearer(newToken))).status).toBe(200)
      expect((await fetch(`${app.url}/me`, bearer(oldToken))).status).toBe(401)
    } finally {
      await app.close()
    }
  })

  it('a token signed by a key outside the set does not verify', async () => {
    const stranger = await generateKeyPair('ES256')
    const res = await fetch(`${fileApp.url}/me`, bearer(await sign(stranger.privateKey, 'ES256', good, 'es')))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/signature/)
  })
})
