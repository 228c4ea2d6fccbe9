// auth.jwt against forged and odd tokens, over real HTTP on loopback: tokens that never expire, not yet valid, headers
// that point the verifier at the attacker's own keys (jku, x5u, jwk, kid), a key set URL that redirects, a huge token.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { json, startApp, type TestApp } from '../support/app.ts'

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256-0123456789'

const appYaml = (jwtConfig: string) => `apiVersion: islet/v1
modules:
  - name: jwt
    type: auth.jwt
    config: ${jwtConfig}
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /me, pipeline: me }]
  - name: web
    type: http.server
    config: { port: 0, middleware: [jwt], routers: [api] }
pipelines:
  me:
    steps:
      - type: respond
        config: { body: { subject: '\${{ locals.principal.subject }}' } }
`

const now = () => Math.floor(Date.now() / 1000)
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
const hsKey = new TextEncoder().encode(SECRET)

/** Serves `routes` on loopback and counts the requests each path got. */
async function serve(routes: Record<string, (res: import('node:http').ServerResponse) => void>) {
  const hits: Record<string, number> = {}
  const server: Server = createServer((req, res) => {
    hits[req.url!] = (hits[req.url!] ?? 0) + 1
    const route = routes[req.url!]
    if (route) route(res)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { hits, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) }
}

describe('auth.jwt with an HS256 secret: claims', () => {
  let app: TestApp
  beforeAll(async () => { app = await startApp({ 'app.yaml': appYaml('{ secret: "${JWT_SECRET}" }') }, { env: { JWT_SECRET: SECRET } }) })
  afterAll(async () => { await app?.close() })

  it('refuses a token without exp (one that never expires: stolen once, valid forever)', async () => {
    const token = await new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(hsKey)
    const res = await fetch(`${app.url}/me`, bearer(token))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token".*exp/)
  })

  it('refuses a token that is not valid yet (nbf past the clock tolerance)', async () => {
    const token = await new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: 'HS256' }).setNotBefore(now() + 3600).setExpirationTime(now() + 7200).sign(hsKey)
    const res = await fetch(`${app.url}/me`, bearer(token))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/nbf/)
  })

  it('refuses a token whose exp is not a number, and a token past the header size limit, without an internal error', async () => {
    const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const { createHmac } = await import('node:crypto')
    const unsigned = `${encode({ alg: 'HS256' })}.${encode({ sub: 'user-1', exp: '9999999999' })}`
    const token = `${unsigned}.${createHmac('sha256', hsKey).update(unsigned).digest('base64url')}`
    expect((await fetch(`${app.url}/me`, bearer(token))).status).toBe(401)
    const huge = await new SignJWT({ sub: 'user-1', pad: 'x'.repeat(200_000) }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() + 60).sign(hsKey)
    expect((await fetch(`${app.url}/me`, bearer(huge))).status).toBe(431)
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200)
  })
})

describe('auth.jwt with a key set: headers that name other keys', () => {
  let real: { privateKey: CryptoKey; publicKey: CryptoKey }
  let mine: { privateKey: CryptoKey; publicKey: CryptoKey }
  let attacker: Awaited<ReturnType<typeof serve>>
  let keys: Awaited<ReturnType<typeof serve>>
  let app: TestApp
  let mineJwk: JWK

  beforeAll(async () => {
    real = await generateKeyPair('ES256', { extractable: true })
    mine = await generateKeyPair('ES256', { extractable: true })
    mineJwk = { ...(await exportJWK(mine.publicKey)), kid: 'real', alg: 'ES256' }
    const realSet = JSON.stringify({ keys: [{ ...(await exportJWK(real.publicKey)), kid: 'real', alg: 'ES256' }] })
    attacker = await serve({ '/jwks.json': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [mineJwk] })) })
    keys = await serve({
      '/jwks.json': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(realSet),
      // A key set URL that moved: following it would let whoever answers the redirect pick the keys (and, for an
      // http URL allowed only on loopback, take the fetch off loopback).
      '/moved.json': (res) => res.writeHead(302, { location: `${attacker.url}/jwks.json` }).end(),
    })
    app = await startApp({ 'app.yaml': appYaml(`{ jwksUrl: "${keys.url}/jwks.json" }`) })
  })
  afterAll(async () => { await app?.close(); await attacker?.close(); await keys?.close() })

  const signed = (header: Record<string, unknown>) =>
    new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'ES256', ...header }).setExpirationTime(now() + 600).sign(mine.privateKey)

  it('never fetches jku or x5u, never trusts an embedded jwk: a token signed by the attacker\'s key is refused', async () => {
    for (const header of [{ kid: 'real', jku: `${attacker.url}/jwks.json` }, { kid: 'real', x5u: `${attacker.url}/jwks.json` }, { kid: 'real', jwk: mineJwk }, { kid: '../../../jwks.json' }, { kid: 'real\u0000' }]) {
      const res = await fetch(`${app.url}/me`, bearer(await signed(header)))
      expect(res.status, JSON.stringify(header)).toBe(401)
      expect((await json(res)).error.code).toBe('ERR_AUTH_INVALID_TOKEN')
    }
    expect(attacker.hits).toEqual({})
    // The real key still verifies.
    const good = await new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: 'ES256', kid: 'real' }).setExpirationTime(now() + 600).sign(real.privateKey)
    expect((await fetch(`${app.url}/me`, bearer(good))).status).toBe(200)
  })

  it('warns at start that a key set without audience: accepts tokens minted for any API of the issuer', () => {
    const warning = app.logs.find((l) => l.level === 40 && String(l.msg).includes('checks no audience'))
    expect(warning?.msg).toContain('set audience:')
  })

  it('does not follow a redirect from the key set URL', async () => {
    const moved = await startApp({ 'app.yaml': appYaml(`{ jwksUrl: "${keys.url}/moved.json" }`) })
    try {
      const res = await fetch(`${moved.url}/me`, bearer(await signed({ kid: 'real' })))
      expect(res.status).toBe(503)
      expect((await json(res)).error.code).toBe('ERR_AUTH_JWKS_UNAVAILABLE')
      expect(keys.hits['/moved.json']).toBe(1)
      expect(attacker.hits).toEqual({})
    } finally { await moved.close() }
  })
})
