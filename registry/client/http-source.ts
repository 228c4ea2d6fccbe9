// A registry over HTTP (Islet's own server, Verdaccio, npmjs): the full packument (`Accept: application/json`, the
// abbreviated form drops `islet`), tarballs and keys, with a bearer token and size caps. Every failure names the URL.
import type { request } from 'undici'
import { messageOf } from '@islet/sdk'
import { RegistryError } from '../errors.ts'
import { baseNameOf } from '../package-name.ts'
import type { NpmPublicKey } from '../signature.ts'
import type { Packument, PackumentDist, RegistrySource } from './source.ts'

export interface HttpSourceOptions {
  /** The registry's URL; a trailing slash is added when missing. */
  url: string
  /** Sent as `Authorization: Bearer …`, only to URLs under `url` (a tarball elsewhere never sees it). */
  token?: string
  /** Largest packument accepted, in bytes; default 16 MiB. */
  maxPackumentBytes?: number
  /** Largest tarball accepted, in bytes; default 64 MiB. */
  maxTarballBytes?: number
  /**
   * Most time one request may take, headers and body together, in ms; default 120 s. undici's own timeouts are per
   * read, so a registry dripping a byte now and then would otherwise hold `islet run` for ever.
   */
  timeoutMs?: number
}

const MiB = 1024 * 1024

export function createHttpSource(options: HttpSourceOptions): RegistrySource {
  const url = options.url.endsWith('/') ? options.url : `${options.url}/`
  const maxPackument = options.maxPackumentBytes ?? 16 * MiB
  const maxTarball = options.maxTarballBytes ?? 64 * MiB
  const timeoutMs = options.timeoutMs ?? 120_000

  async function get(target: string, accept: string, limit: number, what: string): Promise<{ status: number; body: Buffer }> {
    const headers: Record<string, string> = { accept }
    if (options.token && target.startsWith(url)) headers.authorization = `Bearer ${options.token}`
    const signal = AbortSignal.timeout(timeoutMs)
    const failed = (error: unknown) => new RegistryError('ERR_REGISTRY_UNREACHABLE', signal.aborted
      ? `the registry did not answer GET ${target} (${what}) within ${timeoutMs} ms: refused. Is the registry overloaded, or the URL in registries: wrong?`
      : `cannot reach the registry for ${what}: GET ${target} failed (${messageOf(error)}). Is the registry running and the URL in registries: right?`,
    { details: { url: target, ...(signal.aborted ? { timeoutMs } : {}) }, cause: error })
    let response: Awaited<ReturnType<typeof request>>
    try {
      // Loaded on the first request: an app whose plugins are all vendored or cached never pays for undici's
      // ~110 modules at start-up.
      const { request } = await import('undici')
      response = await request(target, { headers, signal }) // undici follows no redirect unless asked
    } catch (error) {
      throw failed(error)
    }
    const declared = Number(response.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      response.body.destroy()
      throw tooLarge(target, what, limit)
    }
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length
        if (size > limit) break
        chunks.push(chunk as Buffer)
      }
    } catch (error) {
      throw failed(error)
    }
    if (size > limit) {
      response.body.destroy()
      throw tooLarge(target, what, limit)
    }
    return { status: response.statusCode, body: Buffer.concat(chunks) }
  }

  async function getJson(target: string, what: string): Promise<unknown> {
    const { status, body } = await get(target, 'application/json', maxPackument, what)
    if (status === 404) return undefined
    if (status < 200 || status > 299) throw statusError(target, what, status, body)
    try {
      return JSON.parse(body.toString('utf8'))
    } catch {
      throw new RegistryError('ERR_REGISTRY_RESPONSE',
        `the registry answered GET ${target} (${what}) with something that is not JSON (${JSON.stringify(body.subarray(0, 80).toString('utf8'))}…): is ${url} an npm registry?`,
        { details: { url: target, status } })
    }
  }

  return {
    kind: 'http',
    id: url,
    async packument(name) {
      const target = `${url}${name.replace('/', '%2f')}`
      const body = await getJson(target, `the packument of ${name}`)
      if (body === undefined) return undefined
      const packument = body as Packument
      if (typeof packument !== 'object' || packument === null || typeof packument.versions !== 'object' || packument.versions === null) {
        throw new RegistryError('ERR_REGISTRY_RESPONSE', `the registry answered GET ${target} with JSON that is not a packument (no "versions" object)`,
          { details: { url: target } })
      }
      return packument
    },
    async tarball(name, version, dist?: PackumentDist) {
      const target = dist?.tarball ?? `${url}${name}/-/${baseNameOf(name)}-${version}.tgz`
      const { status, body } = await get(target, 'application/octet-stream', maxTarball, `the tarball of ${name}@${version}`)
      if (status === 404) {
        throw new RegistryError('ERR_REGISTRY_NOT_FOUND', `the registry has no tarball for ${name}@${version}: GET ${target} answered 404`,
          { details: { url: target, name, version } })
      }
      if (status < 200 || status > 299) throw statusError(target, `the tarball of ${name}@${version}`, status, body)
      return new Uint8Array(body)
    },
    async keys(): Promise<NpmPublicKey[]> {
      const target = `${url}-/npm/v1/keys`
      const body = await getJson(target, 'the signing keys') as { keys?: NpmPublicKey[] } | undefined
      if (body === undefined) return []
      if (!Array.isArray(body.keys)) {
        throw new RegistryError('ERR_REGISTRY_RESPONSE', `the registry answered GET ${target} with JSON that has no "keys" list`, { details: { url: target } })
      }
      return body.keys
    },
  }
}

function tooLarge(target: string, what: string, limit: number): RegistryError {
  return new RegistryError('ERR_REGISTRY_TOO_LARGE', `${what} at ${target} is larger than ${limit} bytes: refused (a registry answer that big is not a plugin)`,
    { details: { url: target, limit } })
}

function statusError(target: string, what: string, status: number, body: Buffer): RegistryError {
  let said = ''
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown }
    if (typeof parsed.error === 'string') said = `: ${parsed.error}`
  } catch { /* not npm's error shape: the status says enough */ }
  const hint = status === 401 || status === 403 ? ' (check the token configured for this registry)' : ''
  return new RegistryError('ERR_REGISTRY_RESPONSE', `the registry answered GET ${target} (${what}) with ${status}${said}${hint}`,
    { details: { url: target, status } })
}
