// materialize against a real loopback registry and real folders: the lookup order (vendor, cache, registry), and
// every way a plugin is refused, failing closed with what differed: a changed byte, a file added to the tarball or
// to the extracted folder, an unknown key, a missing or bad signature, a package.json or engine that disagrees.
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { integrityOf } from '../integrity.ts'
import { createSigningKey, publicKeyOf, signVersion } from '../signature.ts'
import { cacheDir, tarballFileName, VENDOR_DIR } from './cache.ts'
import { createHttpSource } from './http-source.ts'
import { lockFromResolution, type Lockfile } from './lock.ts'
import { materialize, type MaterializeOptions } from './materialize.ts'
import { resolvePlugins } from './resolve.ts'
import type { RegistryMap } from './source.ts'
import { tarGz } from './test-support/tar.ts'
import { startTestRegistry, type TestRegistry } from './test-support/test-registry.ts'

let registry: TestRegistry
let sources: RegistryMap
let root: string
let dataDir: string
let appDir: string

beforeAll(async () => {
  registry = await startTestRegistry()
  sources = { default: createHttpSource({ url: registry.url }) }
  registry.publish({ name: '@t/geo', version: '1.2.0', files: { 'components/geocode.ts': 'export default () => 1\n', 'README.md': '# geo\n' } })
  // Signed, but its package.json names another package.
  registry.publish({ name: '@t/liar', version: '1.0.0', files: { 'package.json': JSON.stringify({ name: '@t/geo', version: '1.2.0', islet: { engine: '*' } }) } })
})
afterAll(() => registry.close())
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'islet-materialize-'))
  dataDir = join(root, 'data')
  appDir = join(root, 'app')
  mkdirSync(appDir)
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

async function lockFor(name: string, version = '1.0.0'): Promise<Lockfile> {
  const resolution = await resolvePlugins([{ name, range: version, from: 'app' }], { sources, engineVersion: '0.1.0' })
  return lockFromResolution(resolution, sources)
}
const options = (lock: Lockfile, overrides: Partial<MaterializeOptions> = {}): MaterializeOptions =>
  ({ dataDir, appDir, sources, engineVersion: '0.1.0', keys: lock.keys, ...overrides })
const entry = (lock: Lockfile, name: string) => ({ name, ...lock.plugins[name]! })
async function refusal(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(RegistryError)
  return error as RegistryError
}

