// islet.lock on real files: written sorted and atomically, read back equal, malformed or misshapen locks refused at
// file:line:col, drift against the app's plugins: found, and a lock built from a resolution pins signed versions only.
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { createSigningKey, publicKeyOf } from '../signature.ts'
import { createHttpSource } from './http-source.ts'
import { lockDrift, lockFromResolution, parseLock, readLock, refreshStanding, writeLock, type Lockfile } from './lock.ts'
import { resolvePlugins } from './resolve.ts'
import type { RegistryMap } from './source.ts'
import { startTestRegistry, type TestRegistry } from './test-support/test-registry.ts'

let dir: string
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'islet-lock-')) })
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const key = publicKeyOf(createSigningKey())
const INTEGRITY = `sha512-${Buffer.alloc(64, 7).toString('base64')}`
const lock = (): Lockfile => ({
  lockfileVersion: 1,
  plugins: {
    '@z/last': { version: '1.0.0', integrity: INTEGRITY, keyid: key.keyid, sig: 'c2ln', registry: 'embedded', engine: '^0.1.0' },
    '@a/first': { version: '2.0.0', integrity: INTEGRITY, keyid: key.keyid, sig: 'c2ln', registry: 'embedded', engine: '^0.1.0',
      plugins: { '@z/last': '^1.0.0' } },
  },
  keys: { [key.keyid]: { registry: 'embedded', key: key.key } },
})

function failure(run: () => unknown): RegistryError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError)
    return error as RegistryError
  }
  throw new Error('expected an error')
}

