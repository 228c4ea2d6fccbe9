// ctx.fetch: outbound HTTP to the granted origins only, every redirect hop checked against the SSRF policy (fetch.ts
// and its siblings in this folder; host.ts has the engine's handler).
import { defineCapability, type ArgumentCap, type GrantProblem } from '../capability.ts'
import { namesNonPublicAddress } from './address-policy.ts'

/** `grants.fetch` as the YAML sets it (fetch-grant.ts FetchGrant is what the host half validates from it). */
export interface FetchGrantDecl {
  origins: string[]
  privateOrigins: string[]
  /** Requests one invocation may make. */
  maxRequests: number
  timeoutMs?: number
  maxResponseBytes?: number
}

/** What a fetch origin must look like as written; the loader also parses it as a URL. */
export const ORIGIN = '^https?://[^/?#@\\s]+/?$'
const ORIGIN_FORM = new RegExp(ORIGIN)
const int = (minimum: number, maximum: number, description: string, fallback?: number) =>
  ({ type: 'integer', minimum, maximum, description, ...(fallback === undefined ? {} : { default: fallback }) })

/**
 * The request's caps, sized from fetch-request.ts. A body is capped for transport at 16 MiB whatever the grant's
 * maxRequestBytes says (default 256 KiB); host.ts `caps` tightens it to the grant's for the sandbox.
 */
export const FETCH_REQUEST_CAP: ArgumentCap = {
  name: 'request', max: 0, fields: {
    url: { name: 'URL', max: 8 * 1024 },
    method: { name: 'method', max: 32 },
    headers: { name: 'headers', max: 32 * 1024 },
    body: { name: 'body', max: 16 * 1024 * 1024 },
  },
}

export default defineCapability({
  name: 'fetch',
  doc: 'HTTP to the granted origins only; loopback and private addresses refused unless listed in privateOrigins',
  ops: { fetch: [FETCH_REQUEST_CAP] },
  guest: {
    value: String.raw`(url, init) => then(call(state, 'fetch', [{
      url: Str(url), method: init && init.method, headers: init && init.headers, body: init && init.body,
    }]), (r) => freeze({
      status: r.status, ok: r.status >= 200 && r.status < 300, url: r.url, headers: freeze(r.headers),
      text: () => apply(resolveP, P, [r.body]),
      json: () => new P((resolve) => resolve(parse(r.body))),
    }))`,
  },
  grant: {
    schema: { $ref: '#/definitions/fetchGrant' },
    definitions: {
      fetchGrant: {
        type: 'object', additionalProperties: false, required: ['origins'],
        description: 'Outbound HTTP to the listed origins only.',
        properties: {
          origins: { type: 'array', minItems: 1, description: 'Origins it may fetch from.', items: { $ref: '#/definitions/origin' } },
          privateOrigins: { type: 'array', default: [], items: { $ref: '#/definitions/origin' },
            description: 'Those of origins that may resolve to loopback or private addresses.' },
          maxRequests: int(1, 10_000, 'Requests one invocation may make.', 10),
          timeoutMs: int(1, 600_000, 'Deadline of one request, redirects included (default 5000).'),
          maxResponseBytes: int(0, 1024 * 1024 * 1024, 'Largest response body read (default 1 MiB).'),
        },
      },
      origin: { type: 'string', pattern: ORIGIN, description: 'scheme://host[:port] with http or https and no path, e.g. https://api.example.com' },
    },
    none: undefined,
    grants: (grant: FetchGrantDecl | undefined) => grant !== undefined,
    check: checkFetchGrant,
  },
  cli: {
    flag: 'fetch', type: 'string', usage: '[--fetch origin]',
    help: 'grant fetch to this origin (repeatable; a loopback or private address named outright is granted as privateOrigins); only examples with fetch: true use it',
    // Typing http://127.0.0.1:port on the command line is the explicit grant an app writes as privateOrigins; without
    // it, a component that talks to a local test server could not be tested at all.
    grant: (value) => Array.isArray(value) && value.length > 0
      ? { origins: value, privateOrigins: value.filter((origin) => namesNonPublicAddress(String(origin))), maxRequests: 10 } : undefined,
  },
  host: () => import('./host.ts'),
})

/** Origins that are real URLs, and private ⊆ allowed (problems the schema finds, like the form, are its own). */
function checkFetchGrant(fetch: unknown): GrantProblem[] {
  if (!isRecord(fetch)) return []
  const problems: GrantProblem[] = []
  const originOf = (list: 'origins' | 'privateOrigins', value: unknown, j: number): string | undefined => {
    if (typeof value !== 'string' || !ORIGIN_FORM.test(value)) return undefined // the schema's to report
    try {
      return new URL(value).origin
    } catch {
      problems.push({ path: [list, j], message: `fetch origin '${value}' is not a valid URL`,
        hint: 'write scheme://host[:port]: a host name or IP address, and a port from 1 to 65535' })
      return undefined
    }
  }
  const list = (name: 'origins' | 'privateOrigins') => {
    const values: unknown[] = Array.isArray(fetch[name]) ? fetch[name] : []
    return values.map((v, j) => ({ value: v, j, origin: originOf(name, v, j) }))
  }
  // Compared as URL.origin serialises them, so `https://API.example.com/` and `https://api.example.com` are one.
  const allowed = new Set(list('origins').map((o) => o.origin))
  for (const { value, j, origin } of list('privateOrigins')) {
    if (origin === undefined || allowed.has(origin)) continue
    problems.push({ path: ['privateOrigins', j], message: `private origin '${value}' is not listed in origins`,
      hint: `add '${value}' to origins as well: privateOrigins only lets origins already allowed reach private addresses` })
  }
  return problems
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
