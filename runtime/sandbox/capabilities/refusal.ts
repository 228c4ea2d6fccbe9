// How a capability's host side refuses a call: ERR_CAPABILITY_DENIED with the capability and a stable reason, and
// guest text quoted short enough that a refusal never costs the engine a copy of a large argument.
import { IsletError } from '../../errors.ts'

/**
 * Guest-supplied text as a refusal may quote it: at most 60 characters, JSON-escaped (no newline or control
 * character reaches a log line raw). A refusal that echoed a whole 8 MiB argument cost the engine its copy again.
 */
export function quoteGuest(text: unknown): string {
  const s = typeof text === 'string' ? text : String(text)
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s)
}

export function deny(capability: string, reason: string, message: string): IsletError {
  return new IsletError('ERR_CAPABILITY_DENIED', message, { details: { capability, reason } })
}
