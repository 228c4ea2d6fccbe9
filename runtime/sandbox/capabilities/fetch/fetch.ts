// ctx.fetch on the host side: one capability per component grant, the SSRF policy enforced on every redirect hop.
import type { LookupFunction } from 'node:net'
import type { Agent } from 'undici'
import { isIsletError, type IsletError } from '../../../errors.ts'
import { BlockedAddressError } from './address-policy.ts'
import { failed, type Hop } from './fetch-errors.ts'
import { validateFetchGrant, type FetchGrant, type FetchGrantConfig } from './fetch-grant.ts'
import { addressDenied, checkTarget } from './fetch-policy.ts'
import { checkRequest, type CheckedRequest, type FetchRequestDto } from './fetch-request.ts'
import { copyResponseHeaders, readCappedText, type FetchResponseDto } from './fetch-response.ts'

export type { CheckedRequest, FetchGrant, FetchRequestDto, FetchResponseDto }

export interface FetchCapability {
  /** Rejects with ERR_CAPABILITY_DENIED, ERR_FETCH_INVALID_REQUEST, ERR_FETCH_FAILED or ERR_FETCH_TOO_LARGE. */
  fetch(request: FetchRequestDto, signal?: AbortSignal): Promise<FetchResponseDto>
  /** Closes the connection pool; idempotent. */
  close(): Promise<void>
}

export interface FetchCapabilityOptions {
  /** Replaces dns.lookup (tests resolve made-up names with it); its answers pass the same checks. */
  lookup?: LookupFunction
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
// Secrets meant for one origin must not follow a redirect to another (what browsers do for authorization too).
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']
// When a redirect turns the request into a GET, headers describing the dropped body go with it (Fetch spec).
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location']
// A redirect's own body is drained (up to this) so its connection can be reused; larger ones just close it.
const REDIRECT_DRAIN_BYTES = 64 * 1024
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,40}$/

export function createFetchCapability(grant: FetchGrant, options: FetchCapabilityOptions = {}): FetchCapability {
  const config = validateFetchGrant(grant)
  // undici is some hundred modules: imported only by apps that grant fetch, and without holding up their start-up
  // (begun now, awaited by the first request, whose deadline it would otherwise eat into). The pool is made with
  // the first request.
  const connector = import('./fetch-connector.ts')
  connector.catch(() => {})
  let agent: Promise<Agent> | undefined
  const agentOf = () => agent ??= connector.then(({ createPinnedAgent }) => createPinnedAgent(config, options.lookup))
  let closing: Promise<void> | undefined
  return {
    async fetch(request, signal) {
      const checked = checkRequest(request, config)
      if (closing !== undefined) throw failed(checked.hop, 'closed', 'the fetch capability is closed')
      return guardedFetch(agentOf, config, checked, signal)
    },
    close() {
      closing ??= agent ? agent.then((pool) => pool.close()) : Promise.resolve()
      return closing
    },
  }
}

/**
 * One call under the SSRF policy: a deadline for the whole call, redirects included (the caller's signal can end it
 * sooner), and every failure mapped to one coded error. `agentFor` picks the pool each hop connects through. Shared
 * by the fetch capability and the engine's outbound service (runtime/outbound).
 */
export async function guardedFetch(
  agentFor: AgentFor, config: FetchGrantConfig, checked: CheckedRequest, signal?: AbortSignal,
): Promise<FetchResponseDto> {
  const timeout = AbortSignal.timeout(config.timeoutMs)
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
  const progress = { hop: checked.hop }
  try {
    return await follow(agentFor, config, checked, combined, progress)
  } catch (error) {
    throw explain(error, progress.hop, config, timeout, signal)
  }
}

/** The connection pool a hop to `url` goes through. */
export type AgentFor = (url: URL) => Agent | Promise<Agent>

/** Sends the request and follows redirects by hand, so each hop passes the same checks as the first. */
async function follow(
  agentFor: AgentFor, config: FetchGrantConfig, request: CheckedRequest, signal: AbortSignal, progress: { hop: Hop },
): Promise<FetchResponseDto> {
  let { url, method, body } = request
  const headers = request.headers // ours: checkRequest built it, redirects edit it
  for (let redirect = 0; ; redirect++) {
    const agent = await agentFor(url)
    const response = await agent.request({
      origin: url.origin, path: url.pathname + url.search, method, headers: [...headers].flat(), body, signal,
    })
    const status = response.statusCode
    const location = response.headers.location
    if (!REDIRECTS.has(status) || location === undefined) {
      const hasBody = method !== 'HEAD' && status !== 204 && status !== 304
      const length = response.headers['content-length']
      const declared = hasBody && typeof length === 'string' ? length : undefined
      const text = await readCappedText(response.body, declared, config.maxResponseBytes, progress.hop)
      return { status, url: withoutFragment(url), headers: copyResponseHeaders(response.headers), body: text }
    }
    await response.body.dump({ limit: REDIRECT_DRAIN_BYTES, signal }).catch(() => {})
    if (redirect >= config.maxRedirects) {
      throw failed(progress.hop, 'too-many-redirects', `more than ${config.maxRedirects} redirects`, { limit: config.maxRedirects })
    }
    const next = typeof location === 'string' ? URL.parse(location, url.href) : null
    if (next === null) throw failed(progress.hop, 'bad-redirect', `a ${status} redirect has an invalid location`)
    progress.hop = checkTarget(next, config, redirect + 1)
    if ((status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET'
      body = undefined
      for (const name of BODY_HEADERS) headers.delete(name)
    }
    if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name)
    url = next
  }
}

/** Maps whatever undici or the connector threw to one coded error, short and free of host internals. */
function explain(
  error: unknown, hop: Hop, config: FetchGrantConfig, timeout: AbortSignal, signal: AbortSignal | undefined,
): IsletError {
  if (isIsletError(error)) return error
  const cause = (error as { cause?: unknown } | null)?.cause
  const blocked = error instanceof BlockedAddressError ? error : cause instanceof BlockedAddressError ? cause : undefined
  if (blocked !== undefined) return addressDenied(hop, blocked.range)
  if (timeout.aborted) return failed(hop, 'timeout', `no response within ${config.timeoutMs} ms`, { timeoutMs: config.timeoutMs })
  if (signal?.aborted) return failed(hop, 'aborted', 'the call was cancelled')
  // Only the error code goes back: messages name resolved addresses and host details the guest has no business seeing.
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && ERROR_CODE.test(code)) return failed(hop, 'network', `network error (${code})`, { code })
  return failed(hop, 'network', 'network error')
}

function withoutFragment(url: URL): string {
  const copy = new URL(url.href)
  copy.hash = ''
  return copy.href
}
