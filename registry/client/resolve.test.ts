// Resolution against a real registry on loopback: engine, yank, prerelease, transitive ranges, conflicts with their
// chains, and a scope bound to one registry never fetched from another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { createHttpSource } from './http-source.ts'
import { resolvePlugins, type PluginRequest } from './resolve.ts'
import type { RegistryMap } from './source.ts'
import { startTestRegistry, type TestRegistry } from './test-support/test-registry.ts'

let registry: TestRegistry
let other: TestRegistry
let sources: RegistryMap

beforeAll(async () => {
  registry = await startTestRegistry()
  other = await startTestRegistry()
  sources = { default: createHttpSource({ url: registry.url }) }
  const publish = registry.publish.bind(registry)
  // engine: 1.3.0 needs a newer engine than 0.1.5
  publish({ name: '@t/engine', version: '1.2.0' })
  publish({ name: '@t/engine', version: '1.3.0', islet: { engine: '^0.2.0' } })
  // yank: 2.1.0 yanked
  publish({ name: '@t/yank', version: '2.0.0' })
  publish({ name: '@t/yank', version: '2.1.0', yanked: 'leaks the token' })
  // prerelease: 3.1.0-beta.1
  publish({ name: '@t/pre', version: '3.0.0' })
  publish({ name: '@t/pre', version: '3.1.0-beta.1' })
  // transitive and conflicts: @t/y@1 needs @t/x ^1, @t/y@2 needs @t/x ^2
  publish({ name: '@t/x', version: '1.0.0' })
  publish({ name: '@t/x', version: '1.4.0' })
  publish({ name: '@t/x', version: '2.0.0' })
  publish({ name: '@t/y', version: '1.0.0', islet: { plugins: { '@t/x': '^1.0.0' } } })
  publish({ name: '@t/y', version: '2.0.0', islet: { plugins: { '@t/x': '^2.0.0' } } })
  publish({ name: '@t/z', version: '1.0.0', islet: { plugins: { '@t/y': '^2.0.0' } } })
  publish({ name: '@t/old', version: '1.0.0', deprecated: 'use @t/new' })
  publish({ name: '@t/yanked-only', version: '1.0.0', yanked: '' })
  other.publish({ name: '@private/secret', version: '1.0.0' })
  registry.publish({ name: '@private/secret', version: '9.9.9' }) // a public name shadowing the private one
})
afterAll(async () => {
  await registry.close()
  await other.close()
})

const app = (name: string, range: string): PluginRequest => ({ name, range, from: 'app' })
const resolve = (requests: PluginRequest[], options: { includePrerelease?: boolean; engineVersion?: string } = {}) =>
  resolvePlugins(requests, { sources, engineVersion: options.engineVersion ?? '0.1.5', ...options })
const versions = async (requests: PluginRequest[], options = {}) =>
  Object.fromEntries((await resolve(requests, options)).plugins.map((p) => [p.name, p.version]))
async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(RegistryError)
  return error as RegistryError
}

describe('resolvePlugins', () => {
  it('drops versions whose islet.engine excludes the engine, and says so when nothing is left', async () => {
    expect(await versions([app('@t/engine', '^1.0.0')])).toEqual({ '@t/engine': '1.2.0' })
    const error = await failure(resolve([app('@t/engine', '^1.3.0')]))
    expect(error.code).toBe('ERR_REGISTRY_NO_MATCHING_VERSION')
    expect(error.message).toContain('1.3.0 (needs engine ^0.2.0, this engine is 0.1.5)')
  })

  it('skips a yanked version for a range, but a pin to it still resolves', async () => {
    expect(await versions([app('@t/yank', '^2.0.0')])).toEqual({ '@t/yank': '2.0.0' })
    expect(await versions([app('@t/yank', '2.1.0')])).toEqual({ '@t/yank': '2.1.0' })
    const error = await failure(resolve([app('@t/yanked-only', '^1.0.0')]))
    expect(error.code).toBe('ERR_REGISTRY_NO_MATCHING_VERSION')
    expect(error.message).toContain('1.0.0 (yanked)')
  })

  it('skips prereleases unless asked or pinned', async () => {
    expect(await versions([app('@t/pre', '>=3.0.0-0')])).toEqual({ '@t/pre': '3.0.0' })
    expect(await versions([app('@t/pre', '^3.0.0')], { includePrerelease: true })).toEqual({ '@t/pre': '3.1.0-beta.1' })
    expect(await versions([app('@t/pre', '3.1.0-beta.1')])).toEqual({ '@t/pre': '3.1.0-beta.1' })
    const error = await failure(resolve([app('@t/pre', '^3.1.0-beta.0')]))
    expect(error.message).toContain('3.1.0-beta.1 (prerelease)')
  })

  it("follows islet.plugins transitively, highest version satisfying every range", async () => {
    expect(await versions([app('@t/z', '^1.0.0')])).toEqual({ '@t/z': '1.0.0', '@t/y': '2.0.0', '@t/x': '2.0.0' })
    // The app's own range on @t/x and @t/y@1's meet at the highest 1.x.
    expect(await versions([app('@t/y', '^1.0.0'), app('@t/x', '>=1.0.0')])).toEqual({ '@t/y': '1.0.0', '@t/x': '1.4.0' })
    const resolved = await resolve([app('@t/z', '^1.0.0')])
    expect(resolved.plugins.find((p) => p.name === '@t/x')!.requiredBy).toEqual(['app → @t/z@1.0.0 → @t/y@2.0.0 → @t/x ^2.0.0'])
  })

  it('reports a conflict with the chain of who required what and the versions available', async () => {
    const error = await failure(resolve([app('@t/x', '^1.0.0'), app('@t/y', '^2.0.0')]))
    expect(error.code).toBe('ERR_REGISTRY_RESOLVE_CONFLICT')
    expect(error.details).toEqual({
      name: '@t/x',
      chains: ['app → @t/x ^1.0.0', 'app → @t/y@2.0.0 → @t/x ^2.0.0'],
      available: ['2.0.0', '1.4.0', '1.0.0'],
    })
  })

  it('chooses a deprecated version and reports it as a warning', async () => {
    const resolved = await resolve([app('@t/old', '^1.0.0')])
    expect(resolved.plugins.map((p) => p.version)).toEqual(['1.0.0'])
    expect(resolved.warnings).toEqual(['@t/old@1.0.0 is deprecated: use @t/new (required by app → @t/old ^1.0.0)'])
  })

  it('fetches a scope bound to a registry only from it, never falling back to default', async () => {
    const bound: RegistryMap = { default: createHttpSource({ url: registry.url }), '@private': createHttpSource({ url: other.url }) }
    const before = registry.requests.length
    const resolved = await resolvePlugins([app('@private/secret', '^1.0.0')], { sources: bound, engineVersion: '0.1.5' })
    expect(resolved.plugins.map((p) => [p.version, p.registry])).toEqual([['1.0.0', other.url]])
    // Missing on the bound registry: an error, not the public 9.9.9 on default.
    const missing = await failure(resolvePlugins([app('@private/other', '*')], { sources: bound, engineVersion: '0.1.5' }))
    expect(missing.code).toBe('ERR_REGISTRY_NOT_FOUND')
    expect(missing.message).toContain(other.url)
    expect(registry.requests.slice(before)).toEqual([])
  })
})
