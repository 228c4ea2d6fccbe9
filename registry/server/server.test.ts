// The registry server over real HTTP on loopback, with a real SQLite file and tarballs on disk. The authenticator is
// a small stand-in mapping fixed bearer strings to principals (the real one is registry/server/auth/).
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Context } from 'koa'
import { fetch, request } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { integrityOf, shasumOf } from '../integrity.ts'
import { verifyVersion } from '../signature.ts'
import { readTarball } from '../tarball/read.ts'
import { packageTgz, tgz } from '../tarball/test-tar.ts'
import { RegistryHttpError } from './http-error.ts'
import type { Authenticator, Principal } from './principal.ts'
import { startRegistry, type RunningRegistry } from './server.ts'
import type { RegistryStore } from './store.ts'

const PRINCIPALS: Record<string, Principal> = {
  'alice-token': { user: 'alice', tokenId: 't1', scopes: ['@acme/*', 'plain-plugin'] },
  'bob-token': { user: 'bob', tokenId: 't2', scopes: ['@bob/*'] },
}

function testAuth(store: RegistryStore): Authenticator {
  const principal = async (ctx: Context): Promise<Principal | undefined> => {
    const header = ctx.get('authorization')
    if (!header) return undefined
    const found = PRINCIPALS[header.replace(/^Bearer /, '')]
    if (!found) throw new RegistryHttpError(401, 'ERR_TEST_TOKEN', 'unknown token')
    return found
  }
  return {
    principal,
    async requireWrite(ctx, pkg) {
      const who = await principal(ctx)
      if (!who) throw new RegistryHttpError(401, 'ERR_TEST_TOKEN', 'log in first')
      const covered = who.scopes.some((s) => s === pkg || (s.endsWith('/*') && pkg.startsWith(s.slice(0, -1))))
      const owner = store.package(pkg)?.owner
      if (!covered || (owner !== undefined && owner !== who.user)) throw new RegistryHttpError(403, 'ERR_TEST_SCOPE', `${who.user} may not write ${pkg}`)
      return who
    },
  }
}

const ISLET = { engine: '^0.1.0', components: { geocode: { file: 'components/geocode.ts', capabilities: { fetch: ['https://geo.example'] } } } }

function pluginTgz(version: string, extra: Record<string, unknown> = {}, files: Record<string, string> = {}): Buffer {
  const pkg = { name: '@acme/geo', version, description: 'Geocoding', type: 'module', islet: ISLET, ...extra }
  return packageTgz({ 'package.json': JSON.stringify(pkg), 'components/geocode.ts': 'export default {}', ...files })
}

/** The document `npm publish` sends (see npm-traffic notes: libnpmpublish's buildMetadata). */
function publishDocument(tarball: Buffer, tag = 'latest', edit: (manifest: Record<string, unknown>) => void = () => {},
  pkg = JSON.parse(readTarball(tarball).files.get('package.json')!.toString()) as Record<string, unknown>): Record<string, unknown> {
  const name = String(pkg.name)
  const version = String(pkg.version)
  const manifest: Record<string, unknown> = { ...pkg, readme: 'ERROR: No README data found!', _id: `${name}@${version}`, _nodeVersion: '24.0.0', _npmVersion: '11.19.1',
    dist: { integrity: integrityOf(tarball), shasum: shasumOf(tarball), tarball: `http://x/${name}/-/${name}-${version}.tgz` } }
  edit(manifest)
  return { _id: name, name, description: pkg.description, 'dist-tags': { [tag]: version }, versions: { [version]: manifest }, access: null,
    _attachments: { [`${name}-${version}.tgz`]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } } }
}

let dir: string
let registry: RunningRegistry
let clock: Date

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'islet-registry-'))
  clock = new Date('2026-01-10T12:00:00.000Z')
  registry = await startRegistry({ dir, port: 0, auth: testAuth, now: () => clock })
})

afterEach(async () => {
  await registry.close()
  rmSync(dir, { recursive: true, force: true })
})