describe('materialize', () => {
  it('fetches, verifies and extracts once, then loads from the cache without asking the registry', async () => {
    const lock = await lockFor('@t/geo', '1.2.0')
    const first = await materialize(entry(lock, '@t/geo'), options(lock))
    expect(first.from).toBe('registry')
    expect(first.packageJson).toMatchObject({ name: '@t/geo', version: '1.2.0' })
    expect(readFileSync(join(first.dir, 'components/geocode.ts'), 'utf8')).toBe('export default () => 1\n')
    expect(existsSync(join(cacheDir(dataDir), tarballFileName(lock.plugins['@t/geo']!.integrity)))).toBe(true)
    const before = registry.requests.length
    const second = await materialize(entry(lock, '@t/geo'), options(lock))
    expect([second.from, second.dir]).toEqual(['cache', first.dir])
    expect(registry.requests.length).toBe(before)
  })

  it("looks in the app's islet-vendor/ first: no registry and no cache needed", async () => {
    const lock = await lockFor('@t/geo', '1.2.0')
    const fileName = tarballFileName(lock.plugins['@t/geo']!.integrity)
    await materialize(entry(lock, '@t/geo'), options(lock))
    mkdirSync(join(appDir, VENDOR_DIR))
    cpSync(join(cacheDir(dataDir), fileName), join(appDir, VENDOR_DIR, fileName))
    const otherData = join(root, 'fresh-data')
    const loaded = await materialize(entry(lock, '@t/geo'), options(lock, { dataDir: otherData, sources: { default: createHttpSource({ url: 'http://127.0.0.1:9/' }) } }))
    expect(loaded.from).toBe('vendor')
  })

  it('refuses a cached tarball with one byte changed, saying to delete it to re-fetch', async () => {
    const lock = await lockFor('@t/geo', '1.2.0')
    await materialize(entry(lock, '@t/geo'), options(lock))
    const cached = join(cacheDir(dataDir), tarballFileName(lock.plugins['@t/geo']!.integrity))
    const bytes = readFileSync(cached)
    bytes[bytes.length - 10]! ^= 1
    writeFileSync(cached, bytes)
    const error = await refusal(materialize(entry(lock, '@t/geo'), options(lock)))
    expect(error.code).toBe('ERR_REGISTRY_INTEGRITY')
    expect(error.message).toContain(`islet.lock pins ${lock.plugins['@t/geo']!.integrity}: refused; delete ${cached}`)
  })

  it('refuses a tarball from the registry with one file added, and caches nothing', async () => {
    const { bytes } = registry.publish({ name: '@t/grown', version: '1.0.0' })
    const lockGrown = await lockFor('@t/grown')
    // The same package with one file appended to the archive, served under the signed version.
    const pkg = JSON.stringify({ name: '@t/grown', version: '1.0.0', type: 'module', islet: { engine: '^0.1.0' } }, null, 2)
    const grown = tarGz({ 'package.json': pkg, 'postinstall.js': 'evil()' })
    expect(grown.equals(bytes)).toBe(false)
    registry.publish({ name: '@t/grown', version: '1.0.0', serveBytes: grown })
    const error = await refusal(materialize(entry(lockGrown, '@t/grown'), options(lockGrown)))
    expect(error.code).toBe('ERR_REGISTRY_INTEGRITY')
    expect(error.details).toMatchObject({ expected: lockGrown.plugins['@t/grown']!.integrity, actual: integrityOf(grown), registry: registry.url })
    expect(existsSync(cacheDir(dataDir))).toBe(false)
  })

  it('refuses an extracted folder with a file added or a byte changed, naming the files', async () => {
    const lock = await lockFor('@t/geo', '1.2.0')
    const { dir } = await materialize(entry(lock, '@t/geo'), options(lock))
    writeFileSync(join(dir, 'components/extra.ts'), 'steal()')
    appendFileSync(join(dir, 'README.md'), '!')
    const error = await refusal(materialize(entry(lock, '@t/geo'), options(lock)))
    expect(error.code).toBe('ERR_REGISTRY_TAMPERED')
    expect(error.details).toMatchObject({ changed: ['README.md'], added: ['components/extra.ts'], missing: [] })
    expect(error.message).toContain('changed: README.md, added: components/extra.ts')
  })

  it('refuses an unknown key id, a key that is not what its id says, a missing signature and a bad one', async () => {
    const lock = await lockFor('@t/geo', '1.2.0')
    const stranger = createSigningKey()
    const cases: [string, Lockfile, string][] = [
      ['unknown-key', { ...lock, keys: {} }, `signed with key ${registry.key.keyid}, which islet.lock does not pin`],
      ['bad-key', { ...lock, keys: { [registry.key.keyid]: { key: publicKeyOf(stranger).key, registry: registry.url } } }, 'hashes to'],
      ['missing', { ...lock, plugins: { '@t/geo': { ...lock.plugins['@t/geo']!, sig: '' } } }, 'records no signature'],
      ['bad-signature', { ...lock, plugins: { '@t/geo': { ...lock.plugins['@t/geo']!,
        sig: signVersion(registry.key, '@t/geo', '1.2.1', lock.plugins['@t/geo']!.integrity).sig } } }, 'does not verify'],
    ]
    for (const [reason, edited, said] of cases) {
      const error = await refusal(materialize(entry(edited, '@t/geo'), options(edited)))
      expect([error.code, error.details.reason]).toEqual(['ERR_REGISTRY_SIGNATURE', reason])
      expect(error.message).toContain(said)
      expect(error.message).toContain('islet plugin upgrade @t/geo')
    }
    expect(existsSync(dataDir)).toBe(false) // refused before anything was fetched
  })

  it("refuses a package.json that is not the lock's, and an engine outside the plugin's range (naming both)", async () => {
    const liar = await lockFor('@t/liar')
    const error = await refusal(materialize(entry(liar, '@t/liar'), options(liar)))
    expect(error.code).toBe('ERR_REGISTRY_TAMPERED')
    expect(error.message).toContain('locked as @t/liar@1.0.0 holds the package.json of @t/geo@1.2.0')
    const geo = await lockFor('@t/geo', '1.2.0')
    const engine = await refusal(materialize(entry(geo, '@t/geo'), options(geo, { engineVersion: '0.3.0' })))
    expect(engine.code).toBe('ERR_REGISTRY_ENGINE_MISMATCH')
    expect(engine.message).toContain('needs engine ^0.1.0, but this engine is 0.3.0')
  })

  it('refuses a signed tarball holding a link, extracting nothing', async () => {
    const signedLink = tarGz([{ path: 'package/package.json', body: '{}' }, { path: 'package/evil', type: '2', linkTo: '/etc/passwd' }])
    registry.publish({ name: '@t/link2', version: '1.0.0', serveBytes: signedLink })
    const lock2 = await lockFor('@t/link2')
    // The lock pins the served bytes, signed by the registry's key: only the extraction stands in the way.
    const edited = { ...lock2, plugins: { '@t/link2': { ...lock2.plugins['@t/link2']!, integrity: integrityOf(signedLink),
      sig: signVersion(registry.key, '@t/link2', '1.0.0', integrityOf(signedLink)).sig } } }
    const unsafe = await refusal(materialize(entry(edited, '@t/link2'), options(edited)))
    expect(unsafe.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(unsafe.message).toContain("@t/link2@1.0.0: tarball entry 'package/evil' refused: it is a symbolic link")
    expect(existsSync(join(dataDir, 'plugins', 'packages'))).toBe(false)
  })
})
