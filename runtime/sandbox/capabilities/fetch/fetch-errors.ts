// The coded errors a fetch call rejects with. Their messages reach untrusted code: origins and reasons only.
import { IsletError, type ErrorCode } from '../../../errors.ts'

/** Where in a call something went wrong: the origin being requested and which redirect led there (0: none). */
export interface Hop {
  origin: string
  redirect: number
}

/** Policy refusals: ERR_CAPABILITY_DENIED, the rule broken in `details.reason`. */
export type DeniedReason =
  | 'scheme' | 'credentials' | 'origin-not-allowed' | 'blocked-address' | 'method-not-allowed'

/** Non-policy failures, by code. */
export type FailedReason = 'timeout' | 'aborted' | 'network' | 'too-many-redirects' | 'bad-redirect' | 'closed'
export type TooLargeReason = 'request-url' | 'request-headers' | 'request-body' | 'response-body'
export type InvalidReason = 'invalid-request' | 'invalid-url' | 'invalid-header' | 'invalid-body'

export function denied(hop: Hop, reason: DeniedReason, why: string, extra: Record<string, unknown> = {}): IsletError {
  const where = hop.redirect === 0 ? `fetch to ${hop.origin} denied` : `fetch denied at redirect ${hop.redirect} to ${hop.origin}`
  return coded('ERR_CAPABILITY_DENIED', `${where}: ${why}`, hop, reason, extra)
}

export function failed(hop: Hop, reason: FailedReason, why: string, extra: Record<string, unknown> = {}): IsletError {
  return coded('ERR_FETCH_FAILED', `fetch to ${hop.origin} failed: ${why}`, hop, reason, extra)
}

export function tooLarge(hop: Hop, reason: TooLargeReason, why: string, limit: number): IsletError {
  return coded('ERR_FETCH_TOO_LARGE', `fetch to ${hop.origin} failed: ${why}`, hop, reason, { limit })
}

export function invalidRequest(hop: Hop, reason: InvalidReason, why: string): IsletError {
  return coded('ERR_FETCH_INVALID_REQUEST', `fetch to ${hop.origin} refused: ${why}`, hop, reason, {})
}

function coded(code: ErrorCode, message: string, hop: Hop, reason: string, extra: Record<string, unknown>): IsletError {
  const details: Record<string, unknown> = { capability: 'fetch', reason, origin: hop.origin, ...extra }
  if (hop.redirect > 0) details.redirect = hop.redirect
  return new IsletError(code, message, { details })
}
