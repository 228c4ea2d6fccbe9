// `npm audit signatures` always refreshes Sigstore's TUF repository (https://tuf-repo-cdn.sigstore.dev) before it
// reads a registry's keys, and fails when it cannot (npm 11: @sigstore/tuf initTUF, no option to skip or move it).
// Tests contact loopback only, so this stands in for that host: an HTTP proxy on loopback (npm honours https_proxy)
// that answers CONNECT tuf-repo-cdn.sigstore.dev:443 with an in-process TLS server (a throw-away self-signed
// certificate, trusted through NODE_EXTRA_CA_CERTS) serving a TUF repository of our own, whose root is written into
// npm's TUF cache beforehand (a cached root.json is never replaced by the built-in seed). Its targets are empty, so npm
// finds no TUF keys for the registry and falls back to the registry's own `/-/npm/v1/keys`, as for any private
// registry. Every other destination is refused and recorded: a test can assert that nothing tried to leave.
import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'

const TUF_HOST = 'tuf-repo-cdn.sigstore.dev'

export interface OfflineTuf {
  /** Environment for the npm child process: proxy variables and the extra CA. */
  env: Record<string, string>
  /** Writes our TUF root into `<npmCache>/_tuf/…` so npm trusts it instead of Sigstore's built-in seed. */
  seedCache(npmCache: string): void
  /** Destinations other than the fake TUF host that npm tried to reach (each refused). */
  refused: string[]
  /** Paths served from the fake TUF host. */
  served: string[]
  close(): Promise<void>
}

/** OLPC canonical JSON (what TUF signs): sorted keys, no whitespace. Our documents hold no control characters. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

function tufRepository(): Map<string, string> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('hex')
  const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw } }
  const keyid = createHash('sha256').update(canonical(key)).digest('hex')
  const expires = '2099-01-01T00:00:00Z'
  const role = { keyids: [keyid], threshold: 1 }
  const signed = (body: Record<string, unknown>): string => JSON.stringify({
    signed: body, signatures: [{ keyid, sig: sign(null, Buffer.from(canonical(body)), privateKey).toString('hex') }],
  })
  const common = { spec_version: '1.0.31', version: 1, expires }
  return new Map([
    ['/root.json', signed({ _type: 'root', ...common, consistent_snapshot: false, keys: { [keyid]: key },
      roles: { root: role, timestamp: role, snapshot: role, targets: role } })],
    ['/timestamp.json', signed({ _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 1 } } })],
    ['/snapshot.json', signed({ _type: 'snapshot', ...common, meta: { 'targets.json': { version: 1 } } })],
    ['/targets.json', signed({ _type: 'targets', ...common, targets: {} })],
  ])
}

/** A self-signed certificate for the TUF host (openssl; short-lived, made per run). */
function certificate(dir: string): { key: string; cert: string; certFile: string } {
  mkdirSync(dir, { recursive: true })
  const keyFile = join(dir, 'tuf-host.key')
  const certFile = join(dir, 'tuf-host.pem')
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${TUF_HOST}`,
      '-addext', `subjectAltName=DNS:${TUF_HOST}`], { stdio: 'pipe' })
  } catch (error) {
    throw new Error(`offline-tuf: making the stand-in TUF host's certificate needs the openssl command (1.1.1 or later): ${(error as Error).message}`)
  }
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile }
}

export async function startOfflineTuf(dir: string): Promise<OfflineTuf> {
  const files = tufRepository()
  const { key, cert, certFile } = certificate(dir)
  const refused: string[] = []
  const served: string[] = []
  const tls = https.createServer({ key, cert }, (req, res) => {
    const path = new URL(req.url ?? '/', `https://${TUF_HOST}`).pathname
    served.push(path)
    const body = files.get(path)
    if (body === undefined) { res.writeHead(404).end(); return } // e.g. /2.root.json: "no newer root"
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  })
  const proxy = http.createServer((req, res) => { // plain-HTTP proxying: never needed, never allowed
    refused.push(`${req.method} ${req.url}`)
    res.writeHead(403).end()
  })
  proxy.on('connect', (req: http.IncomingMessage, socket: Socket) => {
    if (req.url !== `${TUF_HOST}:443`) {
      refused.push(`CONNECT ${req.url}`)
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
      return
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    tls.emit('connection', socket)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  return {
    env: { https_proxy: url, http_proxy: url, HTTPS_PROXY: url, HTTP_PROXY: url,
      no_proxy: '127.0.0.1,localhost,::1', NO_PROXY: '127.0.0.1,localhost,::1', NODE_EXTRA_CA_CERTS: certFile },
    seedCache(npmCache: string) {
      const repo = join(npmCache, '_tuf', encodeURIComponent(TUF_HOST))
      mkdirSync(join(repo, 'targets'), { recursive: true })
      writeFileSync(join(repo, 'root.json'), files.get('/root.json')!)
    },
    refused,
    served,
    async close() {
      proxy.closeAllConnections()
      tls.closeAllConnections()
      await Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => tls.close(r))])
    },
  }
}
