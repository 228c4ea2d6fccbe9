// Who is asking the admin API: the principal a request acts as, or why it is refused. One place, so the status and
// event routes, the slot routes and /admin/mcp cannot disagree about who may do what.
import { ADMIN_READ_SCOPE, ADMIN_SCOPE, heldScopes, type Authenticator, type HttpContext, type HttpRequestView, type Principal } from '@islet/sdk'
import { isLoopback } from './loopback.ts'

export interface AccessConfig {
  /** The modules of `auth:` (http.authenticator), in order: the first that recognises a request's credentials decides. */
  authenticators: readonly Authenticator[]
  /** Grant the loopback convenience to requests that carry proxy headers (dangerous: see PROXY_HEADERS). */
  trustProxyHeaders: boolean
}

/** What a refused request is answered with. */
export interface AdminRefusal {
  status: number
  code: string
  message: string
  details?: Record<string, unknown>
  headers?: Record<string, string>
}

/**
 * Headers a reverse proxy adds when it forwards a request. The loopback check sees the socket's peer, which behind a
 * proxy on this host is the proxy itself: a request carrying one of these came from whoever the proxy serves.
 */
export const PROXY_HEADERS = [
  'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via',
  // What other proxies and CDNs add instead (Envoy, Cloudflare, Akamai, Fastly, and the older conventions).
  'x-envoy-external-address', 'x-original-forwarded-for', 'cf-connecting-ip', 'true-client-ip', 'fastly-client-ip',
  'x-client-ip', 'x-cluster-client-ip',
] as const

/** The principal of the loopback convenience: a client on this machine, no token. */
export const LOOPBACK_PRINCIPAL: Principal = Object.freeze({ subject: 'loopback', via: 'loopback', scopes: Object.freeze([ADMIN_SCOPE]) as string[] })

/** The challenge of the admin API's 401s when no authenticator names its own. */
const CHALLENGE = 'Bearer realm="islet"'

/**
 * The principal `http` acts as on the admin API, or the refusal to answer it with:
 * 1. credentials (Authorization, X-API-Key) → the first of `auth:` that returns a principal; credentials that one of
 *    them rejects and none accepts → its 401. (With no `auth:` at all, credentials prove nothing and are ignored.)
 * 2. none → the loopback convenience, only when the server listens on a loopback host, the peer is loopback and no
 *    proxy header is present (unless trustProxyHeaders); otherwise 401 ERR_ADMIN_AUTH_REQUIRED saying how to get a
 *    token. So a server on 0.0.0.0 never answers the admin API without a token, whoever connects.
 * An authenticator that fails for another reason than the request's credentials (its store is down) throws on: a 500.
 */
export async function adminPrincipal(http: HttpContext, config: AccessConfig): Promise<Principal | AdminRefusal> {
  const request = http.request
  const challenge = config.authenticators[0]?.challenge ?? CHALLENGE
  if (config.authenticators.length > 0 && carriesCredentials(request)) {
    let rejected: { error: CodedStatusError; challenge: string } | undefined
    for (const authenticator of config.authenticators) {
      try {
        const principal = await authenticator.authenticate(request)
        if (principal) return principal
      } catch (error) {
        // A failure of the module itself (500: its store cannot be read) is not the caller's: the server logs it.
        if (!isCodedStatusError(error) || error.status < 400 || error.status === 500) throw error
        rejected ??= { error, challenge: authenticator.challenge }
      }
    }
    if (rejected) {
      const { error } = rejected
      return {
        status: error.status, code: error.code, message: error.message,
        headers: error.status === 401 ? { 'WWW-Authenticate': invalidTokenChallenge(rejected.challenge, error.message) } : {},
      }
    }
    return refusal(challenge, 'unrecognised', 'no module in its auth: recognises the credentials this request carries; send a token one of them issued')
  }
  // HTTP/1.0 from loopback is what nginx's default proxy_pass sends (with no proxy header and Host rewritten to the
  // upstream): no client of the admin API speaks it, so it reads as a proxy too.
  const proxyHeader = config.trustProxyHeaders ? undefined
    : PROXY_HEADERS.find((h) => request.headers[h] !== undefined) ?? (request.httpVersion === '1.0' ? 'HTTP/1.0' : undefined)
  if (!isLoopbackHost(request.listenHost)) {
    return refusal(challenge, 'listener', `this server listens on ${request.listenHost}, not only on loopback, so the admin API answers no request without a token`,
      config.authenticators.length > 0)
  }
  // The client address: the peer, or with the server's trustProxy (and trustProxyHeaders here) what the proxy reports.
  if (!isLoopback(request.clientAddress)) {
    return refusal(challenge, 'peer', 'this request does not come from this machine, so it needs a token', config.authenticators.length > 0)
  }
  if (proxyHeader) {
    return {
      ...refusal(challenge, 'proxied', `this request ${proxyHeader === 'HTTP/1.0' ? 'speaks HTTP/1.0, as nginx\'s proxy_pass does by default' : `carries ${proxyHeader}`}, so a proxy forwarded it: behind a proxy the loopback check cannot tell who the client is; it needs a token ` +
        '(or, only if the proxy admits nobody but operators, set trustProxyHeaders: true on the islet.admin module)', config.authenticators.length > 0),
      details: { reason: 'proxied', header: proxyHeader },
    }
  }
  // Through a trusted proxy the Host is the proxy's public name, rightly; Origin still tells a cross-site request.
  const viaTrustedProxy = config.trustProxyHeaders && PROXY_HEADERS.some((h) => request.headers[h] !== undefined)
  const browser = browserRefusal(request, challenge, config.authenticators.length > 0, !viaTrustedProxy)
  if (browser) return browser
  return LOOPBACK_PRINCIPAL
}

