// Where a request carries credentials, and how a refused one is answered (RFC 6750): shared by auth.jwt and
// auth.apikey so that both read the same headers and answer 401 the same way.
import { PRINCIPAL_LOCAL, type Authenticator, type HttpContext, type HttpMiddleware, type HttpRequestView } from '@islet/sdk'
import { AuthError } from './errors.ts'

/** The realm every challenge names; one realm per engine, so clients cache one token for all of it. */
export const CHALLENGE = 'Bearer realm="islet"'

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(request: HttpRequestView): string | undefined {
  const header = single(request.headers.authorization)
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  return m ? m[1] : undefined
}

/** The `X-API-Key` header, or undefined. */
export function apiKeyHeader(request: HttpRequestView): string | undefined {
  const value = single(request.headers['x-api-key'])?.trim()
  return value === '' ? undefined : value
}

/** True when the request carries any credential header, whoever reads it. */
export function carriesCredentials(request: HttpRequestView): boolean {
  return request.headers.authorization !== undefined || request.headers['x-api-key'] !== undefined
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The challenge of a 401: an invalid token's names the error (RFC 6750), any other is the plain challenge. */
export function challengeFor(error: AuthError): string {
  return error.code === 'ERR_AUTH_INVALID_TOKEN' ? invalidTokenChallenge(CHALLENGE, error.message) : CHALLENGE
}

/**
 * `challenge` with RFC 6750's invalid_token error and `message` as its description (also for the admin API, over any
 * authenticator's challenge; one that names an error already is kept). The RFC allows only %x20-21 / %x23-5B /
 * %x5D-7E in error_description: quotes, backslashes and anything outside printable ASCII are replaced, so a message
 * can never break the header.
 */
export function invalidTokenChallenge(challenge: string, message: string): string {
  if (/\berror=/.test(challenge)) return challenge
  return `${challenge}, error="invalid_token", error_description="${message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`
}

/** Answers `error` in the engine's error shape, with the challenge a 401 must carry. */
export function refuse(http: HttpContext, error: AuthError): void {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' }
  if (error.status === 401) headers['WWW-Authenticate'] = challengeFor(error)
  http.respond({ status: error.status, headers, body: { error: { code: error.code, message: error.message, requestId: http.request.id } } })
}

export interface MiddlewareOptions {
  /** Without credentials the request passes on with no principal (a later middleware or `requires:` decides). */
  optional: boolean
  /** What the module reads, for messages: `a JWT (Authorization: Bearer)`. */
  reads: string
  /** `auth.jwt 'jwt'`, for messages. */
  module: string
}

/**
 * The middleware over an authenticator: a principal found → `locals.principal`; credentials that do not verify → 401
 * invalid_token; none → 401 unless optional. A principal already attached by an earlier auth middleware wins: this one
 * passes the request on without looking, so `[keys, jwt]` accepts either.
 */
export function authMiddleware(authenticator: Authenticator, options: MiddlewareOptions): HttpMiddleware {
  return async (http, next) => {
    if (http.locals[PRINCIPAL_LOCAL] !== undefined) return next()
    let principal
    try {
      principal = await authenticator.authenticate(http.request)
    } catch (error) {
      if (!(error instanceof AuthError)) throw error
      if (error.status >= 500) http.logger.error({ err: error }, error.message)
      return refuse(http, error)
    }
    if (principal !== undefined) {
      http.locals[PRINCIPAL_LOCAL] = principal
      return next()
    }
    if (options.optional) return next()
    const foreign = carriesCredentials(http.request)
    refuse(http, new AuthError('ERR_AUTH_REQUIRED', foreign
      ? `${options.module} reads ${options.reads}, and this request carries another kind of credential: send ${options.reads}, ` +
        'or list the module that reads it first (with optional: true on every auth module but the last)'
      : `this request needs credentials: send ${options.reads}`))
  }
}
