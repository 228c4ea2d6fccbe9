// AdminOps over the admin HTTP API (runtime/admin/slots-routes.ts), for `islet mcp`: global fetch, a bearer token
// when one is given (without one, only the loopback convenience of a loopback-only server answers). The API's error
// answers ({error: {code, message, details}}) come back as coded errors with the same code, so an agent sees
// ERR_ADMIN_FORBIDDEN or ERR_SLOT_UNKNOWN exactly as /admin/mcp would report it.
import { CodedError, type DeployResult, type SlotInfo, type SlotInvokeResult, type SlotLogEntry, type SlotVersion, type DeployFiles } from '@islet/sdk'
import { IsletError, describeThrown } from '../errors.ts'
import type { AdminOps } from './ops.ts'

export interface HttpOpsOptions {
  /** The engine's base URL (`http://127.0.0.1:8080`: the admin API at /admin) or the admin prefix itself (`…/ops`). */
  url: string
  token?: string
}

/** The admin API's base URL: a bare origin gets the default prefix /admin. */
export function adminBase(url: string): URL {
  const parsed = new URL(url)
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/admin'
  parsed.pathname = parsed.pathname.replace(/\/+$/, '')
  parsed.search = ''
  return parsed
}

export function httpOps(options: HttpOpsOptions): AdminOps {
  const base = adminBase(options.url)
  const slotPath = (slot: string, rest = '') => `/slots/${encodeURIComponent(slot)}${rest}`

  async function call(method: string, path: string, init: { body?: unknown; query?: Record<string, string | number | undefined>; accept422?: boolean } = {}): Promise<Response> {
    const url = new URL(base.href + path)
    for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value))
    const headers: Record<string, string> = { accept: 'application/json' }
    if (options.token) headers.authorization = `Bearer ${options.token}`
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(url, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) })
    } catch (error) {
      throw new IsletError('ERR_CLI_UNREACHABLE',
        `cannot reach the Islet admin API at ${base.href} (${describeThrown((error as { cause?: unknown }).cause ?? error)}): is the engine running, and does --url name its http.server (host and port)?`,
        { cause: error, details: { url: base.href } })
    }
    if (response.ok || (init.accept422 && response.status === 422)) return response
    throw await refusal(response, url)
  }

  async function json<T>(method: string, path: string, init: Parameters<typeof call>[2] = {}): Promise<T> {
    const response = await call(method, path, init)
    const text = await response.text()
    try {
      return JSON.parse(text) as T
    } catch {
      throw new IsletError('ERR_CLI_BAD_RESPONSE', `${method} ${path} on the admin API answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
        { details: { status: response.status } })
    }
  }

  return {
    target: base.href,
    async slots() { return listOf<SlotInfo>(await json('GET', '/slots'), 'slots') },
    slot: (slot) => json<SlotInfo>('GET', slotPath(slot)),
    deploy: (slot, request) => json<DeployResult>('POST', slotPath(slot, '/versions'), {
      body: { files: request.files, ...(request.entry ? { entry: request.entry } : {}), ...(request.message ? { message: request.message } : {}) },
      query: { dryRun: request.dryRun ? 1 : undefined, promote: request.promote ? 1 : undefined },
      accept422: true,
    }),
    promote: (slot, version) => json<DeployResult>('POST', slotPath(slot, `/versions/${version}/promote`), { accept422: true }),
    rollback: (slot, to) => json<DeployResult>('POST', slotPath(slot, '/rollback'), { body: to === undefined ? {} : { to }, accept422: true }),
    async versions(slot) { return listOf<SlotVersion>(await json('GET', slotPath(slot, '/versions')), 'versions') },
    async source(slot, version) {
      const body = await json<{ files?: DeployFiles }>('GET', slotPath(slot, `/versions/${version}/source`))
      return body.files ?? (body as DeployFiles)
    },
    async diff(slot, from, to) { return (await call('GET', slotPath(slot, '/diff'), { query: { from, to } })).text() },
    async logs(slot, options) { return listOf<SlotLogEntry>(await json('GET', slotPath(slot, '/logs'), { query: options }), 'entries', 'logs') },
    invoke: (slot, input) => json<SlotInvokeResult>('POST', slotPath(slot, '/invoke'), { body: { input } }),
  }
}

/** A list the API answers either bare or wrapped in an object under one of `keys`. */
function listOf<T>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body as T[]
  for (const key of keys) {
    const value = (body as Record<string, unknown> | null)?.[key]
    if (Array.isArray(value)) return value as T[]
  }
  throw new IsletError('ERR_CLI_BAD_RESPONSE', `the admin API answered ${JSON.stringify(body).slice(0, 200)} where a list was expected`)
}

/**
 * What an answer that came from the app rather than the admin API means (as `islet deploy` says it): the app's own
 * 404, or its auth middleware asking for credentials — the admin API's own is ERR_ADMIN_AUTH_REQUIRED.
 */
function misrouted(code: string, url: URL): string {
  if (code === 'ERR_HTTP_NOT_FOUND') return ` (no admin API at ${url.origin}: is --url the server whose middleware lists the islet.admin module, with its prefix if that is not /admin?)`
  if (code === 'ERR_AUTH_REQUIRED') return ` (the app's auth middleware answered, not the admin API at ${url.origin}: list the islet.admin module in that server's middleware, before its auth modules, or send a token)`
  return ''
}

/** The admin API's error answer as a coded error carrying its code, message and details. */
async function refusal(response: Response, url: URL): Promise<Error> {
  const text = await response.text()
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined
  try { error = (JSON.parse(text) as { error?: typeof error }).error } catch { /* not JSON: reported below */ }
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    const details = { status: response.status, ...(typeof error.details === 'object' && error.details !== null ? error.details as Record<string, unknown> : {}) }
    return new CodedError(error.code, error.message + misrouted(error.code, url), { details })
  }
  return new IsletError('ERR_CLI_BAD_RESPONSE', `${url.pathname} on the admin API answered ${response.status}: ${text.slice(0, 200) || response.statusText}`,
    { details: { status: response.status } })
}