describe('islet.lock', () => {
  it('round-trips, with every key sorted and no temp file left', () => {
    const file = join(dir, 'islet.lock')
    writeLock(file, lock())
    expect(readLock(file)).toEqual(lock())
    const text = readFileSync(file, 'utf8')
    expect(text.indexOf('"keys"')).toBeLessThan(text.indexOf('"lockfileVersion"'))
    expect(text.indexOf('"@a/first"')).toBeLessThan(text.indexOf('"@z/last"'))
    expect(text.indexOf('"engine"')).toBeLessThan(text.indexOf('"version"'))
    expect(text.endsWith('}\n')).toBe(true)
    expect(readdirSync(dir)).toEqual(['islet.lock'])
    expect(readLock(join(dir, 'none.lock'))).toBeUndefined()
  })

  it('replaces the file instead of rewriting it in place: a reader of the old lock still reads it whole', () => {
    const file = join(dir, 'islet.lock')
    writeLock(file, lock())
    const old = readFileSync(file)
    const fd = openSync(file, 'r')
    try {
      writeLock(file, { ...lock(), plugins: {} })
      const seen = Buffer.alloc(old.length)
      readSync(fd, seen, 0, old.length, 0)
      expect(seen.equals(old)).toBe(true)
    } finally {
      closeSync(fd)
    }
    expect(readLock(file)!.plugins).toEqual({})
  })

  it('refuses malformed JSON at file:line:col', () => {
    const file = join(dir, 'islet.lock')
    writeFileSync(file, '{\n  "lockfileVersion": 1,\n  "keys": {,\n}')
    const error = failure(() => readLock(file))
    expect(error.code).toBe('ERR_REGISTRY_LOCK_INVALID')
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:12: islet.lock is not valid JSON`))
  })

  it('refuses a wrong shape at the offending field, saying what is expected', () => {
    const text = JSON.stringify(lock(), null, 2).replace('"version": "2.0.0"', '"version": "^2.0.0"')
    const error = failure(() => parseLock(text, 'app/islet.lock'))
    const lines = text.split('\n')
    const line = lines.findIndex((l) => l.includes('"^2.0.0"'))
    const col = lines[line]!.indexOf('"^2.0.0"') + 1
    expect(error.message).toContain(`app/islet.lock:${line + 1}:${col}: islet.lock plugins["@a/first"].version "^2.0.0" is not an exact semver version`)
    const unpinned = failure(() => parseLock(JSON.stringify({ ...lock(), keys: {} }), 'islet.lock'))
    expect(unpinned.message).toContain(`keyid ${key.keyid} is not pinned under "keys"`)
    expect(failure(() => parseLock('{"lockfileVersion": 2}', 'islet.lock')).message).toContain('islet.lock:1:21: islet.lock has lockfileVersion 2')
  })

  it('finds drift: missing, extra, a range no longer satisfied, a registry changed', () => {
    const registries = { default: 'embedded' } as const
    expect(lockDrift(lock(), [{ name: '@a/first', range: '^2.0.0' }], registries)).toEqual([])
    const drift = lockDrift(lock(), [{ name: '@a/first', range: '^3.0.0' }, { name: '@n/new', range: '^1.0.0' }],
      { default: 'embedded', '@a': 'http://127.0.0.1:19161/' })
    expect(drift.map((d) => [d.name, d.kind])).toEqual([['@a/first', 'range'], ['@a/first', 'registry'], ['@n/new', 'missing']])
    const extra = lockDrift(lock(), [{ name: '@z/last', range: '^1.0.0' }], registries)
    expect(extra).toEqual([{ name: '@a/first', kind: 'extra', message: '@a/first@2.0.0 is in islet.lock but neither plugins: nor a locked plugin needs it' }])
  })
})

describe('lockFromResolution', () => {
  let registry: TestRegistry
  let sources: RegistryMap
  beforeAll(async () => {
    registry = await startTestRegistry()
    sources = { default: createHttpSource({ url: registry.url }) }
    registry.publish({ name: '@t/base', version: '1.0.0' })
    registry.publish({ name: '@t/geo', version: '1.2.0', islet: { plugins: { '@t/base': '^1.0.0' } } })
    registry.publish({ name: '@t/unsigned', version: '1.0.0', sign: false })
    registry.publish({ name: '@t/stranger', version: '1.0.0', sign: createSigningKey() })
    registry.publish({ name: '@t/forged', version: '1.0.0', signIntegrity: `sha512-${Buffer.alloc(64).toString('base64')}` })
    registry.publish({ name: '@t/old', version: '1.0.0', deprecated: 'use @t/new' })
    registry.publish({ name: '@t/pulled', version: '1.0.0', yanked: 'leaks keys' })
  })
  afterAll(() => registry.close())

  it('pins each version with its signature and the key that made it', async () => {
    const resolution = await resolvePlugins([{ name: '@t/geo', range: '^1.0.0', from: 'app' }], { sources, engineVersion: '0.1.0' })
    const built = await lockFromResolution(resolution, sources)
    expect(Object.keys(built.plugins)).toEqual(['@t/base', '@t/geo'])
    expect(built.keys).toEqual({ [registry.key.keyid]: { key: publicKeyOf(registry.key).key, registry: registry.url } })
    expect(built.plugins['@t/geo']).toMatchObject({ version: '1.2.0', keyid: registry.key.keyid, registry: registry.url, engine: '^0.1.0',
      plugins: { '@t/base': '^1.0.0' } })
    expect(lockDrift(built, [{ name: '@t/geo', range: '^1.0.0' }], { default: registry.url })).toEqual([])
  })

  it('refuses to lock an unsigned version, one signed by a key its registry does not publish, or a bad signature', async () => {
    for (const [name, reason] of [['@t/unsigned', 'missing'], ['@t/stranger', 'unknown-key'], ['@t/forged', 'bad-signature']] as const) {
      const resolution = await resolvePlugins([{ name, range: '^1.0.0', from: 'app' }], { sources, engineVersion: '0.1.0' })
      const error = await lockFromResolution(resolution, sources).then(() => undefined, (e: unknown) => e as RegistryError)
      expect([error?.code, error?.details.reason]).toEqual(['ERR_REGISTRY_SIGNATURE', reason])
    }
  })

  it('records a deprecated or yanked version as such, for the warning at load (no packument is read there)', async () => {
    const resolution = await resolvePlugins([{ name: '@t/old', range: '^1.0.0', from: 'app' }, { name: '@t/pulled', range: '1.0.0', from: 'app' }],
      { sources, engineVersion: '0.1.0' })
    const built = await lockFromResolution(resolution, sources)
    expect(built.plugins['@t/old']).toMatchObject({ version: '1.0.0', deprecated: 'use @t/new' })
    expect(built.plugins['@t/pulled']).toMatchObject({ version: '1.0.0', yanked: 'leaks keys' })
    expect(built.plugins['@t/old']!.yanked).toBeUndefined()
    expect(parseLock(JSON.stringify(built), 'islet.lock')).toEqual(built)
    const bad = JSON.stringify({ ...built, plugins: { ...built.plugins, '@t/old': { ...built.plugins['@t/old'], deprecated: true } } }, null, 2)
    expect(failure(() => parseLock(bad, 'islet.lock')).message).toContain('plugins["@t/old"].deprecated must be a string when present')
  })

  it('refreshStanding records a deprecation or yank that came after locking, and changes nothing else', async () => {
    const resolution = await resolvePlugins([{ name: '@t/old', range: '^1.0.0', from: 'app' }, { name: '@t/geo', range: '^1.0.0', from: 'app' }],
      { sources, engineVersion: '0.1.0' })
    const current = await lockFromResolution(resolution, sources)
    const { deprecated: _, ...undeprecated } = current.plugins['@t/old']!
    // Locked before the deprecation, and a plugin no registry has (vendored): kept as the lock says.
    const vendored = { ...current.plugins['@t/base']!, registry: 'embedded', deprecated: 'as the lock says' }
    const stale: Lockfile = { ...current, plugins: { ...current.plugins, '@t/old': undeprecated, '@t/vendored': vendored } }
    const { lock: refreshed, changes } = await refreshStanding(stale, sources)
    expect(changes).toEqual([{ name: '@t/old', version: '1.0.0', before: {}, after: { deprecated: 'use @t/new' } }])
    expect(refreshed.plugins).toEqual({ ...current.plugins, '@t/vendored': vendored })
    expect(refreshed.keys).toEqual(current.keys)
  })
})
