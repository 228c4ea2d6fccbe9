// What a caller is told when a value does not match a schema: a JSON Pointer into the value ('' is the value itself)
// and what is wrong there. The `validate` step's 400 answer and a component's input, output and config mismatches
// (ERR_COMPONENT_INPUT_INVALID, …) are both made here, so a client sees one shape whichever checked its value.
// (Operator config gets runtime/config/schema-errors.ts instead: located at file:line:col, with hints.)
import type { ErrorObject } from 'ajv'

/** One mismatch: a JSON Pointer into the value and what is wrong there. */
export interface ValidationProblem {
  path: string
  message: string
  /** For query and route parameters (the validate step): the parameter's name and what the caller sent. */
  parameter?: string
  got?: string
}

/** A value failing a hostile schema can fail it thousands of times over; the answer stays small. */
export const MAX_PROBLEMS = 20

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')

/**
 * The first `max` errors as problems. A missing and an unexpected property are reported at the property's own path,
 * which is where callers look.
 */
export function problemsOf(errors: readonly ErrorObject[] | null | undefined, max = MAX_PROBLEMS): ValidationProblem[] {
  return (errors ?? []).slice(0, max).map(problemOf)
}

export function problemOf(error: ErrorObject): ValidationProblem {
  if (error.keyword === 'required') {
    return { path: `${error.instancePath}/${escape(String(error.params.missingProperty))}`, message: 'is required' }
  }
  if (error.keyword === 'additionalProperties') {
    return { path: `${error.instancePath}/${escape(String(error.params.additionalProperty))}`, message: 'is not allowed' }
  }
  return { path: error.instancePath, message: error.message ?? `fails '${error.keyword}'` }
}
