// The embedded registry (the store opened in-process) and the server share one folder: what one writes the other serves.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fetch } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { integrityOf } from '../integrity.ts'
import { verifyVersion } from '../signature.ts'
import { packageTgz } from '../tarball/test-tar.ts'
import { openEmbeddedRegistry, type EmbeddedRegistry } from './embedded.ts'
import { startRegistry } from './server.ts'

const tarball = packageTgz({ 'package.json': JSON.stringify({ name: '@acme/geo', version: '1.0.0', islet: { engine: '^0.1.0' } }) })

let dir: string
let embedded: EmbeddedRegistry

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'islet-embedded-'))
  embedded = openEmbeddedRegistry(dir)
})

afterEach(() => {
  embedded.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('openEmbeddedRegistry', () => {
  it('publishes in-process with the same checks and signatures; a server on the same folder serves it', async () => {
    const row = await embedded.publish(tarball, { actor: 'local', tags: ['latest'] })
    expect(row).toMatchObject({ name: '@acme/geo', version: '1.0.0', integrity: integrityOf(tarball) })
    const packument = await embedded.packument('@acme/geo')
    const dist = packument?.versions['1.0.0']?.dist as { integrity: string; signatures: readonly { sig: string }[] }
    const [key] = await embedded.keys()
    expect(verifyVersion(key!.key, '@acme/geo', '1.0.0', dist.integrity, dist.signatures[0]!.sig)).toBe(true)
    expect(integrityOf(await embedded.tarball('@acme/geo', '1.0.0', dist))).toBe(integrityOf(tarball))
    await expect(embedded.publish(tarball, { actor: 'local' })).rejects.toMatchObject({ status: 409 })

    embedded.yank('@acme/geo', '1.0.0', 'broken', 'local')
    const server = await startRegistry({ dir })
    try {
      const served = await (await fetch(`${server.url}@acme%2fgeo`)).json() as { versions: Record<string, { _yanked?: string }> }
      expect(served.versions['1.0.0']?._yanked).toBe('broken')
    } finally {
      await server.close()
    }
  })

  it('refuses a tarball whose integrity is not the one asked for', async () => {
    await embedded.publish(tarball, { actor: 'local' })
    await expect(embedded.tarball('@acme/geo', '1.0.0', { integrity: integrityOf(Buffer.from('other')) })).rejects.toMatchObject({ code: 'ERR_REGISTRY_INTEGRITY' })
  })
})
