// Errors: the coded base every Islet package's catalogue builds on, and StepError for ending a pipeline.

/** What every coded error may carry besides its message. */
export interface CodedErrorOptions {
  /** Structured, JSON-serialisable facts about the failure (names, limits, paths). */
  details?: Record<string, unknown>
  cause?: unknown
}

/**
 * The base of every error with a stable code: each package declares its own catalogue of `ERR_*` codes and
 * narrows `C` to it. Tests and operators match `code`, never message text.
 * @example class GeoError extends CodedError<'ERR_GEO_LOOKUP'> {}
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C
  readonly details: Record<string, unknown>
  constructor(code: C, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.details = options.details ?? {}
  }
}

/** The message of anything thrown, for wrapping foreign errors without losing them. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

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

/**
 * Whether a run that ended with `status` says its input itself is wrong, so running it again cannot help: a 4xx but
 * 408 (timeout) and 429 (too many requests). A queue sends such a job to its dead letters at once; an event
 * subscriber does not retry such a run.
 */
export function isPermanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429
}

/** True for a `StepError`, also one created by another copy of the sdk (checks shape, not identity). */
export function isStepError(error: unknown): error is StepError {
  return error instanceof Error && error.name === 'StepError' &&
    typeof (error as StepError).status === 'number' && typeof (error as StepError).code === 'string'
}
