// Red-team cases: a hostile islet.lock, packument, tarball or registry server. Each is refused with a clear
// RegistryError (never a stray TypeError, never a hang), and nothing is written outside the data dir.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { integrityOf } from '../integrity.ts'
import { createSigningKey, publicKeyOf, signVersion } from '../signature.ts'
import { tarballFileName, VENDOR_DIR } from './cache.ts'
import { createHttpSource } from './http-source.ts'
import { lockDrift, lockFromResolution, parseLock, type LockedPlugin } from './lock.ts'
import { materialize, type MaterializeOptions } from './materialize.ts'
import { resolvePlugins } from './resolve.ts'
import type { PackumentVersion, RegistryMap } from './source.ts'
import { tarGz, type TarEntry } from './test-support/tar.ts'
import { listen, startTestRegistry, type TestRegistry } from './test-support/test-registry.ts'

let root: string
let dataDir: string
let appDir: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'islet-hostile-'))
  dataDir = join(root, 'data')
  appDir = join(root, 'app')
  mkdirSync(appDir)
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

async function refusal(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(RegistryError)
  return error as RegistryError
}

/** A lock entry for `tarball` signed by a key the (hostile) lock pins itself, the tarball vendored next to the app. */
function vendored(name: string, version: string, tarball: Buffer): { entry: LockedPlugin & { name: string }; options: MaterializeOptions } {
  const key = createSigningKey()
  const integrity = integrityOf(tarball)
  const { keyid, sig } = signVersion(key, name, version, integrity)
  mkdirSync(join(appDir, VENDOR_DIR), { recursive: true })
  writeFileSync(join(appDir, VENDOR_DIR, tarballFileName(integrity)), tarball)
  return {
    entry: { name, version, integrity, keyid, sig, registry: 'embedded', engine: '*' },
    options: { dataDir, appDir, engineVersion: '0.1.0', keys: { [keyid]: { key: publicKeyOf(key).key, registry: 'embedded' } },
      sources: { default: createHttpSource({ url: 'http://127.0.0.1:9/' }) } },
  }
}
const packageJson = (name: string, version = '1.0.0') => JSON.stringify({ name, version, islet: { engine: '*' } })

describe('a hostile islet.lock', () => {
  it('names a plugin that climbs out of the packages folder: refused before anything is written', async () => {
    for (const name of ['../../../escape', '@x/../../../escape', '/tmp/escape', 'a\\..\\..\\escape', '__proto__']) {
      const { entry, options } = vendored(name, '1.0.0', tarGz({ 'package.json': packageJson(name) }))
      const error = await refusal(materialize(entry, options))
      expect(error.code).toBe('ERR_REGISTRY_LOCK_INVALID')
      expect(error.message).toContain(`${JSON.stringify(name)} is not a package name`)
    }
    expect(readdirSync(root).sort()).toEqual(['app'])
  })

  it('is refused by parseLock at file:line:col for a bad name, a non-canonical version, or a key id from Object.prototype', () => {
    const key = publicKeyOf(createSigningKey())
    const entry = { version: '1.0.0', integrity: `sha512-${Buffer.alloc(64).toString('base64')}`, keyid: key.keyid, sig: 'c2ln', registry: 'embedded', engine: '*' }
    const text = (plugins: Record<string, unknown>) => JSON.stringify({ lockfileVersion: 1, keys: { [key.keyid]: { key: key.key, registry: 'embedded' } }, plugins }, null, 2)
    const bad = (plugins: Record<string, unknown>) => {
      try {
        parseLock(text(plugins), '/app/islet.lock')
      } catch (error) {
        expect(error).toBeInstanceOf(RegistryError)
        return error as RegistryError
      }
      throw new Error('parseLock accepted it')
    }
    const climbing = bad({ '../../x': entry })
    expect([climbing.code, climbing.message]).toEqual(['ERR_REGISTRY_LOCK_INVALID', expect.stringContaining('/app/islet.lock:')])
    expect(climbing.message).toContain('"../../x" is not a package name')
    expect(bad({ '@a/ok': { ...entry, version: 'v1.0.0' } }).message).toContain('"v1.0.0" is not an exact semver version')
    expect(bad({ '@a/ok': { ...entry, keyid: 'toString' } }).message).toContain('keyid toString is not pinned')
  })

  it("that lacks a plugin named constructor reports it missing, not locked at Object.prototype's version", () => {
    const lock = parseLock(JSON.stringify({ lockfileVersion: 1, keys: {}, plugins: {} }), '/app/islet.lock')
    expect(lockDrift(lock, [{ name: 'constructor', range: '^1.0.0' }], { default: 'embedded' }))
      .toEqual([expect.objectContaining({ name: 'constructor', kind: 'missing' })])
  })

  it('whose keys are not from parseLock cannot borrow a key from Object.prototype', async () => {
    const { entry, options } = vendored('@x/ok', '1.0.0', tarGz({ 'package.json': packageJson('@x/ok') }))
    const error = await refusal(materialize({ ...entry, keyid: 'toString' }, options))
    expect([error.code, error.details.reason]).toEqual(['ERR_REGISTRY_SIGNATURE', 'unknown-key'])
  })
})

