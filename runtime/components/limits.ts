// Component limits: documented defaults, set or capped by the app, lowered (never raised) by the component itself.
import type { Limits, LimitName } from '../config/types.ts'
import { LIMIT_NAMES } from '../config/types.ts'

/** The defaults when neither the app nor the component says otherwise (documented in the README). */
export const DEFAULT_LIMITS: Readonly<Record<LimitName, number>> = Object.freeze({
  memoryMb: 64,
  timeoutMs: 1_000,
  cpuMs: 500,
  hostCalls: 100,
  inputBytes: 1_048_576,
  outputBytes: 1_048_576,
})

/**
 * The limits one component runs under: the component's own entry in YAML, else the app-wide `sandbox.limits`,
 * else the default — lowered by what the component declares in `defineComponent({ limits })`, never raised.
 */
export function effectiveLimits(app: Limits, entry: Limits, declared: unknown): Record<LimitName, number> {
  const own = (declared ?? {}) as Record<string, unknown>
  const out = {} as Record<LimitName, number>
  for (const name of LIMIT_NAMES) {
    const allowed = entry[name] ?? app[name] ?? DEFAULT_LIMITS[name]
    const wanted = own[name]
    out[name] = typeof wanted === 'number' && Number.isFinite(wanted) && wanted >= 1 && wanted < allowed ? Math.floor(wanted) : allowed
  }
  return out
}