/**
 * A browser on this machine is a loopback client that runs other sites' code, and no token is ever needed to make it
 * send a request. Refused here: a Host that is not a loopback name (DNS rebinding: a page's own name re-pointed at
 * 127.0.0.1, whose answers the page then reads as same-origin), and a request another origin's page made (Origin,
 * or Sec-Fetch-Site for the requests that carry no Origin) — its answer stays unread, but a POST's effect happens.
 * Clients that are not browsers send neither a foreign Host nor these headers.
 */
function browserRefusal(request: HttpRequestView, challenge: string, hasAuth: boolean, checkHost: boolean): AdminRefusal | undefined {
  const host = single(request.headers.host)
  if (checkHost && host !== undefined && !isLoopbackHost(hostName(host))) {
    return refusal(challenge, 'host', `this request names the host '${quoted(host)}' (Host header), not a loopback name: a web page whose name ` +
      'was re-pointed at this machine (DNS rebinding) sends exactly that, so it needs a token; call the API as http://127.0.0.1:<port> or http://localhost:<port>', hasAuth)
  }
  const origin = single(request.headers.origin)
  const site = single(request.headers['sec-fetch-site'])
  if ((origin !== undefined && !sameOrigin(origin, host)) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
    return refusal(challenge, 'origin', `this request was made by a web page of another origin (${origin !== undefined ? `Origin '${quoted(origin)}'` : `Sec-Fetch-Site: ${quoted(site!)}`}), ` +
      'which any site can make a browser on this machine do, so it needs a token', hasAuth)
  }
  return undefined
}

/** The host of a Host header (`[::1]:8080` → `::1`, `localhost:8080` → `localhost`). */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(header)
  if (bracketed) return bracketed[1]!
  const colon = header.indexOf(':')
  return colon >= 0 && colon === header.lastIndexOf(':') ? header.slice(0, colon) : header
}

/** Whether a browser's Origin is this server's own (scheme aside: a page served over http by this very server). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false
  try {
    const url = new URL(origin)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host
  } catch {
    return false
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** At most 60 characters of a header, printable ASCII only: a refusal never echoes what it cannot show safely. */
function quoted(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?').replace(/'/g, '"')
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean
}

/** The refusal of a route that needs one of `anyOf` (e.g. admin or admin:read), or undefined when `principal` holds one. */
export function requireScope(principal: Principal, anyOf: readonly string[], what: string): AdminRefusal | undefined {
  const held = heldScopes(principal)
  if (anyOf.some((s) => held.includes(s))) return undefined
  return {
    status: 403, code: 'ERR_ADMIN_FORBIDDEN', details: { needs: [...anyOf], subject: principal.subject },
    message: `${what} needs scope ${anyOf.join(' or ')}; '${principal.subject}' (${principal.via}) holds ${held.length ? held.join(', ') : 'none'}`,
  }
}

/** What status and events need: full admin, or the read-only scope. */
export const READ_SCOPES = [ADMIN_SCOPE, ADMIN_READ_SCOPE] as const

export function isRefusal(value: Principal | AdminRefusal): value is AdminRefusal {
  return 'code' in value
}

/** 401 ERR_ADMIN_AUTH_REQUIRED: why, and how to get and send a token (which depends on whether auth: is set). */
function refusal(challenge: string, reason: string, why: string, hasAuth = true): AdminRefusal {
  const how = hasAuth
    ? 'send Authorization: Bearer <token> with a token of a module in its auth: (an API key: islet apikey create ops --scopes admin)'
    : 'declare an auth.apikey module (e.g. keys), list it under auth: [keys] on the islet.admin module, create a key with ' +
      'islet apikey create ops --scopes admin, and send it as Authorization: Bearer <key>'
  return {
    status: 401, code: 'ERR_ADMIN_AUTH_REQUIRED', details: { reason },
    headers: { 'WWW-Authenticate': challenge, 'Cache-Control': 'no-store' },
    message: `the admin API needs a token: ${why}; ${how}`,
  }
}

/** RFC 6750's invalid_token challenge; the description keeps to the characters the header grammar allows. */
function invalidTokenChallenge(challenge: string, message: string): string {
  if (/\berror=/.test(challenge)) return challenge
  return `${challenge}, error="invalid_token", error_description="${message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`
}

/** Whether the request carries credentials any authenticator may read. */
function carriesCredentials(request: HttpRequestView): boolean {
  return request.headers.authorization !== undefined || request.headers['x-api-key'] !== undefined
}

/** A configured listen host that accepts connections from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return bare.toLowerCase() === 'localhost' || isLoopback(bare)
}

interface CodedStatusError { code: string; status: number; message: string }

/** An authenticator's refusal of the credentials (auth's AuthError, or a third party's coded error with a status). */
function isCodedStatusError(error: unknown): error is CodedStatusError {
  const e = error as Partial<CodedStatusError> | null
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.status === 'number' && typeof e.message === 'string'
}
