// Module type `http.cors`: Cross-Origin Resource Sharing with an explicit origin allowlist, written against the sdk's
// middleware contract like any third-party middleware.
import { defineModuleType, httpMiddleware, type HttpContext, type HttpMiddleware, type MiddlewareProvider } from '@islet/sdk'
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
    const methods = config.methods.join(',')
    const exposeHeaders = config.exposeHeaders.join(',')
    const allowHeaders = config.allowHeaders?.join(',')
    const middleware: HttpMiddleware = (http, next) => {
      // Caches must keep answers for different origins apart, whether or not this one gets CORS headers.
      vary(http, 'Origin')
      const origin = header(http, 'origin')
      // Echo the request's origin only when it is on the list; otherwise send no CORS headers at all.
      const allow = origin === undefined ? '' : any ? '*' : allowed.has(origin) ? origin : ''
      if (allow === '') return next()
      const preflightFor = http.request.method === 'OPTIONS' ? header(http, 'access-control-request-method') : undefined
      if (preflightFor === undefined) {
        // Set before the rest of the chain runs, so error answers carry them too.
        http.setHeader('Access-Control-Allow-Origin', allow)
        if (config.credentials) http.setHeader('Access-Control-Allow-Credentials', 'true')
        if (exposeHeaders) http.setHeader('Access-Control-Expose-Headers', exposeHeaders)
        return next()
      }
      const headers: Record<string, string> = { 'Access-Control-Allow-Origin': allow, 'Access-Control-Allow-Methods': methods }
      if (config.credentials) headers['Access-Control-Allow-Credentials'] = 'true'
      if (config.maxAgeSeconds !== undefined) headers['Access-Control-Max-Age'] = String(config.maxAgeSeconds)
      const asked = allowHeaders ?? header(http, 'access-control-request-headers')
      if (asked) headers['Access-Control-Allow-Headers'] = asked
      http.respond({ status: 204, headers })
    }
    return { middleware }
  },
})

/** A request header as one string (repeated ones joined), or undefined. */
function header(http: HttpContext, name: string): string | undefined {
  const value = http.request.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Adds `field` to the response's Vary header, keeping what is there. */
function vary(http: HttpContext, field: string): void {
  const current = http.response.headers.vary
  if (!current) return http.setHeader('Vary', field)
  if (current === '*' || current.split(',').some((f) => f.trim().toLowerCase() === field.toLowerCase())) return
  http.setHeader('Vary', `${current}, ${field}`)
}
