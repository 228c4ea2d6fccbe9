import { defineModuleType, definePlugin, httpMiddleware, type MiddlewareProvider } from '@islet/sdk'

const rateLimit = defineModuleType<{ perMinute: number }, MiddlewareProvider>({
  type: 'acme.ratelimit',
  configSchema: { type: 'object', additionalProperties: false, required: ['perMinute'],
                  properties: { perMinute: { type: 'integer', minimum: 1 } } },
  provides: [httpMiddleware],      // so http.server can list it under `middleware:`
  create(config) {                 // config arrives validated, defaulted and frozen
    const buckets = new Map<string, { count: number; resetAt: number }>()
    return {
      async middleware(ctx, next) {
        const client = ctx.request.remoteAddress ?? 'unknown'
        const now = Date.now()
        let bucket = buckets.get(client)
        if (!bucket || bucket.resetAt <= now) buckets.set(client, bucket = { count: 0, resetAt: now + 60_000 })
        bucket.count += 1
        ctx.setHeader('x-ratelimit-remaining', String(Math.max(0, config.perMinute - bucket.count)))
        if (bucket.count > config.perMinute) {
          ctx.setHeader('retry-after', String(Math.ceil((bucket.resetAt - now) / 1000)))
          return ctx.respond({ status: 429, body: { error: { code: 'ERR_RATE_LIMITED', message: 'too many requests' } } })
        }
        await next()
      },
    }
  },
})

export default definePlugin({ name: '@acme/ratelimit', version: '1.0.0', islet: '^0.1.0', moduleTypes: [rateLimit] })
