// Red-team of the registry server with its real authenticator (JWTs, users, scopes, ownership) over HTTP on loopback,
// with a real SQLite file: tokens that must not work, writes that must not land, bodies that must be a 4xx.
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, UnsecuredJWT } from 'jose'
import { fetch } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { integrityOf, shasumOf } from '../integrity.ts'
import { packageTgz } from '../tarball/test-tar.ts'
import { verifyVersion } from '../signature.ts'
import { createAuth, createUser, issueToken, revokeToken } from './auth/index.ts'
import { startRegistry, type RunningRegistry } from './server.ts'

let dir: string
let registry: RunningRegistry
let clock: Date
const now = () => clock

async function start(limits: Record<string, number> = {}): Promise<void> {
  registry = await startRegistry({ dir, port: 19320, auth: (store) => createAuth(store.db, { now }), now, limits })
  createUser(registry.store.db, 'alice', 'correct horse')
  createUser(registry.store.db, 'bob', 'battery staple')
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'islet-redteam-'))
  clock = new Date('2026-01-10T12:00:00.000Z')
  await start()
})
afterEach(async () => {
  await registry.close()
  rmSync(dir, { recursive: true, force: true })
})

const tokenOf = async (user: string, scopes: string[], expiresIn: string | number = '1h') =>
  (await issueToken(registry.store.db, { user, scopes, expiresIn, now })).token

async function call(method: string, path: string, options: { token?: string; body?: unknown; raw?: string } = {}) {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(new URL(path, registry.url), { method, headers, body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) })
  const text = await response.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: response.status, json }
}

function tarballOf(name: string, version: string, extra: Record<string, unknown> = {}): Buffer {
  return packageTgz({ 'package.json': JSON.stringify({ name, version, type: 'module', islet: { engine: '^0.1.0' }, ...extra }) })
}

function publishDocument(name: string, version: string, tarball: Buffer): Record<string, unknown> {
  return { _id: name, name, 'dist-tags': { latest: version },
    versions: { [version]: { name, version, type: 'module', islet: { engine: '^0.1.0' }, dist: { integrity: integrityOf(tarball), shasum: shasumOf(tarball) } } },
    _attachments: { [`${name}-${version}.tgz`]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } } }
}

