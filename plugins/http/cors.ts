// Module type `http.cors`: Cross-Origin Resource Sharing via @koa/cors, with an explicit origin allowlist.
import cors from '@koa/cors'
import { defineModuleType, httpMiddleware } from '@islet/sdk'
import type { MiddlewareProvider } from './contracts.ts'
import { HttpError } from './errors.ts'

export interface CorsConfig {
  origins: string[]
  methods: string[]
  allowHeaders?: string[]
  exposeHeaders: string[]
  credentials: boolean
  maxAgeSeconds?: number
}

export default defineModuleType<CorsConfig, MiddlewareProvider>({
  type: 'http.cors',
  description: 'CORS headers and preflight answers. List it under a server\'s `middleware`.',
  provides: [httpMiddleware],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['origins'],
    properties: {
      origins: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(\\*|https?://[^/\\s]+)$' }, description: "allowed origins, or ['*']" },
      methods: { type: 'array', items: { type: 'string' }, default: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'] },
      allowHeaders: { type: 'array', items: { type: 'string' }, description: 'defaults to the headers the preflight asks for' },
      exposeHeaders: { type: 'array', items: { type: 'string' }, default: ['x-request-id'] },
      credentials: { type: 'boolean', default: false },
      maxAgeSeconds: { type: 'integer', minimum: 0 },
    },
  },
  create(config, ctx) {
    const allowed = new Set(config.origins)
    const any = allowed.has('*')
    if (any && config.credentials) {
      throw new HttpError('ERR_HTTP_CONFIG_INVALID',
        `cors '${ctx.name}': origins ['*'] cannot be combined with credentials: true (browsers refuse it); list the origins`,
        { module: ctx.name, property: 'origins' })
    }
    const middleware = cors({
      // Echo the request's origin only when it is on the list; otherwise send no CORS headers at all.
      origin: (kctx) => (any ? '*' : allowed.has(kctx.get('Origin')) ? kctx.get('Origin') : ''),
      allowMethods: config.methods,
      allowHeaders: config.allowHeaders,
      exposeHeaders: config.exposeHeaders,
      credentials: config.credentials,
      maxAge: config.maxAgeSeconds,
    })
    return { middleware } as MiddlewareProvider
  },
})
