// The engine's `outbound` service: HTTP for trusted plugins (the http.request step first) through the very SSRF guard
// components' fetch capability uses (runtime/sandbox/capabilities/fetch): the call's allowlisted origins only, every
// redirect hop checked, non-public addresses refused on the address actually connected to unless the call grants
// that origin as private. The allowlist is per call; the connection pools are the engine's, two of them.
import type { LookupFunction } from 'node:net'
import type { AbortSignalLike, OutboundInit, OutboundResponse, OutboundService } from '@islet/sdk'
import type { Agent } from 'undici'
import { IsletError, isIsletError, type ErrorCode } from '../errors.ts'
import { guardedFetch } from '../sandbox/capabilities/fetch/fetch.ts'
import { validateFetchGrant, type FetchGrantConfig } from '../sandbox/capabilities/fetch/fetch-grant.ts'
import { checkRequest } from '../sandbox/capabilities/fetch/fetch-request.ts'

export interface Outbound extends OutboundService {
  /** Closes the pools once their requests are done; later calls are refused. Idempotent. */
  close(): Promise<void>
}

export interface OutboundOptions {
  /** Replaces dns.lookup (tests); its answers pass the same checks. */
  lookup?: LookupFunction
}

const DEFAULTS = { timeoutMs: 10_000, maxBytes: 1024 * 1024, maxRequestBytes: 1024 * 1024, maxRedirects: 5 }
// A call's deadline is its own abort signal; the pools' timeouts only need to outlast the longest one allowed.
const POOL_TIMEOUT_MS = 600_000
// Validated call options by their text: a step sends the same ones every run, so each is checked and normalised once.
const MAX_CACHED_CONFIGS = 256

const CODES: Partial<Record<ErrorCode, ErrorCode>> = {
  ERR_CAPABILITY_DENIED: 'ERR_OUTBOUND_DENIED',
  ERR_FETCH_FAILED: 'ERR_OUTBOUND_FAILED',
  ERR_FETCH_TOO_LARGE: 'ERR_OUTBOUND_TOO_LARGE',
  ERR_FETCH_INVALID_REQUEST: 'ERR_OUTBOUND_INVALID',
  ERR_CAPABILITY_GRANT_INVALID: 'ERR_OUTBOUND_INVALID',
}

export function createOutbound(options: OutboundOptions = {}): Outbound {
  // undici is imported with the first call, like the capability does: apps that make none never load it.
  let pools: Promise<{ strict: Agent; open: Agent }> | undefined
  const poolsOf = () => pools ??= import('../sandbox/capabilities/fetch/fetch-connector.ts').then(({ createGuardedAgent }) => ({
    // Two pools, so a connection opened for a private grant is never reused by a call without one.
    strict: createGuardedAgent({ timeoutMs: POOL_TIMEOUT_MS, isPrivate: () => false }, options.lookup),
    open: createGuardedAgent({ timeoutMs: POOL_TIMEOUT_MS, isPrivate: () => true }, options.lookup),
  }))
  let closing: Promise<void> | undefined
  const configs = new Map<string, FetchGrantConfig>()

  function configOf(init: OutboundInit): FetchGrantConfig {
    const key = optionsText(init)
    let config = configs.get(key)
    if (config === undefined) {
      config = validateFetchGrant({
        origins: init.allow as string[], privateOrigins: (init.privateOrigins ?? []) as string[],
        timeoutMs: init.timeoutMs ?? DEFAULTS.timeoutMs, maxResponseBytes: init.maxBytes ?? DEFAULTS.maxBytes,
        maxRequestBytes: init.maxRequestBytes ?? DEFAULTS.maxRequestBytes, maxRedirects: init.maxRedirects ?? DEFAULTS.maxRedirects,
      })
      if (configs.size >= MAX_CACHED_CONFIGS) configs.clear()
      configs.set(key, config)
    }
    return config
  }

  return {
    async fetch(url, init) {
      try {
        if (init === null || typeof init !== 'object' || !Array.isArray(init.allow)) {
          throw new IsletError('ERR_OUTBOUND_INVALID', 'outbound.fetch needs init.allow: the list of origins (scheme://host[:port]) the call may reach')
        }
        const config = configOf(init)
        const checked = checkRequest({ url, method: init.method, headers: init.headers, body: init.body }, config)
        if (closing !== undefined) throw new IsletError('ERR_OUTBOUND_FAILED', `request to ${checked.hop.origin} failed: the engine is stopping`, { details: { reason: 'closed', origin: checked.hop.origin } })
        const { strict, open } = await poolsOf()
        const response = await guardedFetch((target) => config.privateOrigins.has(target.origin) ? open : strict, config, checked, abortSignalOf(init.signal))
        return response satisfies OutboundResponse
      } catch (error) {
        throw restate(error, init?.allow)
      }
    },
    close() {
      closing ??= pools ? pools.then(({ strict, open }) => Promise.all([strict.close(), open.close()])).then(() => {}) : Promise.resolve()
      return closing
    },
  }
}

/** What of a call's options makes its config, as one string: the cache key (a valid origin holds no space or newline). */
function optionsText(init: OutboundInit): string {
  return `${init.allow.join(' ')}\n${init.privateOrigins?.join(' ') ?? ''}\n${init.timeoutMs} ${init.maxBytes} ${init.maxRequestBytes} ${init.maxRedirects}`
}

/** A real AbortSignal for undici: the run's own when it is one (it always is in the engine), else one following it. */
function abortSignalOf(signal: AbortSignalLike | undefined): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal
  const controller = new AbortController()
  if (signal.aborted) controller.abort(signal.reason)
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
  return controller.signal
}

/**
 * The capability's errors in the service's words: its codes and messages speak of a component's fetch grant, which
 * a plugin's caller has none of. The facts (details.reason, origin, range, limit, redirect) stay as they were.
 */
function restate(error: unknown, allow: readonly string[] | undefined): unknown {
  if (!isIsletError(error)) return error
  const code = CODES[error.code]
  if (code === undefined) return error
  const { capability: _capability, ...details } = error.details
  const origin = String(details.origin ?? '')
  const where = typeof details.redirect === 'number' ? `request denied at redirect ${details.redirect} to ${origin}` : `request to ${origin} denied`
  let message = error.message.replace(/^fetch grant /, 'outbound option ').replace(/^fetch /, 'request ')
  if (details.reason === 'origin-not-allowed') {
    details.allow = [...allow ?? []]
    message = `${where}: the origin is not in the allow list (${allow?.length ? allow.join(', ') : 'empty'})`
  } else if (details.reason === 'blocked-address') {
    message = `${where}: the host is or resolves to a non-public address (${String(details.range)}), and this origin is not granted` +
      ` private network access (to allow it, list ${origin} under privateOrigins, besides allow)`
  }
  return new IsletError(code, message, { details, cause: error })
}
