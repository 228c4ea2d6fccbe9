// The fetch grant an app gives a component: validated once, normalised and frozen before any request runs.
import { IsletError } from '../../../errors.ts'

/** What the app's YAML grants a component's `ctx.fetch`. */
export interface FetchGrant {
  /** Allowlisted origins, `scheme://host[:port]` without a path, e.g. 'https://api.example.com'. */
  origins: string[]
  /** The subset of `origins` allowed to resolve to loopback, private, link-local or other non-public addresses. */
  privateOrigins?: string[]
  /** Deadline of one call, redirects included. Default 5000. */
  timeoutMs?: number
  /** Largest response body read; more is ERR_FETCH_TOO_LARGE. Default 1 MiB. */
  maxResponseBytes?: number
  /** Largest request body sent. Default 256 KiB. */
  maxRequestBytes?: number
  /** Redirects followed per call. Default 5. */
  maxRedirects?: number
}

/** A validated grant: origins serialised exactly as WHATWG `URL.origin` does, so a lookup is a string compare. */
export interface FetchGrantConfig {
  readonly origins: ReadonlySet<string>
  readonly privateOrigins: ReadonlySet<string>
  readonly timeoutMs: number
  readonly maxResponseBytes: number
  readonly maxRequestBytes: number
  readonly maxRedirects: number
}

const LIMITS = {
  timeoutMs: { fallback: 5000, min: 1, max: 600_000 },
  maxResponseBytes: { fallback: 1024 * 1024, min: 0, max: 1024 * 1024 * 1024 },
  maxRequestBytes: { fallback: 256 * 1024, min: 0, max: 1024 * 1024 * 1024 },
  maxRedirects: { fallback: 5, min: 0, max: 20 },
} as const

export function validateFetchGrant(grant: FetchGrant): FetchGrantConfig {
  if (!Array.isArray(grant?.origins)) throw invalid('origins', grant?.origins, 'must be a list of origins')
  const origins = new Set(grant.origins.map((entry, i) => normaliseOrigin(entry, `origins[${i}]`)))
  const privateOrigins = new Set<string>()
  if (grant.privateOrigins !== undefined) {
    if (!Array.isArray(grant.privateOrigins)) throw invalid('privateOrigins', grant.privateOrigins, 'must be a list of origins')
    grant.privateOrigins.forEach((entry, i) => {
      const origin = normaliseOrigin(entry, `privateOrigins[${i}]`)
      // A private grant that is not also allowlisted would silently do nothing: say so at startup instead.
      if (!origins.has(origin)) throw invalid(`privateOrigins[${i}]`, entry, `${origin} is not listed in origins`)
      privateOrigins.add(origin)
    })
  }
  const limit = (field: keyof typeof LIMITS): number => {
    const { fallback, min, max } = LIMITS[field]
    const value = grant[field]
    if (value === undefined) return fallback
    if (!Number.isInteger(value) || value < min || value > max) {
      throw invalid(field, value, `must be an integer from ${min} to ${max}`)
    }
    return value
  }
  return Object.freeze({
    origins,
    privateOrigins,
    timeoutMs: limit('timeoutMs'),
    maxResponseBytes: limit('maxResponseBytes'),
    maxRequestBytes: limit('maxRequestBytes'),
    maxRedirects: limit('maxRedirects'),
  })
}

function normaliseOrigin(entry: unknown, field: string): string {
  const problem = originProblem(entry)
  if (problem) throw invalid(field, entry, problem)
  return new URL(entry as string).origin
}

function originProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return 'must be a string'
  // WHATWG URL is lenient ('https:api.example.com' parses); demand the written form the docs show.
  if (!/^https?:\/\/[^/?#]+\/?$/i.test(entry)) return 'must be scheme://host[:port] with no path, query or fragment'
  let url: URL
  try {
    url = new URL(entry)
  } catch {
    return 'is not a valid URL'
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials'
  return undefined
}

function invalid(field: string, value: unknown, problem: string): IsletError {
  // Never echo credentials someone put in an origin into logs.
  const shown = typeof value === 'string' ? `'${value.replace(/\/\/[^/?#]*@/, '//***@')}'` : JSON.stringify(value) ?? String(value)
  return new IsletError('ERR_CAPABILITY_GRANT_INVALID', `fetch grant ${field} ${shown} ${problem}`, {
    details: { capability: 'fetch', field, problem },
  })
}
