// The HTTP source against a real loopback registry: the full packument, the token, and a clear error naming the URL
// for each way a registry can fail (unreachable, 404, not JSON, too big).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { createHttpSource } from './http-source.ts'
import { startTestRegistry, type TestRegistry } from './test-support/test-registry.ts'

let registry: TestRegistry
beforeAll(async () => {
  registry = await startTestRegistry()
  registry.publish({ name: '@t/geo', version: '1.0.0', islet: { components: { geocode: { file: 'components/geocode.ts' } } } })
})
afterAll(() => registry.close())

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(RegistryError)
  return error as RegistryError
}

describe('createHttpSource', () => {
  it('asks for the full packument (islet and signatures live there) and sends the token to its registry only', async () => {
    const source = createHttpSource({ url: registry.url, token: 'tok-1' })
    const packument = await source.packument('@t/geo')
    expect(packument!.versions['1.0.0']!.islet!.components).toEqual({ geocode: { file: 'components/geocode.ts' } })
    expect(packument!.versions['1.0.0']!.dist.signatures).toHaveLength(1)
    expect(registry.requests.at(-1)).toBe('GET /@t%2fgeo')
    expect(registry.headers.at(-1)).toEqual({ accept: 'application/json', authorization: 'Bearer tok-1' })
    expect(await source.keys()).toEqual([expect.objectContaining({ keyid: registry.key.keyid })])
    // A tarball URL on another host never gets the token.
    const elsewhere = registry.url.replace('127.0.0.1', 'localhost')
    await source.tarball('@t/geo', '1.0.0', { integrity: '', tarball: `${elsewhere}@t/geo/-/geo-1.0.0.tgz` })
    expect(registry.headers.at(-1)!.authorization).toBeUndefined()
  })

  it('answers undefined for a package the registry does not have, and NOT_FOUND for a missing tarball', async () => {
    const source = createHttpSource({ url: registry.url })
    expect(await source.packument('@t/none')).toBeUndefined()
    const error = await failure(source.tarball('@t/none', '1.0.0'))
    expect(error.code).toBe('ERR_REGISTRY_NOT_FOUND')
    expect(error.message).toContain(`${registry.url}@t/none/-/none-1.0.0.tgz`)
  })

  it('names the URL when the registry cannot be reached', async () => {
    const gone = await startTestRegistry()
    await gone.close()
    const error = await failure(createHttpSource({ url: gone.url }).packument('@t/geo'))
    expect(error.code).toBe('ERR_REGISTRY_UNREACHABLE')
    expect(error.message).toContain(`GET ${gone.url}@t%2fgeo failed`)
  })

  it('refuses an answer that is not JSON, and an error status, naming the URL', async () => {
    registry.override('/@t%2fhtml', { status: 200, type: 'text/html', body: '<html>login</html>' })
    registry.override('/@t%2fdenied', { status: 403, type: 'application/json', body: JSON.stringify({ error: 'no read access' }) })
    const source = createHttpSource({ url: registry.url })
    const html = await failure(source.packument('@t/html'))
    expect([html.code, html.message]).toEqual(['ERR_REGISTRY_RESPONSE', expect.stringContaining(`GET ${registry.url}@t%2fhtml`)])
    expect(html.message).toContain('not JSON')
    const denied = await failure(source.packument('@t/denied'))
    expect(denied.message).toContain('with 403: no read access (check the token')
  })

  it('caps packuments and tarballs', async () => {
    registry.override('/@t%2fhuge', { status: 200, type: 'application/json', body: JSON.stringify({ versions: {}, pad: 'x'.repeat(4096) }) })
    const source = createHttpSource({ url: registry.url, maxPackumentBytes: 1024, maxTarballBytes: 64 })
    expect((await failure(source.packument('@t/huge'))).code).toBe('ERR_REGISTRY_TOO_LARGE')
    expect((await failure(source.tarball('@t/geo', '1.0.0'))).code).toBe('ERR_REGISTRY_TOO_LARGE')
  })
})
