// What the core steps make of evaluated templates: response text and HTTP statuses checked at run time.
import { expressionOr, type JsonSchema } from '@islet/sdk'
import { CoreError } from './errors.ts'

/** Text of an evaluated template: strings as they are, null and undefined as '', anything else as JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  return typeof value === 'object' ? JSON.stringify(value) ?? '' : String(value)
}

/**
 * The status a `${{ … }}` evaluated to, when it is an integer in [min, max]. Literal statuses were checked by the
 * config schema; an expression can only be checked per run, and a bad one is the app's bug (a 500), not the caller's.
 */
export function checkStatus(value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
  const shown = typeof value === 'string' ? `'${value}'` : typeof value === 'number' ? String(value) : value === null ? 'null' : typeof value
  throw new CoreError('ERR_CORE_STATUS_INVALID', `status must be an integer from ${min} to ${max}, got ${shown}`, { details: { min, max } })
}

/** The JSON Schema of a status property: a literal integer in range, or an expression. */
export function statusSchema(min: number, max: number, fallback: number, description: string): JsonSchema {
  return { ...expressionOr({ type: 'integer', minimum: min, maximum: max }), default: fallback, description }
}
