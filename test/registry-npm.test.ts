// The real npm 11 CLI against Islet's registry on loopback (issue 11's proof): legacy login, whoami, ping, publish
// (scoped, --tag), view, install into a scratch project, dist-tag, deprecate, the unpublish window, and
// `npm audit signatures` reporting verified registry signatures. What npm sends for each is recorded in
// /work/wt/brief/npm-traffic.md. npm never leaves loopback: `npm audit signatures` first refreshes Sigstore's TUF
// repository, which test/support/offline-tuf.ts stands in for (and records anything else npm tries to reach).
// The steps share one registry and run in order: each builds on the one before. Within a step, npm calls that do
// not depend on each other run together (each npm start is about a second).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuth, createUser } from '../registry/server/auth/index.ts'
import { startRegistry, type RunningRegistry } from '../registry/server/server.ts'
import { npmSession, writePackage, type NpmSession } from './support/npm-cli.ts'
import { startOfflineTuf, type OfflineTuf } from './support/offline-tuf.ts'

const HOUR = 3600_000
const GEO = '@alice/geo'

function geoPackage(version: string): Record<string, unknown> {
  return {
    name: GEO, version, description: 'Geocoding for Islet apps', type: 'module', license: 'MIT', files: ['components'],
    // Optional peer: a required one makes `npm install` fetch @islet/sdk from this registry (npm-traffic.md §3).
    peerDependencies: { '@islet/sdk': '*' }, peerDependenciesMeta: { '@islet/sdk': { optional: true } },
    islet: { engine: '>=0.1.0', components: { geocode: { file: 'components/geocode.ts', description: 'Looks a place up', capabilities: { kv: true } } } },
  }
}
const geocode = (version: string) => `// ${version}\nexport default function geocode(input: { q: string }) {\n  return { q: input.q, at: null }\n}\n`

