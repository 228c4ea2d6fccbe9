// Who is calling: what auth middleware (auth.jwt, auth.apikey, a third party's) attaches to a request, and what routes
// (`requires:`), the rate limit and the admin API read. Koa-free, like the rest of the HTTP contracts.
import { defineContract } from './contract.ts'
import type { HttpRequestView } from './http.ts'

/**
 * An authenticated caller. JSON data: it lands in `HttpContext.locals.principal`, which pipelines read as
 * `${{ locals.principal.subject }}`.
 */
export interface Principal {
  /** Stable id of the caller: a JWT's `sub`, an API key's id (16 hex digits, the `<id>` of `isk_<id>_<secret>`), `loopback` for the dev convenience. */
  subject: string
  /** How it was authenticated, e.g. `jwt`, `apikey`, `loopback`; the module type's word. */
  via: string
  /** Granted scopes, e.g. `orders:write`, `admin`, `deploy:pricing`. Compared as exact strings. */
  scopes: string[]
  /** The API key's name, the JWT's `name` claim… for logs and the audit log; never a secret. */
  name?: string
  /** Verified JWT claims (JSON), when via is `jwt`. */
  claims?: Record<string, unknown>
}

/** Where the principal of a request is kept in `HttpContext.locals`. */
export const PRINCIPAL_LOCAL = 'principal'

/** The scope that allows everything on the admin API (status, events, every slot). */
export const ADMIN_SCOPE = 'admin'
/** Read-only admin: status, events, versions, sources, diffs and logs of every slot. */
export const ADMIN_READ_SCOPE = 'admin:read'

/**
 * What an authentication module offers beside its middleware: the admin API and `/admin/mcp` verify a request's
 * credentials through it, without running the app's middleware chain.
 */
export interface Authenticator {
  /**
   * The principal the request's credentials prove; undefined when the request carries none this module reads. Rejects
   * with a CodedError (`ERR_AUTH_INVALID_TOKEN`, status 401) when it carries credentials that do not verify.
   */
  authenticate(request: HttpRequestView): Promise<Principal | undefined>
  /** The `WWW-Authenticate` challenge a 401 from this module carries, e.g. `Bearer realm="islet"`. */
  readonly challenge: string
}

export const httpAuthenticator = defineContract<Authenticator>('http.authenticator', { authenticate: 'function', challenge: 'string' },
  'verifies a request\'s credentials and returns its principal (auth.jwt, auth.apikey)')

/**
 * The scopes `principal` holds: the strings of its `scopes` array. Scopes that are not an array (an authenticator that
 * passed a JWT's space-separated `scope` string on as it is) hold nothing, rather than matching by substring or letter.
 */
export function heldScopes(principal: Principal | undefined): string[] {
  const scopes: unknown = principal?.scopes
  return Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : []
}

/** The scopes of `required` that `principal` lacks (all of them when there is no principal). */
export function missingScopes(principal: Principal | undefined, required: readonly string[]): string[] {
  const held = new Set(heldScopes(principal))
  return required.filter((s) => !held.has(s))
}
