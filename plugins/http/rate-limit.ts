// Module type `http.rate-limit`: a token bucket per caller — its principal when an auth middleware before it attached
// one, else its client address (see http.server `trustProxy`). An empty bucket answers 429 with Retry-After.
import { defineModuleType, httpMiddleware, PRINCIPAL_LOCAL, type HttpMiddleware, type MiddlewareProvider, type Principal } from '@islet/sdk'
import { addressBucket } from './address-bucket.ts'
import { HttpError } from './errors.ts'

export interface RateLimitConfig {
  ratePerSecond: number
  burst?: number
  by: 'principal' | 'address'
  maxKeys: number
  ipv6Prefix: number
}

/** What one request's take from its bucket came to. */
export interface Take {
  allowed: boolean
  /** Whole tokens left after this request. */
  remaining: number
  /** Seconds (ceil) until one token is back: what Retry-After says when refused. */
  retryAfter: number
  /** Seconds (ceil) until the bucket is full again. */
  reset: number
}

export interface TokenBucketOptions {
  ratePerSecond: number
  burst: number
  /** Buckets kept at most; the least recently used goes first. */
  maxKeys: number
  /** Milliseconds on a monotonic clock; tests drive it by hand. */
  now?: () => number
}

interface Bucket { tokens: number; at: number }

/**
 * Token buckets by key, at most `maxKeys` of them: memory stays bounded whatever the number of callers. A bucket
 * dropped for room starts full when its key returns — the price of the bound, paid only by a key idle long enough
 * for `maxKeys` others to come after it.
 */
export class TokenBuckets {
  readonly #rate: number
  readonly #burst: number
  readonly #maxKeys: number
  readonly #now: () => number
  // A Map iterates in insertion order: re-inserting on each use keeps the least recently used first.
  readonly #buckets = new Map<string, Bucket>()

  constructor(options: TokenBucketOptions) {
    this.#rate = options.ratePerSecond
    this.#burst = options.burst
    this.#maxKeys = options.maxKeys
    this.#now = options.now ?? (() => performance.now())
  }

  get size(): number {
    return this.#buckets.size
  }

  /** Takes one token from `key`'s bucket, refilled for the time since its last use. */
  take(key: string): Take {
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket) {
      this.#buckets.delete(key)
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.#rate)
      bucket.at = now
    } else {
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!)
      bucket = { tokens: this.#burst, at: now }
    }
    this.#buckets.set(key, bucket)
    const allowed = bucket.tokens >= 1
    if (allowed) bucket.tokens -= 1
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      retryAfter: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate)),
      reset: Math.ceil((this.#burst - bucket.tokens) / this.#rate),
    }
  }
}

export default defineModuleType<RateLimitConfig, MiddlewareProvider>({
  type: 'http.rate-limit',
  description: 'Limits requests per caller with a token bucket (429 with Retry-After). List it under a server\'s `middleware`, after the auth module when `by: principal`.',
  provides: [httpMiddleware],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['ratePerSecond'],
    properties: {
      ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000, description: 'tokens added to each bucket per second: the sustained rate (0.5 = one request every 2 s)' },
      burst: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'the bucket size: requests a caller may make at once after being idle (default: one second\'s worth, at least 1)' },
      by: {
        enum: ['principal', 'address'], default: 'principal',
        description: 'principal: one bucket per authenticated caller (locals.principal, set by an auth middleware listed before this one), ' +
          'the client address for requests without one; address: one bucket per client address (see http.server trustProxy)',
      },
      ipv6Prefix: {
        type: 'integer', minimum: 32, maximum: 128, default: 64,
        description: 'IPv6 clients share a bucket per prefix of this length: one user holds a whole /64 and can send from any address in it',
      },
      maxKeys: { type: 'integer', minimum: 1, maximum: 10_000_000, default: 10_000, description: 'buckets kept in memory at most; the least recently used is dropped first' },
    },
  },
  create(config) {
    const burst = config.burst ?? Math.max(1, Math.ceil(config.ratePerSecond))
    const buckets = new TokenBuckets({ ratePerSecond: config.ratePerSecond, burst, maxKeys: config.maxKeys })
    const limit = String(burst)
    const middleware: HttpMiddleware = (http, next) => {
      const principal = config.by === 'principal' ? http.locals[PRINCIPAL_LOCAL] as Principal | undefined : undefined
      const key = principal ? `principal\0${principal.via}\0${principal.subject}` : `address\0${addressBucket(http.request.clientAddress, config.ipv6Prefix)}`
      const take = buckets.take(key)
      // The IETF draft's names and the older X- ones many clients still read.
      for (const prefix of ['RateLimit', 'X-RateLimit']) {
        http.setHeader(`${prefix}-Limit`, limit)
        http.setHeader(`${prefix}-Remaining`, String(take.remaining))
        http.setHeader(`${prefix}-Reset`, String(take.reset))
      }
      if (take.allowed) return next()
      http.setHeader('Retry-After', String(take.retryAfter))
      throw new HttpError('ERR_HTTP_RATE_LIMITED', `too many requests: at most ${burst} at once and ${config.ratePerSecond} per second; retry in ${take.retryAfter} s`,
        { retryAfterSeconds: take.retryAfter, limit: burst, ratePerSecond: config.ratePerSecond })
    }
    return { middleware }
  },
})
