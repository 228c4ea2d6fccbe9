// Cron expressions through croner: 5 fields (minute first) or 6 (seconds first), @nicknames (@daily, @hourly…),
// an IANA time zone. DST (croner's rules, as Vixie cron): a fixed-time job (one value each in seconds, minutes and
// hours, e.g. `30 2 * * *`) whose time falls in the skipped hour runs at the first valid time after the gap, and once
// (at the first occurrence) when its time occurs twice; an interval job (`*/15 * * * *`, `0 1-3 * * *`) skips times in
// the gap and runs on both occurrences of a repeated time. test/schedule-cron.test.ts pins these.
import { Cron } from 'croner'
import type { ConfigProblem } from '@islet/sdk'

const FIELDS = /^\S+(\s+\S+){4,5}$/
const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']
export const CRON_HINT = "5 fields 'minute hour day-of-month month day-of-week' (e.g. '0 2 * * *': every day at 02:00) or 6 with seconds first ('*/10 * * * * *'), or @hourly, @daily, @weekly, @monthly, @yearly"

/** A compiled expression in its time zone. */
export interface Schedule {
  /** The first run strictly after `after` (epoch ms), or undefined when there is none. */
  next(after: number): number | undefined
  /** The latest run at or before `at`, or undefined. */
  latest(at: number): number | undefined
}

export function compileSchedule(expression: string, timezone: string): Schedule {
  const cron = new Cron(expression, { paused: true, timezone, mode: '5-or-6-parts' })
  return {
    next: (after) => cron.nextRun(new Date(after))?.getTime(),
    latest: (at) => cron.previousRuns(1, new Date(at + 1))[0]?.getTime(),
  }
}

/** Why `expression` in `timezone` cannot schedule anything, located in the job's config; empty when it can. */
export function cronProblems(expression: string, timezone: string, at: (string | number)[], now: number): ConfigProblem[] {
  const trimmed = expression.trim()
  if (!FIELDS.test(trimmed) && !NICKNAMES.includes(trimmed.toLowerCase())) {
    return [{ path: [...at, 'cron'], message: `'${expression.slice(0, 80)}' is not a cron expression`, hint: CRON_HINT }]
  }
  let schedule: Schedule
  try {
    schedule = compileSchedule(trimmed, timezone)
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/^Cron\w*: /, '') : String(error)
    return [{ path: [...at, 'cron'], message: `cron '${expression.slice(0, 80)}': ${why}`, hint: CRON_HINT }]
  }
  if (schedule.next(now) === undefined) {
    return [{ path: [...at, 'cron'], message: `cron '${expression.slice(0, 80)}' never fires (e.g. February 30th)`,
      hint: 'check the day-of-month and month fields' }]
  }
  return []
}

/** Why `timezone` is not an IANA time zone name, or undefined when it is. */
export function timezoneProblem(timezone: string): { message: string; hint: string } | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone })
    return undefined
  } catch {
    return { message: `'${timezone.slice(0, 60)}' is not a time zone`, hint: "use an IANA name such as UTC, Europe/Berlin or America/New_York" }
  }
}
