// Packuments on the wire: gzip when the client accepts it (npm always sends `accept-encoding: gzip`), the plain JSON
// when it does not, one weak ETag for both so a repeat is a 304 whichever it holds, and tarballs never compressed
// twice. Real HTTP on loopback (undici's `request`, which neither adds nor decodes an encoding), a real SQLite store.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { request } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { integrityOf, shasumOf } from '../integrity.ts'
import { packageTgz } from '../tarball/test-tar.ts'
import type { Authenticator, Principal } from './principal.ts'
import { startRegistry, type RunningRegistry } from './server.ts'

const ALICE: Principal = { user: 'alice', tokenId: 't1', scopes: ['@acme/*'] }
const auth: Authenticator = { principal: async () => ALICE, requireWrite: async () => ALICE }
const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

let dir: string
let registry: RunningRegistry

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'islet-registry-encoding-'))
  registry = await startRegistry({ dir, port: 0, auth })
})

afterEach(async () => {
  await registry.close()
  rmSync(dir, { recursive: true, force: true })
})

const name = '@acme/geo'
// A description long enough that the packument is worth compressing, as a real one (readme and all) is.
const packageJson = (version: string) => ({ name, version, description: 'Geocoding '.repeat(40), type: 'module', islet: { engine: '^0.1.0' } })
const pluginTgz = (version: string) => packageTgz({ 'package.json': JSON.stringify(packageJson(version)), 'index.js': 'export default {}\n' })

/** What `npm publish` sends, trimmed to what the registry reads. */
async function publish(tarball: Buffer, version: string): Promise<void> {
  const manifest = { ...packageJson(version), _id: `${name}@${version}`,
    dist: { integrity: integrityOf(tarball), shasum: shasumOf(tarball), tarball: `http://x/${name}/-/geo-${version}.tgz` } }
  const answer = await request(new URL('/@acme%2fgeo', registry.url), {
    method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
    body: JSON.stringify({ _id: name, name, 'dist-tags': { latest: version }, versions: { [version]: manifest }, access: null,
      _attachments: { [`${name}-${version}.tgz`]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } } }),
  })
  const text = await answer.body.text()
  if (answer.statusCode !== 201) throw new Error(`publish ${version}: ${answer.statusCode} ${text}`)
}

async function get(path: string, headers: Record<string, string>) {
  const answer = await request(new URL(path, registry.url), { headers })
  const bytes = Buffer.from(await answer.body.arrayBuffer())
  const header = (h: string) => { const v = answer.headers[h]; return Array.isArray(v) ? v.join(', ') : v }
  return { status: answer.statusCode, bytes, header }
}

describe('packument encoding', () => {
  it('gzips the full and the abbreviated packument when asked, sends plain JSON when not, and never gzips a tarball twice', async () => {
    const tarballs = ['1.0.0', '1.1.0', '1.2.0'].map((v) => [v, pluginTgz(v)] as const)
    for (const [v, tarball] of tarballs) await publish(tarball, v)
    for (const accept of ['application/json', ABBREVIATED]) {
      const plain = await get('/@acme%2fgeo', { accept })
      expect(plain.status).toBe(200)
      expect(plain.header('content-encoding')).toBeUndefined()
      const doc = JSON.parse(plain.bytes.toString('utf8'))
      expect(Object.keys(doc.versions)).toEqual(['1.0.0', '1.1.0', '1.2.0'])

      const zipped = await get('/@acme%2fgeo', { accept, 'accept-encoding': 'gzip, deflate' })
      expect(zipped.status).toBe(200)
      expect(zipped.header('content-encoding')).toBe('gzip')
      expect(zipped.header('vary')?.toLowerCase()).toContain('accept-encoding')
      expect(gunzipSync(zipped.bytes).equals(plain.bytes)).toBe(true)
      expect(zipped.bytes.length).toBeLessThan(plain.bytes.length)
      expect(Number(zipped.header('content-length'))).toBe(zipped.bytes.length)

      // A client that refuses gzip (q=0) gets the plain bytes.
      const refused = await get('/@acme%2fgeo', { accept, 'accept-encoding': 'gzip;q=0, identity' })
      expect(refused.header('content-encoding')).toBeUndefined()
      expect(refused.bytes.equals(plain.bytes)).toBe(true)
    }
    const tarball = await get('/@acme/geo/-/geo-1.2.0.tgz', { 'accept-encoding': 'gzip, deflate' })
    expect(tarball.status).toBe(200)
    expect(tarball.header('content-encoding')).toBeUndefined()
    expect(tarball.bytes.equals(tarballs[2]![1])).toBe(true)
  })

  it('answers 304 to a known ETag whichever encoding the client held, and 200 once the package changes', async () => {
    await publish(pluginTgz('1.0.0'), '1.0.0')
    const zipped = await get('/@acme%2fgeo', { accept: ABBREVIATED, 'accept-encoding': 'gzip' })
    const plain = await get('/@acme%2fgeo', { accept: ABBREVIATED })
    const etag = zipped.header('etag')!
    expect(plain.header('etag')).toBe(etag)
    for (const encoding of ['gzip', 'identity']) {
      const again = await get('/@acme%2fgeo', { accept: ABBREVIATED, 'accept-encoding': encoding, 'if-none-match': etag })
      expect(again.status).toBe(304)
      expect(again.bytes.length).toBe(0)
    }
    await publish(pluginTgz('1.1.0'), '1.1.0')
    const changed = await get('/@acme%2fgeo', { accept: ABBREVIATED, 'accept-encoding': 'gzip', 'if-none-match': etag })
    expect(changed.status).toBe(200)
    expect(Object.keys(JSON.parse(gunzipSync(changed.bytes).toString('utf8')).versions)).toEqual(['1.0.0', '1.1.0'])
  })
})
