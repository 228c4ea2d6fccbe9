// Durations as YAML authors write them: a number of milliseconds, or text with a unit (250ms, 2s, 1.5m, 1h).
import type { RunScope, StepContext } from '@islet/sdk'
import { FlowError } from './errors.ts'

/** The longest wait a flow step accepts: 24 hours (longer waits belong in a schedule or a delayed queue job). */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/

/** JSON Schema of a duration property (a constant, or a ${{ }} expression evaluated per run). */
export function durationSchema(description: string): Record<string, unknown> {
  return {
    description: `${description}: milliseconds, or text such as 250ms, 2s, 1m, 1h (at most 24h); may be a \${{ … }} expression`,
    anyOf: [
      { type: 'integer', minimum: 0, maximum: MAX_DURATION_MS },
      { type: 'string', pattern: '^(\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*|.*\\$\\{\\{.*)$' },
    ],
  }
}

/** Milliseconds of `value`; `what` names the setting in the error. */
export function toMs(value: unknown, what: string): number {
  let ms: number | undefined
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) ms = value
  else if (typeof value === 'string') {
    const match = PATTERN.exec(value)
    if (match) ms = Number(match[1]) * UNITS[match[2]!]!
  }
  if (ms === undefined || ms > MAX_DURATION_MS) {
    throw new FlowError('ERR_FLOW_DURATION', `${what} must be milliseconds or text such as 250ms, 2s, 1m, 1h, at most 24h; got ${JSON.stringify(value) ?? String(value)}`,
      { details: { value } })
  }
  return Math.round(ms)
}

/** A duration setting compiled once: a constant is checked at create; an expression is evaluated and checked per run. */
export function compileDuration(value: unknown, what: string, ctx: Pick<StepContext, 'compile'>): (scope: RunScope) => number {
  if (typeof value !== 'string' || !value.includes('${{')) {
    const ms = toMs(value, what)
    return () => ms
  }
  const template = ctx.compile(value)
  return (scope) => toMs(template(scope), what)
}