describe('a hostile tarball, signed and locked', () => {
  const refuses = async (name: string, entries: TarEntry[], said: string) => {
    const { entry, options } = vendored(name, '1.0.0', tarGz(entries))
    const error = await refusal(materialize(entry, options))
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain(said)
    expect(existsSync(join(dataDir, 'plugins', 'packages'))).toBe(false)
  }

  it('with a file and a folder of the same name, or two names that differ only in case', async () => {
    await refuses('@x/dirfile', [{ path: 'package/package.json', body: packageJson('@x/dirfile') }, { path: 'package/lib', body: 'a' },
      { path: 'package/lib/index.js', body: 'b' }], "'lib' is both a file and a folder")
    await refuses('@x/filedir', [{ path: 'package/package.json', body: packageJson('@x/filedir') }, { path: 'package/lib/index.js', body: 'b' },
      { path: 'package/lib', body: 'a' }], "'lib' is both a file and a folder")
    await refuses('@x/case', [{ path: 'package/package.json', body: packageJson('@x/case') }, { path: 'package/README.md', body: 'a' },
      { path: 'package/readme.md', body: 'b' }], "'README.md' and 'readme.md' differ only in case")
  })

  it('whose pax path holds a newline that looks like a second record: read by length as npm does, and refused', async () => {
    // `<length> path=<value>\n`, the length counting the whole record; the value is `package/a\n20 path=package/b`.
    const value = 'package/a\n20 path=package/b'
    const record = `${' path='.length + value.length + 1 + 2} path=${value}\n`
    await refuses('@x/pax', [{ path: 'package/package.json', body: packageJson('@x/pax') }, { path: 'PaxHeader', type: 'x', body: record },
      { path: 'package/x', body: 'x' }], 'holds a control character')
  })

  it("whose vendored tarball is a fifo: refused, not read (which would block the engine)", async () => {
    const { entry, options } = vendored('@x/fifo', '1.0.0', tarGz({ 'package.json': packageJson('@x/fifo') }))
    const file = join(appDir, VENDOR_DIR, tarballFileName(entry.integrity))
    unlinkSync(file)
    execFileSync('mkfifo', [file])
    const error = await refusal(materialize(entry, options))
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain(`${file} is not a regular file`)
  })

  it('whose extracted folder had a file swapped for a link to a copy elsewhere', async () => {
    const { entry, options } = vendored('@x/linked', '1.0.0', tarGz({ 'package.json': packageJson('@x/linked'), 'index.js': 'ok()' }))
    const { dir } = await materialize(entry, options)
    writeFileSync(join(root, 'copy.js'), 'ok()')
    unlinkSync(join(dir, 'index.js'))
    symlinkSync(join(root, 'copy.js'), join(dir, 'index.js'))
    const error = await refusal(materialize(entry, options))
    expect(error.code).toBe('ERR_REGISTRY_TAMPERED')
    expect(error.details).toMatchObject({ changed: ['index.js'] })
  })

  it('whose package folder was replaced by a link to a copy elsewhere', async () => {
    const { entry, options } = vendored('@x/moved', '1.0.0', tarGz({ 'package.json': packageJson('@x/moved') }))
    const { dir } = await materialize(entry, options)
    const copy = join(root, 'copy')
    mkdirSync(copy)
    writeFileSync(join(copy, 'package.json'), packageJson('@x/moved'))
    rmSync(dir, { recursive: true })
    symlinkSync(copy, dir)
    const error = await refusal(materialize(entry, options))
    expect(error.code).toBe('ERR_REGISTRY_TAMPERED')
    expect(error.message).toContain('is a link')
  })
})