describe('the real npm CLI against Islet\'s registry', () => {
  let root: string
  let tuf: OfflineTuf
  let registry: RunningRegistry
  let npm: NpmSession
  let clock = Date.now()
  const now = () => new Date(clock)

  const publishGeo = (version: string, args: string[] = []) => {
    const dir = writePackage(join(root, 'pkg', version), geoPackage(version), { 'components/geocode.ts': geocode(version), 'README.md': `# ${GEO}\n` })
    return npm.run(['publish', ...args], { cwd: dir })
  }
  const project = (name: string) => writePackage(join(root, name), { name, version: '1.0.0', private: true })
  const view = async (spec: string, field?: string) => {
    const r = await npm.run(['view', spec, ...(field ? [field] : []), '--json'])
    expect(r.status, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as unknown
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'islet-registry-npm-'))
    registry = await startRegistry({ dir: join(root, 'registry'), now, auth: (store) => createAuth(store.db, { now }) })
    createUser(registry.store.db, 'alice', 'correct-horse-battery')
    tuf = await startOfflineTuf(join(root, 'tuf'))
    npm = npmSession(join(root, 'npm'), registry.url, tuf.env)
    tuf.seedCache(npm.cache)
  })

  afterAll(async () => {
    await registry?.close()
    await tuf?.close()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('logs in with npm login --auth-type=legacy; whoami names the user; ping answers', async () => {
    const wrong = await npm.run(['login', '--auth-type=legacy'], { answers: { Username: 'alice', Password: 'not-her-password' } })
    expect(wrong.status).not.toBe(0)
    expect(wrong.stderr).toContain('E401')
    expect(npm.token()).toBeUndefined()

    const login = await npm.run(['login', '--auth-type=legacy'], { answers: { Username: 'alice', Password: 'correct-horse-battery' } })
    expect(login.status, login.stderr).toBe(0)
    expect(login.stdout).toContain(`Logged in on ${registry.url}`)
    expect(npm.token()).toMatch(/^ey/) // a JWT

    const whoami = await npm.run(['whoami'])
    expect(whoami.stdout.trim()).toBe('alice')
    const ping = await npm.run(['ping'])
    expect(ping.status, ping.stderr).toBe(0)
    expect(ping.stderr).toContain('PONG')
  })

  it('publishes a scoped plugin, the second version under --tag beta; view shows both, signed, with the islet field', async () => {
    const first = await publishGeo('1.0.0')
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout).toContain(`+ ${GEO}@1.0.0`)
    const second = await publishGeo('1.1.0', ['--tag', 'beta'])
    expect(second.status, second.stderr).toBe(0)

    const [tags, versions, distView, capabilities] = await Promise.all([view(GEO, 'dist-tags'), view(GEO, 'versions'), view(`${GEO}@1.1.0`, 'dist'),
      view(`${GEO}@1.1.0`, 'islet.components.geocode.capabilities')])
    expect(tags).toEqual({ latest: '1.0.0', beta: '1.1.0' })
    expect(versions).toEqual(['1.0.0', '1.1.0'])
    const dist = distView as { tarball: string; integrity: string; signatures: { keyid: string; sig: string }[] }
    expect(dist.tarball).toBe(`${registry.url}${GEO}/-/geo-1.1.0.tgz`)
    expect(dist.signatures).toHaveLength(1)
    expect(dist.signatures[0].keyid).toMatch(/^SHA256:/)
    expect(capabilities).toEqual({ kv: true })
  })

  it('installs into a scratch project by range, from the latest tag, with the registry\'s integrity in the lock', async () => {
    const app = project('app')
    const [r, dist] = await Promise.all([npm.run(['install', `${GEO}@^1.0.0`], { cwd: app }), view(`${GEO}@1.0.0`, 'dist') as Promise<{ integrity: string }>])
    expect(r.status, r.stderr).toBe(0)
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', '@alice', 'geo', 'package.json'), 'utf8')) as { version: string }
    expect(installed.version).toBe('1.0.0') // latest satisfies ^1.0.0, so npm takes it over the higher beta
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved: string; integrity: string }> }
    const entry = lock.packages['node_modules/@alice/geo']
    expect(entry.resolved).toBe(`${registry.url}${GEO}/-/geo-1.0.0.tgz`)
    expect(entry.integrity).toBe(dist.integrity)
  })

  it('npm audit signatures verifies the installed package\'s registry signature, offline', async () => {
    const r = await npm.run(['audit', 'signatures'], { cwd: join(root, 'app') })
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('audited 1 package')
    expect(r.stdout).toContain('1 package has a verified registry signature')
    expect(tuf.refused).toEqual([]) // npm tried to reach nothing but loopback and the stand-in TUF host
  })

  it('moves dist-tags with npm dist-tag add, ls and rm', async () => {
    const add = await npm.run(['dist-tag', 'add', `${GEO}@1.1.0`, 'stable'])
    expect(add.status, add.stderr).toBe(0)
    expect(add.stdout).toContain(`+stable: ${GEO}@1.1.0`)
    const rm = await npm.run(['dist-tag', 'rm', GEO, 'beta'])
    expect(rm.status, rm.stderr).toBe(0)
    const ls = await npm.run(['dist-tag', 'ls', GEO])
    expect(ls.stdout.trim().split('\n').sort()).toEqual(['latest: 1.0.0', 'stable: 1.1.0'])
  })

  it('deprecates a version: view shows the message and npm install warns with it', async () => {
    const r = await npm.run(['deprecate', `${GEO}@1.0.0`, 'use 1.1 or later'])
    expect(r.status, r.stderr).toBe(0)
    const [deprecated, install] = await Promise.all([view(`${GEO}@1.0.0`, 'deprecated'), npm.run(['install', `${GEO}@1.0.0`], { cwd: project('app-deprecated') })])
    expect(deprecated).toBe('use 1.1 or later')
    expect(install.status, install.stderr).toBe(0)
    expect(install.stderr).toContain(`npm warn deprecated ${GEO}@1.0.0: use 1.1 or later`)
  })

  it('unpublishes a version within 72 hours; the name@version never comes back; later versions cannot be unpublished', async () => {
    expect((await publishGeo('1.2.0')).status).toBe(0)
    const unpublish = await npm.run(['unpublish', `${GEO}@1.2.0`])
    expect(unpublish.status, unpublish.stderr).toBe(0)
    expect(await view(GEO, 'versions')).toEqual(['1.0.0', '1.1.0'])

    const again = await publishGeo('1.2.0') // npm's pre-flight no longer sees 1.2.0, so the server must refuse it
    expect(again.status).not.toBe(0)
    expect(again.stderr).toMatch(/E409|E403/)

    clock += 73 * HOUR
    const late = await npm.run(['unpublish', `${GEO}@1.1.0`])
    expect(late.status).not.toBe(0) // npm swallows a 404 here and reports success: the refusal must be another status
    expect(late.stderr).toMatch(/72/)
    expect(await view(GEO, 'versions')).toEqual(['1.0.0', '1.1.0'])
  })

  it('unpublishes a whole package with --force within 72 hours of its versions', async () => {
    const dir = writePackage(join(root, 'pkg', 'tmp'), { ...geoPackage('0.1.0'), name: '@alice/scratch' }, { 'components/geocode.ts': geocode('0.1.0') })
    expect((await npm.run(['publish'], { cwd: dir })).status).toBe(0)
    const r = await npm.run(['unpublish', '@alice/scratch', '--force'])
    expect(r.status, r.stderr).toBe(0)
    const gone = await npm.run(['view', '@alice/scratch'])
    expect(gone.stderr).toContain('E404')
  })
})
