// The StepErrors http.request fails with: the outbound service's refusals and failures in the step's terms, and the
// step's own (an unexpected status, a body that is not the JSON it claims).
import { StepError } from '@islet/sdk'
import { HTTP_REQUEST_ERROR_CODES, type HttpRequestErrorCode } from './errors.ts'

/** How much of an unexpected response's body its error shows. */
const EXCERPT_CHARS = 300

/** What the step knows of the request, for messages. */
export interface RequestBlame {
  step: string
  method: string
  origin: string
}

export function stepError(code: HttpRequestErrorCode, message: string, details: Record<string, unknown>, cause?: unknown): StepError {
  const status = Number(HTTP_REQUEST_ERROR_CODES[code].slice(0, 3))
  return new StepError({ status, code, message, details, cause })
}

/** Whether an error is the outbound service's (checked by shape: a plugin sees the runtime's errors as CodedErrors). */
export function outboundCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('ERR_OUTBOUND_') ? code : undefined
}

/** The outbound service's error as the step's; the service's message already names the origin and the rule. */
export function fromOutbound(error: unknown, blame: RequestBlame, attempts: number): StepError {
  const code = outboundCode(error)!
  const details: Record<string, unknown> = { ...(error as { details?: Record<string, unknown> }).details, step: blame.step, method: blame.method, attempts }
  const reason = details.reason
  const ours: HttpRequestErrorCode =
    code === 'ERR_OUTBOUND_DENIED' ? (reason === 'origin-not-allowed' ? 'ERR_HTTP_REQUEST_ORIGIN_DENIED' : reason === 'blocked-address' ? 'ERR_HTTP_REQUEST_ADDRESS_DENIED' : 'ERR_HTTP_REQUEST_INVALID')
      : code === 'ERR_OUTBOUND_FAILED' ? (reason === 'timeout' ? 'ERR_HTTP_REQUEST_TIMEOUT' : 'ERR_HTTP_REQUEST_FAILED')
        : code === 'ERR_OUTBOUND_TOO_LARGE' ? 'ERR_HTTP_REQUEST_TOO_LARGE' : 'ERR_HTTP_REQUEST_INVALID'
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : ''
  return stepError(ours, `http.request step '${blame.step}': ${blame.method} ${(error as Error).message}${tries}`, details, error)
}

export function unexpectedStatus(status: number, body: string, expected: string, blame: RequestBlame, attempts: number): StepError {
  const excerpt = body.length > EXCERPT_CHARS ? `${body.slice(0, EXCERPT_CHARS)}…` : body
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : ''
  return stepError('ERR_HTTP_REQUEST_STATUS',
    `http.request step '${blame.step}': ${blame.method} ${blame.origin} answered ${status}${tries}, expected ${expected}` +
      `${excerpt ? `: ${JSON.stringify(excerpt)}` : ''} (list the status under expect, or set failOn: never to handle it in later steps)`,
    { step: blame.step, method: blame.method, origin: blame.origin, status, excerpt, attempts })
}

export function invalid(message: string, blame: Pick<RequestBlame, 'step'>, cause?: unknown): StepError {
  return stepError('ERR_HTTP_REQUEST_INVALID', `http.request step '${blame.step}': ${message}`, { step: blame.step }, cause)
}