describe('a hostile packument', () => {
  let registry: TestRegistry
  let sources: RegistryMap
  beforeAll(async () => {
    registry = await startTestRegistry()
    sources = { default: createHttpSource({ url: registry.url }) }
  })
  afterAll(() => registry.close())
  const serve = (name: string, versions: Record<string, unknown>) =>
    registry.override(`/${name.replace('/', '%2f')}`, { status: 200, type: 'application/json', body: JSON.stringify({ name, versions }) })
  const version = (name: string, v: string, plugins?: unknown): PackumentVersion =>
    ({ name, version: v, islet: { engine: '*', ...(plugins === undefined ? {} : { plugins }) } as PackumentVersion['islet'],
      dist: { integrity: `sha512-${Buffer.alloc(64).toString('base64')}`, tarball: 'x' } })

  it('with malformed versions: each is dropped with its reason, the good one chosen', async () => {
    serve('@h/mixed', {
      '1.0.0': version('@h/mixed', '1.0.0'),
      '1.1.0': null,
      '1.2.0': version('@h/mixed', '9.9.9'),
      '1.3.0': version('@h/mixed', 'not-a-version'),
      '1.4.0': { ...version('@h/mixed', '1.4.0'), dist: { integrity: 'sha1-AAAA', tarball: 'x' } },
      '1.5.0': version('@h/mixed', '1.5.0', { '../../-/whoami': '*' }),
      '1.6.0': version('@h/mixed', '1.6.0', 'abc'),
      '1.7.0': version('@h/mixed', '1.7.0', { '@h/other': 7 }),
    })
    const resolution = await resolvePlugins([{ name: '@h/mixed', range: '^1.0.0', from: 'app' }], { sources, engineVersion: '0.1.0' })
    expect(resolution.plugins.map((p) => `${p.name}@${p.version}`)).toEqual(['@h/mixed@1.0.0'])
    expect(registry.requests.filter((r) => !r.startsWith('GET /@h%2fmixed'))).toEqual([])
    const error = await refusal(resolvePlugins([{ name: '@h/mixed', range: '>=1.4.0', from: 'app' }], { sources, engineVersion: '0.1.0' }))
    expect(error.code).toBe('ERR_REGISTRY_NO_MATCHING_VERSION')
    expect(error.message).toContain('1.4.0 (dist.integrity is not a sha512 integrity)')
    expect(error.message).toContain('1.5.0 (islet.plugins: "../../-/whoami" is not a package name')
    // The app's own request is held to the same rule, before any request leaves.
    const before = registry.requests.length
    const app = await refusal(resolvePlugins([{ name: '../-/whoami', range: '*', from: 'app' }], { sources, engineVersion: '0.1.0' }))
    expect([app.code, registry.requests.length]).toEqual(['ERR_REGISTRY_NOT_FOUND', before])
  })

  it("that lists a stranger's key under the registry key's id: the stranger's signature is refused, not pinned", async () => {
    const stranger = createSigningKey()
    const bytes = tarGz({ 'package.json': packageJson('@h/signed') })
    const integrity = integrityOf(bytes)
    const forged = { ...signVersion(stranger, '@h/signed', '1.0.0', integrity), keyid: registry.key.keyid }
    serve('@h/signed', { '1.0.0': { ...version('@h/signed', '1.0.0'), dist: { integrity, tarball: 'x', signatures: [forged] } } })
    registry.override('/-/npm/v1/keys', { status: 200, type: 'application/json', body: JSON.stringify({ keys: [
      { ...publicKeyOf(stranger), keyid: registry.key.keyid }, publicKeyOf(registry.key), { keyid: 'SHA256:x' }] }) })
    const resolution = await resolvePlugins([{ name: '@h/signed', range: '1.0.0', from: 'app' }], { sources, engineVersion: '0.1.0' })
    const error = await refusal(lockFromResolution(resolution, sources))
    expect([error.code, error.details.reason]).toEqual(['ERR_REGISTRY_SIGNATURE', 'bad-signature'])
  })

  it('whose ranges chase each other round a cycle: a conflict naming the plugins, not an endless loop; a plain cycle resolves', async () => {
    // a@2 needs b ^1, b@1 needs a ^1, a@1 needs b ^2, b@2 needs a ^2: no version of either satisfies the other.
    serve('@h/a', { '1.0.0': version('@h/a', '1.0.0', { '@h/b': '^2.0.0' }), '2.0.0': version('@h/a', '2.0.0', { '@h/b': '^1.0.0' }) })
    serve('@h/b', { '1.0.0': version('@h/b', '1.0.0', { '@h/a': '^1.0.0' }), '2.0.0': version('@h/b', '2.0.0', { '@h/a': '^2.0.0' }) })
    const error = await refusal(resolvePlugins([{ name: '@h/a', range: '*', from: 'app' }], { sources, engineVersion: '0.1.0' }))
    expect(error.code).toBe('ERR_REGISTRY_RESOLVE_CONFLICT')
    expect(error.message).toContain('@h/a')
    expect(error.message).toContain('@h/b')
    // A plain cycle whose ranges agree is no conflict.
    serve('@h/p', { '1.0.0': version('@h/p', '1.0.0', { '@h/q': '^1.0.0' }) })
    serve('@h/q', { '1.0.0': version('@h/q', '1.0.0', { '@h/p': '^1.0.0' }) })
    const resolution = await resolvePlugins([{ name: '@h/p', range: '^1.0.0', from: 'app' }], { sources, engineVersion: '0.1.0' })
    expect(resolution.plugins.map((p) => p.name)).toEqual(['@h/p', '@h/q'])
  })
})

describe('a hostile registry server', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/@h%2fsilent')) return // never answers
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"versions":{')
      const drip = setInterval(() => res.write(' '), 20) // a byte now and then, forever
      res.on('close', () => clearInterval(drip))
    })
    url = `http://127.0.0.1:${await listen(server, [19240, 19259])}/`
  })
  afterAll(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))

  it('that answers slowly or never is given up on at the deadline, naming the URL', async () => {
    const source = createHttpSource({ url, timeoutMs: 500 })
    for (const name of ['@h/drip', '@h/silent']) {
      const error = await refusal(source.packument(name))
      expect(error.code).toBe('ERR_REGISTRY_UNREACHABLE')
      expect(error.message).toContain(`GET ${url}${name.replace('/', '%2f')}`)
      expect(error.message).toContain('within 500 ms')
    }
  }, 20_000)
})
