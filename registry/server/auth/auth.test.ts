// The registry's tokens, users and small endpoints over real HTTP on loopback, against a real SQLite file.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser, issueToken, listTokens, revokeToken } from './index.ts'
import { seedPackage, startTestRegistry, type TestRegistry } from './test-fixture.ts'

let registry: TestRegistry

beforeAll(async () => {
  registry = await startTestRegistry({ port: 0 })
  createUser(registry.db, 'alice', 'correct horse')
  createUser(registry.db, 'bob', 'battery staple')
  seedPackage(registry.db, '@alice/geo', 'alice', [
    { version: '1.0.0', description: 'Geocoding for Islet apps', keywords: ['geo', 'maps'] },
    { version: '1.1.0', description: 'Geocoding for Islet apps', keywords: ['geo', 'maps'] },
    { version: '1.2.0', unpublished: true },
  ], '1.1.0')
  seedPackage(registry.db, 'tiles', 'alice', [{ version: '0.3.0', description: 'map tiles', keywords: ['maps'] }])
  seedPackage(registry.db, '@bob/audit', 'bob', [{ version: '2.0.0', description: 'audit trail' }])
  seedPackage(registry.db, 'gone', 'bob', [{ version: '1.0.0', description: 'maps, unpublished', unpublished: true }])
})
afterAll(async () => registry?.close())