/** Polls `condition` until it holds (registry/ imports nothing of test/support); the test's own timeout bounds it. */
async function until(condition: () => Promise<boolean>, options: { explain?: () => string } = {}): Promise<void> {
  const deadline = performance.now() + 10_000
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within 10 s${options.explain ? `: ${options.explain()}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const escaped = (name: string) => name.replace('/', '%2f')
const publish = (token: string, name: string, version: string, tarball = tarballOf(name, version)) =>
  call('PUT', `/${escaped(name)}`, { token, body: publishDocument(name, version, tarball) })

describe('tokens that must not work', () => {
  it('alg none, another secret, another registry', async () => {
    const good = await tokenOf('alice', ['*'])
    const payload = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString())
    const none = new UnsecuredJWT(payload).encode()
    const other = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32).fill(7))
    const otherDir = mkdtempSync(join(tmpdir(), 'islet-redteam-other-'))
    const elsewhere = await startRegistry({ dir: otherDir, port: 19321, auth: (store) => createAuth(store.db, { now }), now })
    createUser(elsewhere.store.db, 'alice', 'correct horse')
    const foreign = (await issueToken(elsewhere.store.db, { user: 'alice', scopes: ['*'], expiresIn: '1h', now })).token
    await elsewhere.close()
    rmSync(otherDir, { recursive: true, force: true })
    for (const token of [none, other, foreign]) {
      const response = await publish(token, '@acme/geo', '1.0.0')
      expect(response.status).toBe(401)
    }
    expect((await publish(good, '@acme/geo', '1.0.0')).status).toBe(201)
  })

  it('expired and revoked tokens on every write route', async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    expect((await publish(alice, '@acme/geo', '1.0.0')).status).toBe(201)
    const expiring = await tokenOf('alice', ['@acme/*'], 60)
    const revoked = await issueToken(registry.store.db, { user: 'alice', scopes: ['@acme/*'], expiresIn: '1h', now })
    // Good until the revocation, refused from the very next request on.
    expect((await call('PUT', '/-/package/@acme%2fgeo/dist-tags/next', { token: revoked.token, body: '1.0.0' })).status).toBe(201)
    revokeToken(registry.store.db, revoked.id, { now })
    clock = new Date(clock.getTime() + 61_000)
    for (const token of [expiring, revoked.token]) {
      const results = [
        await publish(token, '@acme/geo', '1.0.1'),
        await call('PUT', '/-/package/@acme%2fgeo/dist-tags/next', { token, body: '1.0.0' }),
        await call('PUT', '/-/islet/yank/@acme%2fgeo/1.0.0', { token, body: { reason: 'x' } }),
        await call('DELETE', '/@acme%2fgeo/-rev/undefined', { token }),
        await call('POST', '/-/npm/v1/tokens', { token, body: { password: 'correct horse' } }),
        await call('GET', '/-/whoami', { token }),
      ]
      expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401])
    }
  })
})

describe('scopes and ownership', () => {
  it('a token for @acme/* cannot write look-alike names', async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    for (const name of ['@acme-evil/x', '@acmex/x']) expect((await publish(alice, name, '1.0.0')).status).toBe(403)
    const upper = await call('PUT', '/@ACME%2fx', { token: alice, body: publishDocument('@ACME/x', '1.0.0', tarballOf('@ACME/x', '1.0.0')) })
    expect(upper.status).toBe(403)
    const any = await tokenOf('bob', ['*'])
    const upperAny = await call('PUT', '/@ACME%2fx', { token: any, body: publishDocument('@ACME/x', '1.0.0', tarballOf('@ACME/x', '1.0.0')) })
    expect(upperAny.status).toBe(422)
    const dots = await call('PUT', '/@acme%2f..', { token: alice, body: publishDocument('@acme/..', '1.0.0', tarballOf('@acme/..', '1.0.0')) })
    expect(dots.status).toBe(422)
    const encoded = await call('PUT', '/%40acme%2fgeo%2f..%2f..%2fx', { token: alice, body: publishDocument('@acme/geo/../../x', '1.0.0', tarballOf('@acme/geo/../../x', '1.0.0')) })
    expect([404, 422]).toContain(encoded.status)
  })

  it("another user's token covering the name still cannot write a package it does not own, on any route", async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    expect((await publish(alice, '@acme/geo', '1.0.0')).status).toBe(201)
    const bob = await tokenOf('bob', ['*'])
    const { json: packument } = await call('GET', '/@acme%2fgeo')
    const deprecated = structuredClone(packument)
    deprecated.versions['1.0.0'].deprecated = 'pwned'
    const results = [
      await publish(bob, '@acme/geo', '1.0.1'),
      await call('PUT', '/@acme%2fgeo', { token: bob, body: deprecated }),
      await call('PUT', '/-/package/@acme%2fgeo/dist-tags/next', { token: bob, body: '1.0.0' }),
      await call('DELETE', '/-/package/@acme%2fgeo/dist-tags/latest', { token: bob }),
      await call('PUT', '/-/islet/yank/@acme%2fgeo/1.0.0', { token: bob, body: { reason: 'x' } }),
      await call('PUT', `/@acme%2fgeo/-rev/${packument._rev}`, { token: bob, body: { ...packument, versions: {} } }),
      await call('DELETE', `/@acme/geo/-/geo-1.0.0.tgz/-rev/${packument._rev}`, { token: bob }),
      await call('DELETE', `/@acme%2fgeo/-rev/${packument._rev}`, { token: bob }),
    ]
    expect(results.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 403, 403])
  })
})

describe('bodies that must be a 4xx', () => {
  it('deeply nested JSON', async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    const doc = JSON.stringify(publishDocument('@acme/geo', '1.0.0', tarballOf('@acme/geo', '1.0.0'))).replace('"type":"module"', `"type":"module","x":${deep}`)
    const response = await call('PUT', '/@acme%2fgeo', { token: alice, raw: doc })
    expect(response.json).toMatchObject({ code: 'ERR_REGISTRY_BAD_REQUEST' })
    expect(response.status).toBe(400)
    const tag = await call('PUT', '/-/package/@acme%2fgeo/dist-tags/next', { token: alice, raw: '['.repeat(30_000) + ']'.repeat(30_000) })
    expect(tag.status).toBe(400)
  })

  it('deeply nested package.json inside the tarball', async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    const tarball = packageTgz({ 'package.json': `{"name":"@acme/geo","version":"1.0.0","type":"module","islet":{"engine":"^0.1.0"},"x":${deep}}` })
    const response = await call('PUT', '/@acme%2fgeo', { token: alice, body: publishDocument('@acme/geo', '1.0.0', tarball) })
    expect(response.status).toBe(422)
    expect(response.json).toMatchObject({ code: 'ERR_REGISTRY_MANIFEST_INVALID' })
  })

  it('npm token create with a lifetime no date can hold', async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    const response = await call('POST', '/-/npm/v1/tokens', { token: alice, body: { password: 'correct horse', expires: 1e300 } })
    expect(response.status).toBeGreaterThanOrEqual(400)
    expect(response.status).toBeLessThan(500)
  })

  it('npm token create with scopes that do not parse', async () => {
    const alice = await tokenOf('alice', ['*'])
    const response = await call('POST', '/-/npm/v1/tokens', { token: alice, body: { password: 'correct horse', packages: ['Not A Name'] } })
    expect(response.status).toBeGreaterThanOrEqual(400)
    expect(response.status).toBeLessThan(500)
  })

  it('__proto__ in package.json', async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    const tarball = packageTgz({ 'package.json': '{"name":"@acme/geo","version":"1.0.0","type":"module","islet":{"engine":"^0.1.0"},"__proto__":{"scripts":{"postinstall":"x"}}}' })
    const response = await publish(alice, '@acme/geo', '1.0.0', tarball)
    expect(response.status).toBe(422)
  })
})

describe('login', () => {
  it('is rate-limited like any write', async () => {
    await registry.close()
    rmSync(dir, { recursive: true, force: true })
    dir = mkdtempSync(join(tmpdir(), 'islet-redteam-'))
    await start({ writeBurst: 3, writesPerMinute: 1 })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      statuses.push((await call('PUT', '/-/user/org.couchdb.user:alice', { body: { name: 'alice', password: `guess-${i}` } })).status)
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429])
  })
})

describe('a publish document that disagrees with its tarball, subtly', () => {
  it('build metadata, a lying length, base64 garbage, two tarballs, another name case, a tag on an absent version', async () => {
    const alice = await tokenOf('alice', ['@acme/*'])
    const build = await publish(alice, '@acme/geo', '1.0.0+x', tarballOf('@acme/geo', '1.0.0+x'))
    expect(build.json).toMatchObject({ code: 'ERR_REGISTRY_MANIFEST_INVALID' })
    const good = tarballOf('@acme/geo', '1.0.0')
    const lying = publishDocument('@acme/geo', '1.0.0', good)
    ;(lying._attachments as Record<string, { length: number }>)['@acme/geo-1.0.0.tgz']!.length = good.length - 1
    expect((await call('PUT', '/@acme%2fgeo', { token: alice, body: lying })).json).toMatchObject({ code: 'ERR_REGISTRY_BAD_REQUEST' })
    const garbage = publishDocument('@acme/geo', '1.0.0', good)
    ;(garbage._attachments as Record<string, { data: string; length?: number }>)['@acme/geo-1.0.0.tgz'] = { data: '!!!not base64~~~' }
    expect((await call('PUT', '/@acme%2fgeo', { token: alice, body: garbage })).status).toBe(422)
    const two = publishDocument('@acme/geo', '1.0.0', good)
    two._attachments = { ...(two._attachments as object), 'other.tgz': { data: good.toString('base64') } }
    expect((await call('PUT', '/@acme%2fgeo', { token: alice, body: two })).status).toBe(400)
    const upper = publishDocument('@acme/geo', '1.0.0', tarballOf('@acme/Geo', '1.0.0'))
    expect((await call('PUT', '/@acme%2fgeo', { token: alice, body: upper })).json).toMatchObject({ code: 'ERR_REGISTRY_MANIFEST_MISMATCH' })
    const absent = { ...publishDocument('@acme/geo', '1.0.0', good), 'dist-tags': { latest: '9.9.9', next: '1.0.0' } }
    expect((await call('PUT', '/@acme%2fgeo', { token: alice, body: absent })).status).toBe(201)
    expect((await call('GET', '/-/package/@acme%2fgeo/dist-tags')).json).toEqual({ next: '1.0.0' })
    // Nothing of the refused attempts was recorded: one version, its bytes the good tarball's.
    const { json: packument } = await call('GET', '/@acme%2fgeo')
    expect(Object.keys(packument.versions)).toEqual(['1.0.0'])
    expect(packument.versions['1.0.0'].dist.integrity).toBe(integrityOf(good))
  })
})

describe('publish races and the unpublish window', () => {
  it('the same version published twice at once, other bytes: one wins, and its bytes are the ones served and signed', async () => {
    await registry.close()
    rmSync(dir, { recursive: true, force: true })
    dir = mkdtempSync(join(tmpdir(), 'islet-redteam-'))
    // Both publishes are held in the (async) component check until both got there: they pass the first
    // not-yet-published check together, and only the transaction can tell them apart.
    let arrived = 0
    let release!: () => void
    const both = new Promise<void>((resolve) => { release = resolve })
    registry = await startRegistry({ dir, port: 19320, auth: (store) => createAuth(store.db, { now }), now,
      checkComponents: async () => { if (++arrived === 2) release(); await both; return [] } })
    createUser(registry.store.db, 'alice', 'correct horse')
    const alice = await tokenOf('alice', ['@acme/*'])
    const a = tarballOf('@acme/geo', '1.0.0', { description: 'a' })
    const b = tarballOf('@acme/geo', '1.0.0', { description: 'b' })
    const results = await Promise.all([publish(alice, '@acme/geo', '1.0.0', a), publish(alice, '@acme/geo', '1.0.0', b)])
    expect(results.map((r) => r.status).sort()).toEqual([201, 409])
    const winner = results[0]!.status === 201 ? a : b
    const { json: packument } = await call('GET', '/@acme%2fgeo')
    const dist = packument.versions['1.0.0'].dist
    expect(dist.integrity).toBe(integrityOf(winner))
    const served = Buffer.from(await (await fetch(dist.tarball)).arrayBuffer())
    expect(served.equals(winner)).toBe(true)
    const { json: keys } = await call('GET', '/-/npm/v1/keys')
    expect(verifyVersion(keys.keys[0].key, '@acme/geo', '1.0.0', integrityOf(winner), dist.signatures[0].sig)).toBe(true)
  })

  it('after 72 h a version cannot be unpublished (alone or with the package); an unpublished one never comes back nor yanks', async () => {
    const alice = await tokenOf('alice', ['@acme/*'], '30d')
    expect((await publish(alice, '@acme/geo', '1.0.0')).status).toBe(201)
    clock = new Date(clock.getTime() + 73 * 3600_000)
    expect((await publish(alice, '@acme/geo', '1.1.0')).status).toBe(201)
    const rev = async () => (await call('GET', '/@acme%2fgeo')).json._rev as string
    const whole = await call('DELETE', `/@acme%2fgeo/-rev/${await rev()}`, { token: alice })
    expect(whole.json).toMatchObject({ code: 'ERR_REGISTRY_UNPUBLISH_WINDOW' })
    expect(Object.keys((await call('GET', '/@acme%2fgeo')).json.versions)).toEqual(['1.0.0', '1.1.0'])
    const old = await call('DELETE', `/@acme/geo/-/geo-1.0.0.tgz/-rev/${await rev()}`, { token: alice })
    expect(old.status).toBe(403)
    // 1.1.0 is young: it goes, and never comes back, not even with the same bytes; 1.2.0 is fine.
    const packument = (await call('GET', '/@acme%2fgeo')).json
    delete packument.versions['1.1.0']
    expect((await call('PUT', `/@acme%2fgeo/-rev/${packument._rev}`, { token: alice, body: packument })).status).toBe(201)
    expect((await publish(alice, '@acme/geo', '1.1.0')).status).toBe(409)
    expect((await call('PUT', '/-/islet/yank/@acme%2fgeo/1.1.0', { token: alice, body: { reason: 'x' } })).status).toBe(404)
    expect((await call('PUT', '/-/package/@acme%2fgeo/dist-tags/next', { token: alice, body: '1.1.0' })).status).toBe(422)
    expect((await publish(alice, '@acme/geo', '1.2.0')).status).toBe(201)
  })
})

describe('memory: publish bodies in flight', () => {
  it('past the in-flight budget an upload is a 503, and a dropped upload gives its share back', async () => {
    await registry.close()
    rmSync(dir, { recursive: true, force: true })
    dir = mkdtempSync(join(tmpdir(), 'islet-redteam-'))
    await start({ publishBytes: 64 * 1024, inflightBytes: 100 * 1024, writeBurst: 10_000, writesPerMinute: 10_000 })
    const alice = await tokenOf('alice', ['@acme/*'])
    // An upload of 60 000 bytes whose last byte never comes (until the test drops it).
    const slow = httpRequest(new URL('/@acme%2fslow', registry.url), { method: 'PUT',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', 'content-length': '60001' } })
    slow.on('error', () => {})
    slow.write(' '.repeat(60_000))
    const padded = (size: number) => JSON.stringify({ name: '@acme/geo', pad: 'x'.repeat(size) })
    let last: Awaited<ReturnType<typeof call>> | undefined
    await until(async () => (last = await call('PUT', '/@acme%2fgeo', { token: alice, raw: padded(60_000) })).status === 503,
      { explain: () => JSON.stringify(last?.json) })
    expect(last!.json).toMatchObject({ code: 'ERR_REGISTRY_BUSY' })
    slow.destroy()
    await until(async () => (last = await call('PUT', '/@acme%2fgeo', { token: alice, raw: padded(60_000) })).status !== 503)
    expect(last!.json).toMatchObject({ code: "ERR_REGISTRY_NOT_FOUND" }) // through the budget: now the document is what is wrong
  })
})
