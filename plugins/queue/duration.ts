// Durations in queue config: milliseconds as an integer, or text with a unit (`250ms`, `30s`, `5m`, `2h`, `7d`).
import type { ConfigProblem, JsonSchema } from '@islet/sdk'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$'

export type Duration = number | string

/**
 * The schema of a duration property. The integer form is bounded here; the text form, which a schema cannot bound,
 * by `durationProblems` (the module type's check), so both are refused when the config loads.
 */
export function durationSchema(description: string, defaultValue: Duration, minimumMs = 0, maximumMs?: number): JsonSchema {
  return {
    description: `${description} (milliseconds, or text such as 500ms, 30s, 5m, 2h, 7d)`,
    anyOf: [{ type: 'integer', minimum: minimumMs, ...(maximumMs === undefined ? {} : { maximum: maximumMs }) }, { type: 'string', pattern: DURATION_PATTERN }],
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

/** Text durations in `config` outside the bounds `schema` gives their integer form (found by walking its properties). */
export function durationProblems(schema: JsonSchema, config: unknown, path: string[] = []): ConfigProblem[] {
  const properties = (schema as { properties?: Record<string, JsonSchema> }).properties
  if (!properties || typeof config !== 'object' || config === null) return []
  const problems: ConfigProblem[] = []
  for (const [key, property] of Object.entries(properties)) {
    const value = (config as Record<string, unknown>)[key]
    const bounds = durationBounds(property)
    if (bounds && typeof value === 'string') {
      const ms = toMs(value)
      if (ms < bounds.minimum) problems.push({ path: [...path, key], message: `${key} is ${value.trim()} (${ms} ms); it must be at least ${bounds.minimum} ms`, hint: `give ${bounds.minimum}ms or more` })
      else if (bounds.maximum !== undefined && ms > bounds.maximum) {
        problems.push({ path: [...path, key], message: `${key} is ${value.trim()} (${ms} ms); it must be at most ${bounds.maximum} ms (${spoken(bounds.maximum)})`, hint: `give ${below(bounds.maximum)} or less` })
      }
    } else {
      problems.push(...durationProblems(property, value, [...path, key]))
    }
  }
  return problems
}

function durationBounds(schema: JsonSchema): { minimum: number; maximum?: number } | undefined {
  const [integer, text] = ((schema as { anyOf?: JsonSchema[] }).anyOf ?? []) as { type?: string; pattern?: string; minimum?: number; maximum?: number }[]
  if (integer?.type !== 'integer' || text?.pattern !== DURATION_PATTERN) return undefined
  return { minimum: integer.minimum ?? 0, ...(integer.maximum === undefined ? {} : { maximum: integer.maximum }) }
}

/** The bound as text in its largest whole unit, rounded down (2147483647 → 24d). */
function below(ms: number): string {
  const [unit, size] = Object.entries(UNITS).reverse().find(([, n]) => ms >= n) ?? ['ms', 1]
  return `${Math.floor(ms / size)}${unit}`
}

function spoken(ms: number): string {
  if (ms >= UNITS.d!) return `about ${(ms / UNITS.d!).toFixed(1)} days`
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}
