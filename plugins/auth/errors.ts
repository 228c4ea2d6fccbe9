// The auth plugin's error catalogue: every code auth.jwt, auth.apikey and `islet apikey` raise, with the status it
// answers with when it ends a request.
import { CodedError } from '@islet/sdk'

/** Each code and its HTTP status; the ones at 500 are raised while a module is created or started, or by the CLI. */
export const AUTH_ERROR_CODES = {
  ERR_AUTH_REQUIRED: 401, // the request carries no credentials and the module is not `optional`
  ERR_AUTH_INVALID_TOKEN: 401, // credentials are present but do not verify (bad signature, expired, revoked, unknown key…)
  ERR_AUTH_JWKS_UNAVAILABLE: 503, // the remote key set (jwksUrl) could not be fetched, so no token can be verified now
  ERR_AUTH_CONFIG: 500, // a config the schema accepts but that cannot work safely (short HS256 secret, no key source…)
  ERR_AUTH_STORE: 500, // the API key store (SQLite) cannot be opened or read
  ERR_AUTH_KEY_UNKNOWN: 404, // `islet apikey revoke` names a key id the store does not hold
} as const

export type AuthErrorCode = keyof typeof AUTH_ERROR_CODES

/** What the auth plugin throws; `status` is what a request it ends is answered with. */
export class AuthError extends CodedError<AuthErrorCode> {
  readonly status: number
  constructor(code: AuthErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, options)
    this.status = AUTH_ERROR_CODES[code]
  }
}
