// When http.request tries again and how long it waits: idempotent methods only, transient outcomes only, exponential
// backoff with jitter, and the server's Retry-After when it gives one.
import type { AbortSignalLike } from '@islet/sdk'

/** Methods a server must treat the same when sent twice (RFC 9110 §9.2.2): the only ones retried. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])

/** Statuses that say "not now" rather than "no": timeout, rate limited, and the gateway and overload family. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/**
 * The wait before retry `n` (1-based): `base` doubled per retry up to `cap`, half of it fixed and half random, so
 * clients that failed together do not come back together.
 */
export function backoffMs(n: number, base: number, cap: number, random: () => number = Math.random): number {
  const full = Math.min(cap, base * 2 ** (n - 1))
  return Math.round(full / 2 + random() * (full / 2))
}

/** A Retry-After header (delay-seconds or an HTTP-date) in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP-date names its day and month; Date.parse alone would take '-1' for a year.
  const at = /^[a-z]{3}/i.test(text) ? Date.parse(text) : Number.NaN
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignalLike): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => { clearTimeout(timer); reject(signal.reason) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
