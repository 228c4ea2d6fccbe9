// Write endpoints are rate-limited: a token bucket per principal (per IP without a valid token), refilled at
// `perMinute`, holding at most `burst`. Reads pass untouched. Over the limit: 429 with Retry-After in seconds.
import type { Context, Middleware, Next } from 'koa'
import { RegistryHttpError } from './http-error.ts'
import type { Authenticator } from './principal.ts'

export interface RateLimitOptions {
  perMinute: number
  burst: number
  /** To key by principal; without it (or without a valid token) the key is the client IP. */
  auth?: Pick<Authenticator, 'principal'>
  now?: () => number
  /** Methods that count; default PUT, DELETE, POST, PATCH. */
  methods?: readonly string[]
}

interface Bucket {
  tokens: number
  at: number
}

/** Buckets kept at most; when more, full buckets (clients idle long enough to be back at `burst`) are dropped. */
const MAX_BUCKETS = 10_000

export function rateLimit(options: RateLimitOptions): Middleware {
  if (!(options.perMinute > 0) || !(options.burst >= 1)) throw new RangeError('rateLimit needs perMinute > 0 and burst >= 1')
  const perMs = options.perMinute / 60_000
  const now = options.now ?? (() => Date.now())
  const methods = new Set(options.methods ?? ['PUT', 'DELETE', 'POST', 'PATCH'])
  const buckets = new Map<string, Bucket>()

  function take(key: string): number {
    const at = now()
    const bucket = buckets.get(key) ?? { tokens: options.burst, at }
    // A clock stepped back (NTP, a test's injected clock) must not drain the bucket: no refill, no debt.
    bucket.tokens = Math.min(options.burst, bucket.tokens + Math.max(0, at - bucket.at) * perMs)
    bucket.at = at
    buckets.set(key, bucket)
    if (buckets.size > MAX_BUCKETS) {
      for (const [k, b] of buckets) if (b.tokens + Math.max(0, at - b.at) * perMs >= options.burst) buckets.delete(k)
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil((1 - bucket.tokens) / perMs / 1000)
  }

  return async function limitWrites(ctx: Context, next: Next): Promise<void> {
    if (!methods.has(ctx.method)) return next()
    const who = options.auth ? await options.auth.principal(ctx).catch(() => undefined) : undefined
    const key = who ? `user:${who.user}` : `ip:${ctx.ip}`
    const wait = take(key)
    if (wait > 0) {
      ctx.set('Retry-After', String(wait))
      throw new RegistryHttpError(429, 'ERR_REGISTRY_RATE_LIMITED',
        `too many writes from ${who ? who.user : ctx.ip} (at most ${options.burst} at once, ${options.perMinute} a minute): retry in ${wait} s`)
    }
    return next()
  }
}
