// What a failed item or branch looks like in a step's output: the caller-safe part of its error.
import { isStepError, messageOf } from '@islet/sdk'

/** A failure as data: its code, message and, for a StepError, the status and details it would have answered with. */
export interface FailureRecord {
  code: string
  message: string
  status?: number
  details?: unknown
}

export function failureOf(error: unknown): FailureRecord {
  if (isStepError(error)) {
    return { code: error.code, message: error.message, status: error.status, ...(error.details === undefined ? {} : { details: error.details }) }
  }
  const code = typeof (error as { code?: unknown } | null)?.code === 'string' ? (error as { code: string }).code : 'ERR_STEP_FAILED'
  return { code, message: messageOf(error) }
}

/** A block step's name for messages: `foreach step 'each' of pipeline 'orders'`. */
export function stepLabel(type: string, ctx: { step: string; pipeline: string }): string {
  return `${type} step '${ctx.step}' of pipeline '${ctx.pipeline}'`
}
