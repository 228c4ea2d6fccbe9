// Test support: a real npm-protocol registry on loopback serving packuments and tarballs the test builds and signs
// (with registry/signature.ts), recording every request so a test can assert what was (never) fetched.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { integrityOf, shasumOf } from '../../integrity.ts'
import type { IsletField } from '../../manifest.ts'
import { createSigningKey, keysDocument, signVersion, type SigningKey } from '../../signature.ts'
import type { Packument, PackumentVersion } from '../source.ts'
import { tarGz } from './tar.ts'

export interface PublishOptions {
  name: string
  version: string
  islet?: Partial<IsletField>
  /** Extra files in the tarball besides package.json (path → text). */
  files?: Record<string, string>
  deprecated?: string
  yanked?: string
  /** false: no signature; a key: signed with it instead of the registry's key. */
  sign?: boolean | SigningKey
  /** Sign this integrity instead of the tarball's (a signature that does not verify). */
  signIntegrity?: string
  /** Raw tarball bytes to serve instead of the built ones (the packument keeps the built ones' integrity). */
  serveBytes?: Buffer
}

export interface TestRegistry {
  url: string
  key: SigningKey
  /** Every request's method and path, in order. */
  requests: string[]
  /** Every request's Accept and Authorization headers, in order. */
  headers: { accept?: string; authorization?: string }[]
  publish(options: PublishOptions): { bytes: Buffer; manifest: PackumentVersion }
  /** Answer `path` with this status, content type and body instead (404s, HTML, huge bodies). */
  override(path: string, answer: { status: number; type: string; body: string | Buffer }): void
  close(): Promise<void>
}

const FIRST_PORT = 19160
const LAST_PORT = 19179

/** `ports`: the range to listen in (default: the client helper's 19160-19179; tests elsewhere pass their own). */
export async function startTestRegistry(options: { ports?: readonly [number, number] } = {}): Promise<TestRegistry> {
  const key = createSigningKey()
  const packuments = new Map<string, Packument>()
  const tarballs = new Map<string, Buffer>()
  const overrides = new Map<string, { status: number; type: string; body: string | Buffer }>()
  const requests: string[] = []
  const headers: TestRegistry['headers'] = []
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push(`${req.method} ${path}`)
    headers.push({ accept: req.headers.accept, authorization: req.headers.authorization })
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type })
      res.end(body)
    }
    const override = overrides.get(path)
    if (override) return send(override.status, override.type, override.body)
    if (path === '/-/npm/v1/keys') return send(200, 'application/json', JSON.stringify(keysDocument([key])))
    const tarball = tarballs.get(path)
    if (tarball) return send(200, 'application/octet-stream', tarball)
    const packument = packuments.get(decodeURIComponent(path.slice(1)))
    if (packument) return send(200, 'application/json', JSON.stringify(packument))
    send(404, 'application/json', JSON.stringify({ error: 'not found' }))
  })
  const port = await listen(server, options.ports ?? [FIRST_PORT, LAST_PORT])
  const url = `http://127.0.0.1:${port}/`
  return {
    url, key, requests, headers,
    publish(options) {
      const packageJson = {
        name: options.name, version: options.version, type: 'module',
        islet: { engine: '^0.1.0', ...options.islet },
      }
      const bytes = tarGz({ 'package.json': JSON.stringify(packageJson, null, 2), ...options.files })
      const integrity = integrityOf(bytes)
      const base = options.name.startsWith('@') ? options.name.slice(options.name.indexOf('/') + 1) : options.name
      const tarballPath = `/${options.name}/-/${base}-${options.version}.tgz`
      const signer = options.sign === false ? undefined : typeof options.sign === 'object' ? options.sign : key
      const manifest: PackumentVersion = {
        ...packageJson,
        dist: { integrity, shasum: shasumOf(bytes), tarball: `${url}${tarballPath.slice(1)}`,
          signatures: signer ? [signVersion(signer, options.name, options.version, options.signIntegrity ?? integrity)] : [] },
        ...(options.deprecated ? { deprecated: options.deprecated } : {}),
        ...(options.yanked !== undefined ? { _yanked: options.yanked } : {}),
      }
      const packument = packuments.get(options.name) ?? { name: options.name, 'dist-tags': {}, versions: {} }
      packument.versions[options.version] = manifest
      packuments.set(options.name, packument)
      tarballs.set(tarballPath, options.serveBytes ?? bytes)
      return { bytes, manifest }
    },
    override(path, answer) {
      overrides.set(path, answer)
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** Listens on the first free port of a range (files run in parallel, so a port may be taken). */
export async function listen(server: Server, [first, last]: readonly [number, number]): Promise<number> {
  for (let port = first; port <= last; port++) {
    const ok = await new Promise<boolean>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error))
      server.once('error', failed)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', failed)
        resolve(true)
      })
    })
    if (ok) return (server.address() as AddressInfo).port
  }
  throw new Error(`no free port in ${first}-${last}`)
}