async function call(method: string, path: string, options: { token?: string; body?: unknown; accept?: string; type?: string; raw?: string } = {}) {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.accept) headers.accept = options.accept
  if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = options.type ?? 'application/json'
  const response = await fetch(new URL(path, registry.url), { method, headers, body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) })
  const bytes = Buffer.from(await response.arrayBuffer())
  const text = bytes.toString('utf8')
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: response.status, headers: response.headers, json, bytes }
}

const publish = (tarball: Buffer, options: { token?: string; tag?: string; edit?: (m: Record<string, unknown>) => void } = {}) =>
  call('PUT', '/@acme%2fgeo', { token: options.token ?? 'alice-token', body: publishDocument(tarball, options.tag, options.edit) })

describe('publish, packument, tarball', () => {
  it('round-trips a publish: the packument derives from the tarball, the signature verifies against /-/npm/v1/keys', async () => {
    const tarball = pluginTgz('1.2.0')
    const put = await publish(tarball)
    expect(put.status).toBe(201)

    const { json: packument } = await call('GET', '/@acme%2fgeo', { accept: 'application/json' })
    expect(packument['dist-tags']).toEqual({ latest: '1.2.0' })
    const version = packument.versions['1.2.0']
    expect(version).toMatchObject({ name: '@acme/geo', version: '1.2.0', islet: ISLET, _npmUser: { name: 'alice', email: '' } })
    expect(version.readme).toBeUndefined() // npm's additions are not recorded: only what the tarball says
    expect(version._nodeVersion).toBeUndefined()
    expect(version.dist).toMatchObject({ integrity: integrityOf(tarball), shasum: shasumOf(tarball), tarball: `${registry.url}@acme/geo/-/geo-1.2.0.tgz`, fileCount: 2 })
    expect(packument.time['1.2.0']).toBe(clock.toISOString())
    expect(packument._rev).toMatch(/^\d+-[0-9a-f]+$/)

    const download = await call('GET', version.dist.tarball.slice(registry.url.length))
    expect(download.status).toBe(200)
    expect(download.headers.get('content-type')).toBe('application/octet-stream')
    expect(integrityOf(download.bytes)).toBe(integrityOf(tarball))

    const { json: keys } = await call('GET', '/-/npm/v1/keys')
    const [signature] = version.dist.signatures
    const key = keys.keys.find((k: { keyid: string }) => k.keyid === signature.keyid)
    expect(verifyVersion(key.key, '@acme/geo', '1.2.0', version.dist.integrity, signature.sig)).toBe(true)
    expect(verifyVersion(key.key, '@acme/geo', '1.2.1', version.dist.integrity, signature.sig)).toBe(false)
  })

  it('serves the abbreviated packument with npm’s field set, and a 304 for a known ETag', async () => {
    await publish(pluginTgz('1.0.0', { dependencies: { semver: '^7.0.0' }, keywords: ['geo'] }))
    const abbreviated = await call('GET', '/@acme%2fgeo', { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' })
    expect(abbreviated.headers.get('content-type')).toBe('application/vnd.npm.install-v1+json; charset=utf-8')
    expect(Object.keys(abbreviated.json).sort()).toEqual(['dist-tags', 'modified', 'name', 'versions'])
    expect(Object.keys(abbreviated.json.versions['1.0.0']).sort()).toEqual(['dependencies', 'dist', 'name', 'version'])
    // fetch() turns a conditional request into `cache-control: no-cache` (per the Fetch spec); npm's client does not.
    const conditional = async () => {
      const answer = await request(new URL('/@acme%2fgeo', registry.url), {
        headers: { accept: 'application/vnd.npm.install-v1+json', 'if-none-match': abbreviated.headers.get('etag')! } })
      await answer.body.dump()
      return answer.statusCode
    }
    expect(await conditional()).toBe(304)
    registry.store.db.prepare("UPDATE dist_tags SET version = '0.0.0' WHERE name = '@acme/geo'").run() // as a dist-tag route may
    expect(await conditional()).toBe(200)
  })

  it('answers scoped names url-encoded or not, unscoped names, and one version by number or tag', async () => {
    await publish(pluginTgz('1.0.0'))
    for (const path of ['/@acme%2fgeo', '/@acme%2Fgeo', '/@acme/geo']) expect((await call('GET', path)).json.name).toBe('@acme/geo')
    expect((await call('GET', '/@acme/geo/latest')).json.version).toBe('1.0.0')
    const plain = packageTgz({ 'package.json': JSON.stringify({ name: 'plain-plugin', version: '0.1.0', islet: { engine: '*' } }) })
    expect((await call('PUT', '/plain-plugin', { token: 'alice-token', body: publishDocument(plain) })).status).toBe(201)
    const { json } = await call('GET', '/plain-plugin')
    expect(json.versions['0.1.0'].dist.tarball).toBe(`${registry.url}plain-plugin/-/plain-plugin-0.1.0.tgz`)
    expect((await call('GET', '/plain-plugin/-/plain-plugin-0.1.0.tgz')).status).toBe(200)
    expect((await call('GET', '/nothing-here')).status).toBe(404)
  })

  it('never serves a stored tarball whose bytes changed on disk', async () => {
    const tarball = pluginTgz('1.0.0')
    await publish(tarball)
    const file = join(dir, 'tarballs', `sha512-${createHash('sha512').update(tarball).digest('hex')}.tgz`)
    writeFileSync(file, Buffer.concat([tarball, Buffer.from([0])]))
    const served = await call('GET', '/@acme/geo/-/geo-1.0.0.tgz')
    expect(served.status).toBe(500)
    expect(served.json.code).toBe('ERR_REGISTRY_INTEGRITY')
  })

  it('sets the dist-tag the publish names', async () => {
    await publish(pluginTgz('2.0.0-beta.1'), { tag: 'beta' })
    expect((await call('GET', '/@acme/geo')).json['dist-tags']).toEqual({ beta: '2.0.0-beta.1' })
  })
})

describe('refusals', () => {
  it('401 without or with an unknown token, 403 outside the token’s scopes or another owner’s package', async () => {
    const doc = publishDocument(pluginTgz('1.0.0'))
    expect((await call('PUT', '/@acme%2fgeo', { body: doc })).status).toBe(401)
    expect((await call('PUT', '/@acme%2fgeo', { body: doc, token: 'stolen' })).status).toBe(401)
    const forbidden = await call('PUT', '/@acme%2fgeo', { body: doc, token: 'bob-token' })
    expect(forbidden.status).toBe(403)
    expect(forbidden.json.error).toBe('bob may not write @acme/geo')
    expect((await call('GET', '/@acme/geo')).status).toBe(404)
  })

  it('409 for other bytes under an existing version, naming it', async () => {
    await publish(pluginTgz('1.0.0'))
    const again = await publish(pluginTgz('1.0.0', { description: 'other bytes' }))
    expect(again.status).toBe(409)
    expect(again.json).toMatchObject({ code: 'ERR_REGISTRY_VERSION_EXISTS' })
    expect(again.json.error).toContain('cannot publish over @acme/geo@1.0.0')
    expect(again.json.hint).toContain('bump the version')
    // npm prints only `error`: how to fix it is there too.
    expect(again.json.error).toContain(`; ${again.json.hint}`)
  })

  it('422 when the request manifest disagrees with the tarball, naming the field', async () => {
    const cases: [string, (m: Record<string, unknown>) => void][] = [
      ['islet', (m) => { m.islet = { engine: '*' } }],
      ['dependencies', (m) => { m.dependencies = { evil: '1.0.0' } }],
      ['dist.integrity', (m) => { m.dist = { ...(m.dist as object), integrity: integrityOf(Buffer.from('x')) } }],
      ['deprecated', (m) => { m.deprecated = 'sneaky' }],
    ]
    for (const [field, edit] of cases) {
      const refused = await publish(pluginTgz('1.0.0'), { edit })
      expect(refused.status).toBe(422)
      expect(refused.json).toMatchObject({ code: 'ERR_REGISTRY_MANIFEST_MISMATCH', details: { field } })
      expect(refused.json.error).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `))
    }
    // What npm itself rewrites is not a disagreement: optionalDependencies copied into dependencies, readme, people.
    const normalised = await publish(pluginTgz('0.9.0', { optionalDependencies: { 'left-pad': '^1.0.0' }, author: 'Ann <ann@example.com>' }), {
      edit: (m) => { m.dependencies = { 'left-pad': '^1.0.0' }; m.author = { name: 'Ann', email: 'ann@example.com' } } })
    expect(normalised.status).toBe(201)
    const wrongVersion = publishDocument(pluginTgz('1.0.0'))
    wrongVersion.versions = { '9.9.9': (wrongVersion.versions as Record<string, unknown>)['1.0.0'] }
    expect((await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: wrongVersion })).json.details).toEqual({ field: 'version' })
    const other = packageTgz({ 'package.json': JSON.stringify({ name: '@acme/other', version: '1.0.0', islet: { engine: '*' } }) })
    const otherDoc = { ...publishDocument(other), name: undefined, _id: undefined }
    const renamed = await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: otherDoc })
    expect(renamed.json).toMatchObject({ code: 'ERR_REGISTRY_MANIFEST_MISMATCH', details: { field: 'name' } })
    expect(renamed.json.error).toContain("names '@acme/other', but the request is for '@acme/geo'")
    expect(Object.keys((await call('GET', '/@acme/geo')).json.versions)).toEqual(['0.9.0']) // nothing refused was recorded
  })

  it('422 listing every manifest problem; install scripts and missing component files refused', async () => {
    const refused = await publish(pluginTgz('1.0.0', { scripts: { postinstall: 'node x.js' }, islet: { engine: 'nope', components: { a: { file: 'gone.ts' } } } }))
    expect(refused.status).toBe(422)
    expect(refused.json.code).toBe('ERR_REGISTRY_MANIFEST_INVALID')
    expect(refused.json.details.problems.map((p: { path: string }) => p.path)).toEqual(['scripts.postinstall', 'islet.engine', 'islet.components.a.file'])
    expect(refused.json.error).toContain("islet.components.a.file: 'gone.ts' is not in the package")
    // Each problem carries its own fix; the first one's, also the hint, is not said twice.
    expect(refused.json.error.split(refused.json.hint)).toHaveLength(2)
  })

  it('422 for an unsafe tarball, naming the entry', async () => {
    const pkg = { name: '@acme/geo', version: '1.0.0', islet: { engine: '*' } }
    const evil = tgz([{ name: 'package/package.json', body: JSON.stringify(pkg) }, { name: 'package/../../etc/cron.d/x', body: 'boom' }])
    const refused = await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: publishDocument(evil, 'latest', undefined, pkg) })
    expect(refused.status).toBe(422)
    expect(refused.json.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(refused.json.error).toContain("'package/../../etc/cron.d/x'")
  })

  it('422 at publish for files that would collide on a case-insensitive disk, so no install ever meets them', async () => {
    const pkg = { name: '@acme/geo', version: '1.0.0', islet: { engine: '*' } }
    const clash = tgz([{ name: 'package/package.json', body: JSON.stringify(pkg) }, { name: 'package/README.md', body: 'a' }, { name: 'package/readme.md', body: 'b' }])
    const refused = await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: publishDocument(clash, 'latest', undefined, pkg) })
    expect(refused.status).toBe(422)
    expect(refused.json.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(refused.json.error).toContain("'README.md' and 'readme.md' differ only in case")
    expect((await call('GET', '/@acme%2fgeo')).status).toBe(404)
  })

  it('400 for malformed JSON, 415 for another content type, 413 over the body limit — in npm’s shape', async () => {
    const malformed = await call('PUT', '/@acme%2fgeo', { token: 'alice-token', raw: '{"name": ' })
    expect(malformed.status).toBe(400)
    expect(malformed.json).toMatchObject({ code: 'ERR_REGISTRY_BAD_REQUEST' })
    expect(malformed.json.error).toContain('not valid JSON')
    const form = await call('PUT', '/@acme%2fgeo', { token: 'alice-token', raw: 'a=b', type: 'application/x-www-form-urlencoded' })
    expect(form.status).toBe(415)
    await registry.close()
    registry = await startRegistry({ dir, auth: testAuth, now: () => clock, limits: { publishBytes: 1000 } })
    const big = await publish(pluginTgz('1.0.0', {}, { 'big.txt': 'x'.repeat(5000) }))
    expect(big.status).toBe(413)
    expect(big.json.error).toContain('limit of 1000 bytes')
  })

  it('calls the checkComponents hook and refuses with its problems', async () => {
    await registry.close()
    const seen: string[] = []
    registry = await startRegistry({ dir, auth: testAuth, now: () => clock, checkComponents: async (files, pkg) => {
      seen.push(`${pkg.name}:${[...files.keys()].join(',')}`)
      return [{ path: 'islet.components.geocode.file', message: "components/geocode.ts:1:1: Expected ';'", hint: 'fix the syntax error' }]
    } })
    const refused = await publish(pluginTgz('1.0.0'))
    expect(seen).toEqual(['@acme/geo:package.json,components/geocode.ts'])
    expect(refused.status).toBe(422)
    expect(refused.json.code).toBe('ERR_REGISTRY_COMPONENTS')
    expect(refused.json.error).toContain("components/geocode.ts:1:1: Expected ';'")
  })
})

describe('unpublish, deprecate, yank', () => {
  async function writePackument() {
    return (await call('GET', '/@acme%2fgeo?write=true', { token: 'alice-token', accept: '*/*' })).json
  }

  it('unpublishes a version as npm does within 72 h; the name@version never comes back', async () => {
    await publish(pluginTgz('1.0.0'))
    await publish(pluginTgz('1.1.0'))
    // npm: PUT the packument minus the version, then DELETE its tarball with the new _rev.
    const doc = await writePackument()
    delete doc.versions['1.1.0']
    doc['dist-tags'].latest = '1.0.0'
    expect((await call('PUT', `/@acme%2fgeo/-rev/${doc._rev}`, { token: 'alice-token', body: doc })).status).toBe(201)
    const { _rev } = await writePackument()
    expect((await call('DELETE', `/@acme/geo/-/geo-1.1.0.tgz/-rev/${_rev}`, { token: 'alice-token' })).status).toBe(201)

    const { json: packument } = await call('GET', '/@acme%2fgeo')
    expect(Object.keys(packument.versions)).toEqual(['1.0.0'])
    expect(packument['dist-tags']).toEqual({ latest: '1.0.0' })
    expect((await call('GET', '/@acme/geo/-/geo-1.1.0.tgz')).status).toBe(404)
    const back = await publish(pluginTgz('1.1.0'))
    expect(back.status).toBe(409)
    expect(back.json.error).toContain('unpublished at')
  })

  it('refuses to unpublish after 72 h with 403 naming the deadline and suggesting deprecate', async () => {
    await publish(pluginTgz('1.0.0'))
    clock = new Date(clock.getTime() + 73 * 3600_000)
    const { _rev } = await writePackument()
    const refused = await call('DELETE', `/@acme%2fgeo/-rev/${_rev}`, { token: 'alice-token' })
    expect(refused.status).toBe(403)
    expect(refused.json.code).toBe('ERR_REGISTRY_UNPUBLISH_WINDOW')
    expect(refused.json.error).toContain('unpublishable until 2026-01-13T12:00:00.000Z')
    expect(refused.json.hint).toContain('npm deprecate @acme/geo@1.0.0')
    expect(Object.keys((await call('GET', '/@acme/geo')).json.versions)).toEqual(['1.0.0'])
  })

  it('unpublishes the whole package within the window; a stale _rev is a conflict', async () => {
    await publish(pluginTgz('1.0.0'))
    const { _rev } = await writePackument()
    await publish(pluginTgz('1.0.1'))
    expect((await call('DELETE', `/@acme%2fgeo/-rev/${_rev}`, { token: 'alice-token' })).status).toBe(409)
    const fresh = await writePackument()
    expect((await call('DELETE', `/@acme%2fgeo/-rev/${fresh._rev}`, { token: 'alice-token' })).status).toBe(201)
    expect((await call('GET', '/@acme/geo')).status).toBe(404)
  })

  it('deprecates as npm does (the packument back with deprecated set); any other change is 422 naming the field', async () => {
    await publish(pluginTgz('1.0.0'))
    const doc = await writePackument()
    doc.versions['1.0.0'].deprecated = 'use 2.x'
    expect((await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: { ...doc, _attachments: {} } })).status).toBe(200)
    expect((await call('GET', '/@acme/geo')).json.versions['1.0.0'].deprecated).toBe('use 2.x')

    const sneaky = await writePackument()
    sneaky.versions['1.0.0'].islet = { engine: '*' }
    const refused = await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: sneaky })
    expect(refused.status).toBe(422)
    expect(refused.json.details).toEqual({ field: 'versions.1.0.0.islet' })

    const dropped = await writePackument()
    delete dropped.versions['1.0.0']
    const notHere = await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: dropped })
    expect(notHere.status).toBe(422)
    expect(notHere.json.hint).toBe('unpublish with npm unpublish @acme/geo@1.0.0')

    const undo = await writePackument()
    undo.versions['1.0.0'].deprecated = ''
    await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: undo })
    expect((await call('GET', '/@acme/geo')).json.versions['1.0.0'].deprecated).toBeUndefined()
  })

  it('yanks and unyanks (Islet extension): the packument shows _yanked', async () => {
    await publish(pluginTgz('1.0.0'))
    expect((await call('PUT', '/-/islet/yank/@acme%2fgeo/1.0.0', { token: 'bob-token', body: { reason: 'x' } })).status).toBe(403)
    expect((await call('PUT', '/-/islet/yank/@acme%2fgeo/1.0.0', { token: 'alice-token', body: {} })).status).toBe(422)
    expect((await call('PUT', '/-/islet/yank/@acme%2fgeo/1.0.0', { token: 'alice-token', body: { reason: 'leaks keys' } })).status).toBe(200)
    expect((await call('GET', '/@acme/geo')).json.versions['1.0.0']._yanked).toBe('leaks keys')
    expect((await call('GET', '/@acme/geo', { accept: 'application/vnd.npm.install-v1+json' })).json.versions['1.0.0']._yanked).toBe('leaks keys')
    expect((await call('GET', '/@acme/geo/-/geo-1.0.0.tgz')).status).toBe(200) // still installable when pinned
    expect((await call('DELETE', '/-/islet/yank/@acme/geo/1.0.0', { token: 'alice-token' })).status).toBe(200)
    expect((await call('GET', '/@acme/geo')).json.versions['1.0.0']._yanked).toBeUndefined()
  })

  it('appends every write to the audit log with who, what, when and integrity', async () => {
    const tarball = pluginTgz('1.0.0')
    await publish(tarball)
    await call('PUT', '/-/islet/yank/@acme%2fgeo/1.0.0', { token: 'alice-token', body: { reason: 'bad' } })
    const doc = await writePackument()
    doc.versions['1.0.0'].deprecated = 'old'
    await call('PUT', '/@acme%2fgeo', { token: 'alice-token', body: doc })
    const { _rev } = await writePackument()
    await call('DELETE', `/@acme%2fgeo/-rev/${_rev}`, { token: 'alice-token' })
    await publish(pluginTgz('1.0.0', { description: 'refused' })) // a refused write leaves no row
    const rows = registry.store.auditRows('@acme/geo')
    expect(rows.map((r) => [r.actor, r.action, r.version, r.integrity, r.at])).toEqual(
      ['publish', 'yank', 'deprecate', 'unpublish'].map((action) => ['alice', action, '1.0.0', integrityOf(tarball), clock.toISOString()]))
    expect(rows[1]?.detail).toEqual({ reason: 'bad' })
  })
})

describe('the authenticator’s routes', () => {
  it('are mounted before the package routes, so a /-/ path never reads as a package', async () => {
    await registry.close()
    registry = await startRegistry({ dir, now: () => clock, auth: (store) => ({ ...testAuth(store), routes(router) {
      router.get('/-/whoami', (ctx) => { ctx.body = { username: 'alice' } })
    } }) })
    expect((await call('GET', '/-/whoami')).json).toEqual({ username: 'alice' })
    expect((await call('GET', '/-/nothing')).json.code).toBe('ERR_REGISTRY_NOT_FOUND')
  })

  it('without an authenticator, every write is refused', async () => {
    await registry.close()
    registry = await startRegistry({ dir, now: () => clock })
    const refused = await publish(pluginTgz('1.0.0'))
    expect(refused.status).toBe(401)
    expect(refused.json.code).toBe('ERR_REGISTRY_NO_AUTH')
  })
})
