// Errors that module types and steps throw to produce a well-formed error response.

/** What a `StepError` needs: the HTTP status it maps to, a stable `ERR_*` code and a message safe to show callers. */
export interface StepErrorOptions {
  status: number
  code: string
  message: string
  /** Extra, JSON-serialisable, caller-safe data (e.g. validation errors). */
  details?: unknown
  cause?: unknown
}

/**
 * Thrown by a step to end its pipeline with an error response `{ error: { code, message, requestId, details } }`.
 * Anything else a step throws becomes a 500 whose message hides internals.
 * @example throw new StepError({ status: 404, code: 'ERR_ORDER_NOT_FOUND', message: `no order ${id}` })
 */
export class StepError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  constructor(options: StepErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'StepError'
    this.status = options.status
    this.code = options.code
    this.details = options.details
  }
}

/** True for a `StepError`, also one created by another copy of the sdk (checks shape, not identity). */
export function isStepError(error: unknown): error is StepError {
  return error instanceof Error && error.name === 'StepError' &&
    typeof (error as StepError).status === 'number' && typeof (error as StepError).code === 'string'
}
