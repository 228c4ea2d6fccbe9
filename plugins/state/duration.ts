// Durations written in YAML (`after: 15m`): a number with a unit, or milliseconds as a number.

export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Milliseconds of `value` (`500ms`, `30s`, `15m`, `2h`, `7d`, or a number of ms); NaN when it is none of those. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value
  const found = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value)
  return found ? Math.round(Number(found[1]) * UNIT_MS[found[2]!]!) : Number.NaN
}

/**
 * The longest state timeout: ten years. Longer is "never" for any app, and a due time must stay a date (a JS Date
 * ends in the year 275760) the store and the routes can show.
 */
export const MAX_TIMEOUT_MS = 3650 * UNIT_MS.d!
