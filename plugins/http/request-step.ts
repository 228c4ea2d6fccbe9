// The http.request step: outbound HTTP from a pipeline through the engine's `outbound` service (the SSRF guard the
// components' fetch capability uses), to the origins its config allows; its output is { status, headers, body }.
import { defineStepType, type OutboundResponse, type RunScope, type StepContext } from '@islet/sdk'
import { checkHttpRequest } from './request-step-check.ts'
import { httpRequestSchema, type HttpRequestConfig } from './request-step-config.ts'
import { fromOutbound, invalid, outboundCode, stepError, unexpectedStatus, type RequestBlame } from './request-step-errors.ts'
import { backoffMs, IDEMPOTENT, RETRY_STATUSES, retryAfterMs, sleep } from './request-step-retry.ts'

export interface HttpRequestOutput {
  status: number
  /** Lower-cased names, no set-cookie. */
  headers: Record<string, string>
  /** Parsed JSON, text, or null when the response has no body. */
  body: unknown
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/**
 * @example
 * - name: notify
 *   type: http.request
 *   config:
 *     method: POST
 *     url: https://hooks.example.com/orders/${{ input.id }}
 *     allow: [https://hooks.example.com]
 *     body: { order: '${{ input.id }}', state: '${{ input.state }}' }
 *     timeoutMs: 3000
 */
export default defineStepType<HttpRequestConfig>({
  type: 'http.request',
  description: 'Calls an HTTP endpoint among the allowed origins (SSRF-guarded); outputs { status, headers, body }.',
  configSchema: httpRequestSchema,
  check: checkHttpRequest,
  create(config, ctx) {
    const outbound = ctx.service('outbound')
    const request = compileRequest(config, ctx)
    const method = config.method ?? 'GET'
    const retries = IDEMPOTENT.has(method) ? config.retries ?? 0 : 0
    const accepts = acceptance(config)
    const init = {
      method, allow: config.allow, privateOrigins: config.privateOrigins ?? [],
      timeoutMs: config.timeoutMs ?? 10_000, maxBytes: config.maxBytes ?? 1024 * 1024, maxRedirects: config.maxRedirects ?? 5,
    }
    const delays = { base: config.retryDelayMs ?? 200, cap: config.maxRetryDelayMs ?? 30_000 }
    return async (scope) => {
      const { url, headers, body } = request(scope)
      const blame: RequestBlame = { step: ctx.step, method, origin: originOf(url) }
      let response: OutboundResponse | undefined
      let attempt = 0
      for (;;) {
        attempt++
        try {
          response = await outbound.fetch(url, { ...init, headers, body, signal: scope.signal })
        } catch (error) {
          if (scope.signal.aborted) throw scope.signal.reason
          if (outboundCode(error) === undefined) throw error
          const reason = (error as { details?: { reason?: unknown } }).details?.reason
          if (attempt > retries || (reason !== 'timeout' && reason !== 'network')) throw fromOutbound(error, blame, attempt)
          const wait = backoffMs(attempt, delays.base, delays.cap)
          scope.logger.warn({ step: ctx.step, attempt, waitMs: wait, reason }, `http.request ${method} ${blame.origin}: ${reason}, retrying`)
          await sleep(wait, scope.signal)
          continue
        }
        const { status } = response
        // A status the step accepts, or one `expect` names, is an answer; so is any once the retries are spent.
        if (accepts.ok(status) || accepts.listed(status) || attempt > retries || !RETRY_STATUSES.has(status)) break
        const asked = retryAfterMs(response.headers['retry-after'])
        // A server asking for a longer pause than the step waits gets none: the step ends now rather than hang.
        if (asked !== undefined && asked > delays.cap) break
        const wait = Math.max(asked ?? 0, backoffMs(attempt, delays.base, delays.cap))
        scope.logger.warn({ step: ctx.step, attempt, waitMs: wait, status }, `http.request ${method} ${blame.origin}: ${status}, retrying`)
        await sleep(wait, scope.signal)
      }
      if (!accepts.ok(response.status) && !accepts.never) throw unexpectedStatus(response.status, response.body, accepts.text, blame, attempt)
      return output(response, config.parse ?? 'auto', method, blame)
    }
  },
})

/** The URL (query added), headers and body of one run, from the config's templates compiled once. */
function compileRequest(config: HttpRequestConfig, ctx: StepContext) {
  const url = ctx.compile(config.url)
  const query = config.query === undefined ? undefined : ctx.compile<Record<string, unknown>>(config.query)
  const headers = config.headers === undefined ? undefined : ctx.compile<Record<string, unknown>>(config.headers)
  const body = config.body === undefined ? undefined : ctx.compile(config.body)
  const hasContentType = Object.keys(config.headers ?? {}).some((name) => name.toLowerCase() === 'content-type')
  return (scope: RunScope) => {
    const base = url(scope)
    if (typeof base !== 'string') throw invalid(`url evaluated to ${describe(base)}, not a string`, ctx)
    const built = query === undefined ? base : withQuery(base, query(scope), ctx)
    const sent: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers?.(scope) ?? {})) {
      if (value === null || value === undefined) continue
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw invalid(`header '${name}' evaluated to ${describe(value)}: header values are text`, ctx)
      }
      sent[name] = String(value)
    }
    const value = body?.(scope)
    if (value === undefined) return { url: built, headers: sent, body: undefined }
    if (typeof value === 'string') return { url: built, headers: sent, body: value }
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch (error) {
      throw invalid(`body cannot be sent as JSON: ${(error as Error).message}`, ctx, error)
    }
    if (!hasContentType) sent['content-type'] = 'application/json'
    return { url: built, headers: sent, body: json ?? 'null' }
  }
}