const call = async (method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
  const response = await fetch(new URL(path, registry.url), {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> }
}
const login = (name: string, password: string) =>
  call('PUT', `/-/user/org.couchdb.user:${name}`, { body: { _id: `org.couchdb.user:${name}`, name, password, type: 'user', roles: [], date: new Date().toISOString() } })
const token = async (user: string, scopes: string[], expiresIn: string | number = '1h') =>
  (await issueToken(registry.db, { user, scopes, expiresIn, now: () => registry.clock.now })).token
const auditActions = () => (registry.db.prepare('SELECT action FROM audit ORDER BY id').all() as { action: string }[]).map((row) => row.action)

describe('npm login --auth-type=legacy (PUT /-/user/org.couchdb.user:<name>)', () => {
  it('answers the right password with a token for the user own scope and the names they own, and logs it', async () => {
    const response = await login('alice', 'correct horse')
    expect(response.status).toBe(201)
    expect(response.body['ok']).toContain('alice')
    const whoami = await call('GET', '/-/whoami', { token: response.body['token'] })
    expect(whoami.body).toEqual({ username: 'alice' })
    const [issued] = listTokens(registry.db, 'alice').filter((t) => t.created === registry.clock.now.toISOString()).slice(-1)
    expect(issued?.scopes).toEqual(['@alice/*', 'tiles'])
    expect(auditActions()).toEqual(expect.arrayContaining(['login', 'token.create']))
  })

  it('refuses a wrong password and an unknown user alike, and names how users are added', async () => {
    for (const [name, password] of [['alice', 'wrong password'], ['mallory', 'correct horse']] as const) {
      const response = await login(name, password)
      expect(response.status).toBe(401)
      expect(response.body).toMatchObject({ code: 'ERR_REGISTRY_LOGIN_FAILED' })
      expect(response.body['error']).toContain('islet registry user add')
      expect(response.body['token']).toBeUndefined()
    }
    expect(auditActions()).toContain('login.failed')
  })

  it('keeps only the hash of a token and the key in a 0600 file', async () => {
    const { token: issued } = await login('bob', 'battery staple').then((r) => ({ token: r.body['token'] as string }))
    registry.db.pragma('wal_checkpoint(TRUNCATE)')
    const file = readFileSync(join(registry.dir, 'registry.db'))
    expect(file.includes(Buffer.from(issued))).toBe(false)
    expect(file.includes(Buffer.from('correct horse'))).toBe(false)
    expect(statSync(join(registry.dir, 'keys', 'token-secret')).mode & 0o777).toBe(0o600)
  })
})

describe('tokens on requests', () => {
  it('whoami without a token, with a malformed one, or one signed by another key: 401 saying which and how to get one', async () => {
    const none = await call('GET', '/-/whoami')
    expect(none.status).toBe(401)
    expect(none.body['code']).toBe('ERR_REGISTRY_AUTH_REQUIRED')
    const foreign = await new SignJWT({ scopes: ['*'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setJti('x')
      .setExpirationTime('1h').sign(new Uint8Array(32).fill(7))
    for (const bad of ['not-a-jwt', foreign]) {
      const response = await call('GET', '/-/whoami', { token: bad })
      expect(response.status).toBe(401)
      expect(response.body['code']).toBe('ERR_REGISTRY_TOKEN_INVALID')
      expect(response.body['error']).toMatch(/npm login.*islet registry token create/)
    }
    const basic = await call('GET', '/-/whoami', { headers: { authorization: 'Basic YWxpY2U6eA==' } })
    expect(basic.body['code']).toBe('ERR_REGISTRY_TOKEN_INVALID')
  })

  it('an expired token is refused as expired, naming when', async () => {
    const short = await token('alice', ['@alice/*'], '1h')
    expect((await call('GET', '/-/whoami', { token: short })).status).toBe(200)
    const start = registry.clock.now
    registry.clock.now = new Date(start.getTime() + 2 * 3600_000)
    try {
      const response = await call('GET', '/-/whoami', { token: short })
      expect(response.status).toBe(401)
      expect(response.body['code']).toBe('ERR_REGISTRY_TOKEN_EXPIRED')
      expect(response.body['error']).toContain(new Date(start.getTime() + 3600_000).toISOString().slice(0, 16))
    } finally {
      registry.clock.now = start
    }
  })

  it('a revoked token is refused on the very next request', async () => {
    const issued = await issueToken(registry.db, { user: 'alice', scopes: ['@alice/*'], now: () => registry.clock.now })
    expect((await call('PUT', '/-/package/@alice%2fgeo/dist-tags/beta', { token: issued.token, body: '1.0.0' })).status).toBe(201)
    revokeToken(registry.db, issued.id)
    const response = await call('PUT', '/-/package/@alice%2fgeo/dist-tags/beta', { token: issued.token, body: '1.1.0' })
    expect(response.status).toBe(401)
    expect(response.body['code']).toBe('ERR_REGISTRY_TOKEN_REVOKED')
    expect(listTokens(registry.db, 'alice').find((t) => t.id === issued.id)?.revokedAt).not.toBeNull()
    expect(auditActions()).toContain('token.revoke')
  })

  it('a token whose scopes do not cover the package is 403 naming both; so is a scope-wide token on a name someone else owns', async () => {
    const narrow = await token('alice', ['@alice/*'])
    const scoped = await call('PUT', '/-/package/tiles/dist-tags/beta', { token: narrow, body: '0.3.0' })
    expect(scoped.status).toBe(403)
    expect(scoped.body['code']).toBe('ERR_REGISTRY_FORBIDDEN')
    expect(scoped.body['error']).toMatch(/@alice\/\*.*tiles/)
    const wide = await token('alice', ['*'])
    const owned = await call('PUT', '/-/package/@bob%2faudit/dist-tags/beta', { token: wide, body: '2.0.0' })
    expect(owned.status).toBe(403)
    expect(owned.body['error']).toMatch(/owned by bob/)
    expect((await call('PUT', '/-/package/@bob%2faudit/dist-tags/beta', { body: '2.0.0' })).body['code']).toBe('ERR_REGISTRY_AUTH_REQUIRED')
  })
})

describe('the library functions the CLI uses', () => {
  it('refuse bad user names, short passwords, duplicates, tokens for unknown users or with bad scopes, unknown ids', async () => {
    expect(() => createUser(registry.db, 'Alice Smith', 'long enough')).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_USER_INVALID' }))
    expect(() => createUser(registry.db, 'carol', 'short')).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_USER_INVALID' }))
    expect(() => createUser(registry.db, 'alice', 'long enough')).toThrow(/already exists/)
    await expect(issueToken(registry.db, { user: 'nobody', scopes: ['*'] })).rejects.toMatchObject({ code: 'ERR_REGISTRY_USER_NOT_FOUND' })
    await expect(issueToken(registry.db, { user: 'alice', scopes: ['@ACME/*'] })).rejects.toMatchObject({ code: 'ERR_REGISTRY_AUTH_CONFIG' })
    await expect(issueToken(registry.db, { user: 'alice', scopes: ['*'], expiresIn: 'soon' })).rejects.toMatchObject({ code: 'ERR_REGISTRY_AUTH_CONFIG' })
    expect(() => revokeToken(registry.db, 'no-such-id')).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_TOKEN_NOT_FOUND' }))
    const issued = await issueToken(registry.db, { user: 'bob', scopes: ['@bob/*'], expiresIn: '30d', now: () => new Date('2026-03-01T00:00:00Z') })
    expect(issued.expires).toBe('2026-03-31T00:00:00.000Z')
    expect(listTokens(registry.db, 'bob').find((t) => t.id === issued.id)).not.toHaveProperty('hash')
  })
})

describe('dist-tags (GET/PUT/DELETE /-/package/:pkg/dist-tags/:tag)', () => {
  it('lists, adds and removes a tag (scoped names escaped or not), appending to the audit log', async () => {
    const alice = await token('alice', ['@alice/*'])
    const revOf = () => (registry.db.prepare("SELECT rev FROM packages WHERE name = '@alice/geo'").get() as { rev: number }).rev
    const rev = revOf()
    expect((await call('GET', '/-/package/@alice%2fgeo/dist-tags')).body).toMatchObject({ latest: '1.1.0' })
    expect((await call('PUT', '/-/package/@alice/geo/dist-tags/next', { token: alice, body: '1.0.0' })).status).toBe(201)
    expect((await call('GET', '/-/package/@alice/geo/dist-tags')).body).toMatchObject({ latest: '1.1.0', next: '1.0.0' })
    expect((await call('DELETE', '/-/package/@alice%2fgeo/dist-tags/next', { token: alice })).status).toBe(200)
    expect((await call('GET', '/-/package/@alice%2fgeo/dist-tags')).body).not.toHaveProperty('next')
    expect(revOf()).toBe(rev + 2) // the packument's _rev (and ETag) moves with each change
    const rows = registry.db.prepare("SELECT actor, action, name, version, integrity FROM audit WHERE action LIKE 'dist-tag.%' AND version = '1.0.0' AND name = '@alice/geo'").all()
    expect(rows).toEqual(expect.arrayContaining([
      { actor: 'alice', action: 'dist-tag.add', name: '@alice/geo', version: '1.0.0', integrity: 'sha512-@alice/geo-1.0.0' },
      expect.objectContaining({ action: 'dist-tag.rm' }),
    ]))
  })

  it('refuses a tag that is a semver range, an unknown or unpublished version, removing latest, and an unknown package', async () => {
    const alice = await token('alice', ['@alice/*'])
    const range = await call('PUT', '/-/package/@alice%2fgeo/dist-tags/%5E1', { token: alice, body: '1.0.0' })
    expect([range.status, range.body['code']]).toEqual([422, 'ERR_REGISTRY_DIST_TAG_INVALID'])
    const missing = await call('PUT', '/-/package/@alice%2fgeo/dist-tags/next', { token: alice, body: '9.9.9' })
    expect([missing.status, missing.body['code']]).toEqual([404, 'ERR_REGISTRY_DIST_TAG_TARGET'])
    const unpublished = await call('PUT', '/-/package/@alice%2fgeo/dist-tags/next', { token: alice, body: '1.2.0' })
    expect([unpublished.status, unpublished.body['code']]).toEqual([422, 'ERR_REGISTRY_DIST_TAG_TARGET'])
    expect(unpublished.body['error']).toContain('unpublished')
    const latest = await call('DELETE', '/-/package/@alice%2fgeo/dist-tags/latest', { token: alice })
    expect([latest.status, latest.body['code']]).toEqual([422, 'ERR_REGISTRY_DIST_TAG_INVALID'])
    expect((await call('GET', '/-/package/@alice%2fnope/dist-tags')).status).toBe(404)
    const notJson = await fetch(new URL('/-/package/@alice%2fgeo/dist-tags/next', registry.url), { method: 'PUT', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: '"1.0' })
    expect(notJson.status).toBe(400)
    const tags = (await call('GET', '/-/package/@alice%2fgeo/dist-tags')).body
    expect(tags).toMatchObject({ latest: '1.1.0' })
    expect(tags).not.toHaveProperty('next')
  })
})

describe('search (GET /-/v1/search)', () => {
  it('answers in npm\'s shape with the latest live version, matching name, description and keywords', async () => {
    const { body } = await call('GET', '/-/v1/search?text=maps&size=20&from=0&quality=0.65&popularity=0.98&maintenance=0.5')
    expect(body['total']).toBe(2) // `gone` has only an unpublished version
    const names = (body['objects'] as { package: { name: string } }[]).map((o) => o.package.name)
    expect(names.sort()).toEqual(['@alice/geo', 'tiles'])
    const geo = (body['objects'] as any[]).find((o) => o.package.name === '@alice/geo')
    expect(geo.package).toMatchObject({ version: '1.1.0', scope: 'alice', keywords: ['geo', 'maps'], maintainers: [{ username: 'alice' }], publisher: { username: 'alice' } })
    expect(typeof geo.package.date).toBe('string')
    expect(geo.score.final).toBeGreaterThan(0)
  })

  it('pages with size and from, ranks an exact name first, and understands keywords: and scope:', async () => {
    const exact = await call('GET', '/-/v1/search?text=tiles')
    expect(exact.body['objects'][0].package.name).toBe('tiles')
    const page = await call('GET', '/-/v1/search?text=&size=1&from=1')
    expect([page.body['total'], page.body['objects'].length]).toEqual([3, 1])
    expect((await call('GET', '/-/v1/search?text=keywords:geo')).body['objects'].map((o: any) => o.package.name)).toEqual(['@alice/geo'])
    expect((await call('GET', '/-/v1/search?text=scope:bob')).body['objects'].map((o: any) => o.package.name)).toEqual(['@bob/audit'])
    expect((await call('GET', '/-/v1/search?text=x&size=ten')).status).toBe(400)
  })
})

describe('ping and the write rate limit', () => {
  it('pings; ping?write=true wants a token', async () => {
    expect(await call('GET', '/-/ping')).toMatchObject({ status: 200, body: {} })
    expect((await call('GET', '/-/ping?write=true')).status).toBe(401)
    expect((await call('GET', '/-/ping?write=true', { token: await token('bob', ['@bob/*']) })).status).toBe(200)
  })

  it('answers 429 with Retry-After once a principal spent its burst, per principal, and leaves reads alone', async () => {
    const limited = await startTestRegistry({ port: 0, limits: { burst: 2, perMinute: 1 } })
    try {
      createUser(limited.db, 'alice', 'correct horse')
      createUser(limited.db, 'bob', 'battery staple')
      seedPackage(limited.db, '@alice/geo', 'alice', [{ version: '1.0.0' }])
      const alice = (await issueToken(limited.db, { user: 'alice', scopes: ['@alice/*'], now: () => limited.clock.now })).token
      const bob = (await issueToken(limited.db, { user: 'bob', scopes: ['@bob/*'], now: () => limited.clock.now })).token
      const put = (who: string) => fetch(new URL('/-/package/@alice%2fgeo/dist-tags/next', limited.url), {
        method: 'PUT', headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json' }, body: '"1.0.0"' })
      expect((await put(alice)).status).toBe(201)
      expect((await put(alice)).status).toBe(201)
      const third = await put(alice)
      expect(third.status).toBe(429)
      expect(third.headers.get('retry-after')).toBe('60')
      expect(await third.json()).toMatchObject({ code: 'ERR_REGISTRY_RATE_LIMITED' })
      expect((await put(bob)).status).toBe(403) // bob has his own bucket: refused for scope, not for rate
      expect((await fetch(new URL('/-/package/@alice%2fgeo/dist-tags', limited.url))).status).toBe(200)
      limited.clock.now = new Date(limited.clock.now.getTime() + 60_000)
      expect((await put(alice)).status).toBe(201)
      // A clock stepped back must not turn into a debt: bob still has one write left.
      limited.clock.now = new Date(limited.clock.now.getTime() - 86400_000)
      expect((await put(bob)).status).toBe(403)
    } finally {
      await limited.close()
    }
  })
})
