// Durations in queue config: milliseconds as an integer, or text with a unit (`250ms`, `30s`, `5m`, `2h`, `7d`).
import type { JsonSchema } from '@islet/sdk'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$'

export type Duration = number | string

/** The schema of a duration property; `minimumMs` bounds the integer form (the text form is checked by `toMs`'s callers). */
export function durationSchema(description: string, defaultValue: Duration, minimumMs = 0): JsonSchema {
  return {
    description: `${description} (milliseconds, or text such as 500ms, 30s, 5m, 2h, 7d)`,
    anyOf: [{ type: 'integer', minimum: minimumMs }, { type: 'string', pattern: DURATION_PATTERN }],
    default: defaultValue,
  }
}

export function toMs(value: Duration): number {
  if (typeof value === 'number') return value
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value)!
  return Math.round(Number(match[1]) * UNITS[match[2]!]!)
}

/** A duration evaluated at run time (the enqueue step's delay): milliseconds, or text; undefined when it is neither. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  return typeof value === 'string' && new RegExp(DURATION_PATTERN).test(value) ? toMs(value) : undefined
}