function withQuery(base: string, query: Record<string, unknown>, ctx: StepContext): string {
  const url = URL.parse(base)
  if (url === null) throw invalid(`url '${base.slice(0, 200)}' does not parse (it must be absolute: https://host/path)`, ctx)
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined) continue
      url.searchParams.append(name, typeof item === 'object' ? JSON.stringify(item) : String(item))
    }
  }
  return url.href
}

/** Which statuses succeed: the `expect` list (codes and classes), else 2xx; `never`: none fails the step. */
function acceptance(config: HttpRequestConfig): { ok(status: number): boolean; listed(status: number): boolean; text: string; never: boolean } {
  const codes = new Set((config.expect ?? []).filter((e): e is number => typeof e === 'number'))
  const classes = new Set((config.expect ?? []).filter((e): e is string => typeof e === 'string').map((e) => Number(e[0])))
  const listed = (status: number) => codes.has(status) || classes.has(Math.floor(status / 100))
  const never = config.failOn === 'never'
  if (config.expect === undefined) return { ok: (status) => status >= 200 && status < 300, listed, text: '2xx', never }
  return { ok: listed, listed, text: config.expect.join(', '), never }
}

function output(response: OutboundResponse, parse: 'auto' | 'json' | 'text', method: string, blame: RequestBlame): HttpRequestOutput {
  const { status, headers } = response
  // No body (HEAD, 204, 304, an empty one) is null, unless the step asked for text.
  if (response.body === '' && (parse !== 'text' || method === 'HEAD')) return { status, headers, body: null }
  if (parse === 'text' || (parse === 'auto' && !JSON_TYPE.test(headers['content-type'] ?? ''))) return { status, headers, body: response.body }
  try {
    return { status, headers, body: JSON.parse(response.body) }
  } catch (error) {
    throw stepError('ERR_HTTP_REQUEST_BAD_JSON',
      `http.request step '${blame.step}': ${blame.method} ${blame.origin} answered ${status} with a body that is not JSON` +
        ` (${(error as Error).message})${parse === 'auto' ? '; set parse: text to take it as text' : ''}`,
      { step: blame.step, origin: blame.origin, status }, error)
  }
}

function originOf(url: string): string {
  const parsed = URL.parse(url)
  return parsed === null || parsed.origin === 'null' ? url.slice(0, 100) : parsed.origin
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value
}
