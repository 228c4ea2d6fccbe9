// How long recorded executions are kept, from the environment: an operator's choice per deployment (the data
// directory's size), not the app's, so it is not in the YAML. Bad values fail the start with what to write instead.
import { IsletError } from '../errors.ts'
import type { RetentionOptions } from './service.ts'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * ISLET_EXECUTIONS_MAX_AGE (`7d`, `12h`, `30m`), ISLET_EXECUTIONS_MAX_COUNT, ISLET_EXECUTIONS_OUTPUT_LIMIT (bytes),
 * ISLET_EXECUTIONS_PRUNE_EVERY (a duration: how often the background pruning runs).
 */
export function retentionFromEnv(env: Record<string, string | undefined>): Partial<RetentionOptions> {
  const out: Partial<RetentionOptions> = {}
  const age = duration(env, 'ISLET_EXECUTIONS_MAX_AGE')
  if (age !== undefined) out.maxAgeMs = age
  const every = duration(env, 'ISLET_EXECUTIONS_PRUNE_EVERY')
  if (every !== undefined) out.pruneEveryMs = Math.max(every, 10)
  const count = integer(env, 'ISLET_EXECUTIONS_MAX_COUNT')
  if (count !== undefined) out.maxCount = count
  const limit = integer(env, 'ISLET_EXECUTIONS_OUTPUT_LIMIT')
  if (limit !== undefined) out.outputLimitBytes = limit
  return out
}

function duration(env: Record<string, string | undefined>, name: string): number | undefined {
  const value = env[name]
  if (value === undefined || value === '') return undefined
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(value)
  if (!m) throw bad(name, value, 'a duration such as 7d, 12h, 30m or 500ms')
  return Number(m[1]) * UNITS[m[2]!]!
}

function integer(env: Record<string, string | undefined>, name: string): number | undefined {
  const value = env[name]
  if (value === undefined || value === '') return undefined
  if (!/^\d{1,12}$/.test(value)) throw bad(name, value, 'a whole number')
  return Number(value)
}

const bad = (name: string, value: string, want: string) =>
  new IsletError('ERR_EXECUTION_RETENTION', `${name} is '${value.slice(0, 40)}'; give ${want}`, { details: { variable: name } })
