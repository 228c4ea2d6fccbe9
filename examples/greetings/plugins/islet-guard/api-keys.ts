// acme.api-keys: HTTP middleware that admits requests carrying a known API key and tells the rest of the request
// who made it (`locals.principal`, which pipelines read as `${{ locals.principal }}`).
import { defineModuleType, httpMiddleware, type MiddlewareProvider } from '@islet/sdk'

interface ApiKeysConfig {
  header: string
  keys: { key: string; principal: string }[]
}

export const apiKeys = defineModuleType<ApiKeysConfig, MiddlewareProvider>({
  type: 'acme.api-keys',
  description: 'Admits requests with a known API key; sets locals.principal to its owner, answers 401 otherwise.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['keys'],
    properties: {
      header: { type: 'string', default: 'x-api-key', pattern: '^[a-z0-9-]+$', description: 'lower-case header name' },
      keys: {
        type: 'array', minItems: 1,
        items: {
          type: 'object', additionalProperties: false, required: ['key', 'principal'],
          properties: { key: { type: 'string', minLength: 16 }, principal: { type: 'string', minLength: 1 } },
        },
      },
    },
  },
  provides: [httpMiddleware],
  create(config) {
    const principals = new Map(config.keys.map((k) => [k.key, k.principal]))
    return {
      async middleware(ctx, next) {
        const key = ctx.request.headers[config.header]
        const principal = typeof key === 'string' ? principals.get(key) : undefined
        if (principal === undefined) {
          return ctx.respond({ status: 401, headers: { 'www-authenticate': 'ApiKey' },
            body: { error: { code: 'ERR_UNAUTHENTICATED', message: `a known API key is required in ${config.header}` } } })
        }
        ctx.locals.principal = principal
        await next()
      },
    }
  },
})
