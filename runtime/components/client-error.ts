// A client error a component answers: `throw new StepError({ status: 422, code: 'ERR_SKU_UNKNOWN', message })` inside
// a component reaches its caller as that status and code, when the engine accepts it. The guest's claim arrives as
// data (details.client of an ERR_COMPONENT_THREW from the worker); it is checked here, in the engine, never trusted.
import { CodedError } from '@islet/sdk'
import * as coreErrors from '../../plugins/core/errors.ts'
import * as httpErrors from '../../plugins/http/errors.ts'
import * as storageErrors from '../../plugins/storage/errors.ts'
import * as runtimeErrors from '../errors.ts'
import { CLIENT_DETAILS_BYTES } from '../sandbox/guest-bootstrap.ts'

/**
 * Codes a component may never answer with: the host's own, so a caller can trust what they mean. Every `*_CODES`
 * catalogue the runtime's and the plugins' errors.ts export (storage has two), so a catalogue added there counts.
 */
const HOST_CODES: ReadonlySet<string> = new Set([
  ...[runtimeErrors, coreErrors, httpErrors, storageErrors].flatMap((module) => Object.entries(module)
    .filter(([name, value]) => name.endsWith('_CODES') && value !== null && typeof value === 'object')
    .flatMap(([, catalogue]) => Object.keys(catalogue as object))),
  // The core `validate` step's StepError codes (its catalogue holds the app-bug codes only).
  'ERR_VALIDATION', 'ERR_VALIDATION_TOO_COSTLY',
])
const CODE = /^ERR_[A-Z0-9_]+$/
export const CLIENT_MESSAGE_CHARS = 500

/** A component's accepted client error: `status` 400–499 and a code of its own. Not a limit breach. */
export class ComponentClientError extends CodedError<string> {
  readonly status: number
  /** What the component put in its StepError's details (JSON, capped): the caller sees them. */
  readonly clientDetails: unknown
  constructor(status: number, code: string, message: string, clientDetails: unknown, details: Record<string, unknown>) {
    super(code, message, { details })
    this.status = status
    this.clientDetails = clientDetails
  }
}

export interface ClientClaim {
  status?: unknown
  code?: unknown
  details?: unknown
  detailsRefused?: unknown
}

/** The accepted error, or why the claim was refused (the call then stays ERR_COMPONENT_THREW, a 500). */
export function acceptClientError(claim: ClientClaim, message: string, details: Record<string, unknown>): ComponentClientError | string {
  const { status, code } = claim
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 499) {
    return `its status ${String(status)} is not a client error (400–499); a component reports its own failures by throwing, as a 500`
  }
  if (typeof code !== 'string' || !CODE.test(code)) return `its code ${JSON.stringify(code)} is not of the form ERR_SOMETHING (capitals, digits, _)`
  if (HOST_CODES.has(code)) return `its code ${code} is one of Islet's own codes, which components cannot answer with; pick a code of your own`
  if (typeof claim.detailsRefused === 'string') return claim.detailsRefused
  const json = claim.details === undefined ? undefined : JSON.stringify(claim.details)
  if (json !== undefined && Buffer.byteLength(json) > CLIENT_DETAILS_BYTES) return `its details are over ${CLIENT_DETAILS_BYTES} bytes of JSON`
  return new ComponentClientError(status, code, message.slice(0, CLIENT_MESSAGE_CHARS), claim.details, details)
}
