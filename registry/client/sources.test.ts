// From registries: to sources: the default default is the embedded registry (opened through the injected store),
// URLs become HTTP sources, and a scope bound to a registry is only ever fetched from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { publicKeyOf } from '../signature.ts'
import { resolvePlugins } from './resolve.ts'
import { createSources, type EmbeddedStore } from './sources.ts'
import { sourceFor } from './source.ts'
import { startTestRegistry, type TestRegistry } from './test-support/test-registry.ts'

let registry: TestRegistry
let embedded: EmbeddedStore
const opened: string[] = []
beforeAll(async () => {
  registry = await startTestRegistry()
  const { manifest, bytes } = registry.publish({ name: '@local/tool', version: '1.0.0' })
  registry.publish({ name: '@acme/geo', version: '2.0.0' })
  // The embedded store's answers, as the server's store gives them (its own module arrives at merge).
  embedded = {
    packument: (name) => (name === '@local/tool' ? { name, versions: { '1.0.0': manifest } } : undefined),
    tarball: () => bytes,
    keys: () => [publicKeyOf(registry.key)],
  }
})
afterAll(() => registry.close())

describe('createSources', () => {
  it('uses the embedded registry in <dataDir>/registry by default, opened only when first asked', async () => {
    const sources = createSources(undefined, { dataDir: '/data', openEmbedded: (dir) => (opened.push(dir), embedded) })
    expect([sources.default.kind, sources.default.id, opened]).toEqual(['embedded', 'embedded', []])
    const resolved = await resolvePlugins([{ name: '@local/tool', range: '^1.0.0', from: 'app' }], { sources, engineVersion: '0.1.0' })
    expect(resolved.plugins.map((p) => [p.name, p.registry])).toEqual([['@local/tool', 'embedded']])
    expect(opened).toEqual(['/data/registry'])
  })

  it('binds a scope to its URL: the scope resolves there, and a miss there is a miss', async () => {
    const sources = createSources({ '@acme': { url: registry.url.slice(0, -1), token: 't' } }, { dataDir: '/data', openEmbedded: () => embedded })
    expect(sourceFor('@acme/geo', sources).id).toBe(registry.url)
    expect(sourceFor('@local/tool', sources).id).toBe('embedded')
    expect(sourceFor('plain', sources).id).toBe('embedded')
    const error = await resolvePlugins([{ name: '@acme/tool', range: '*', from: 'app' }], { sources, engineVersion: '0.1.0' })
      .then(() => undefined, (e: unknown) => e as RegistryError)
    expect(error?.code).toBe('ERR_REGISTRY_NOT_FOUND')
  })

  it('says what is wrong with a registries: entry', () => {
    const noStore = createSources(undefined, { dataDir: '/data' })
    expect(() => noStore.default.keys()).toThrow(/registries: default is the embedded registry, but this program cannot open it/)
    expect(() => createSources({ default: 'ftp://x' }, { dataDir: '/data' }).default.keys()).toThrow(/expected 'embedded' or an http\(s\) URL/)
    expect(() => createSources({ acme: 'http://127.0.0.1:19160/' }, { dataDir: '/data' })).toThrow(/neither 'default' nor a scope like '@acme'/)
  })
})
