// Module type `islet.admin`: GET /admin/status (config generation, modules, components, deploy slots), GET
// /admin/events (server-sent engine events: the bus's `islet.*` topics — config, component and slot changes), the
// deploy-slot routes (slots-routes.ts: /admin/slots/…, /admin/audit) and the MCP endpoint (mcp-route.ts,
// /admin/mcp), and the areas plugins mount through the `admin` service (areas.ts: /admin/queues/…). List it under a
// server's `middleware`; who may use it is decided in access.ts (tokens through `auth:`,
// or the loopback convenience). It reaches the engine through the `status`, `events` and `slots` services, like any
// plugin.
import { defineModuleType, httpAuthenticator, httpMiddleware, moduleRef, type HttpContext, type HttpMiddleware, type MiddlewareProvider } from '@islet/sdk'
import { EventStream, SSE_HEADERS } from './event-stream.ts'
import { adminPrincipal, isRefusal, READ_SCOPES, requireScope } from './access.ts'
import { respondRefusal } from './respond-refusal.ts'
import { createSlotRoutes } from './slots-routes.ts'
import { createExecutionRoutes } from './executions-routes.ts'
import { mcpRoute } from './mcp-route.ts'
import { answerArea } from './areas.ts'

export interface AdminConfig {
  prefix: string
  /** Seconds between SSE comments that keep proxies from closing an idle stream. */
  heartbeatSeconds: number
  /** Grant the loopback convenience to requests that carry proxy headers (dangerous: see PROXY_HEADERS). */
  trustProxyHeaders: boolean
  /** Modules (http.authenticator) that verify admin tokens, in order. */
  auth: string[]
}

export default defineModuleType<AdminConfig, MiddlewareProvider & { stop(): void }>({
  type: 'islet.admin',
  description: 'Admin API on the server it is listed under: /admin/status, /admin/events, the deploy slots (/admin/slots/…, /admin/audit), ' +
    'recorded executions (/admin/executions…), MCP (/admin/mcp) and the areas plugins mount (/admin/queues/…). Tokens through the modules in auth:; ' +
    'without one only a loopback client of a server listening on loopback (no proxy headers).',
  provides: [httpMiddleware],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      prefix: { type: 'string', pattern: '^(/[a-z0-9-]+)+$', default: '/admin' },
      heartbeatSeconds: { type: 'integer', minimum: 1, maximum: 300, default: 15, description: 'seconds between keep-alive comments on /admin/events and slot log streams; a stream\'s credentials are checked again at each (a revoked key ends it)' },
      auth: {
        type: 'array', items: moduleRef('a module that verifies tokens (auth.apikey, auth.jwt)', httpAuthenticator), default: [],
        description: 'authentication modules that verify admin tokens (Authorization: Bearer, X-API-Key), tried in order; a token needs ' +
          'scope admin (everything), admin:read (status, events, reading slots) or a slot\'s deployers scope (that slot). ' +
          'Without a token only the loopback convenience applies',
      },
      trustProxyHeaders: {
        type: 'boolean', default: false,
        description: 'DANGEROUS: grant the no-token loopback convenience to requests forwarded by a reverse proxy (Forwarded, X-Forwarded-For, ' +
          'X-Real-IP, …); behind a proxy on this host it then admits whoever the proxy serves, unless the server\'s trustProxy tells the real client address',
      },
    },
  },
  create(config, ctx) {
    const access = { authenticators: config.auth.map((name) => ctx.module(name, httpAuthenticator)), trustProxyHeaders: config.trustProxyHeaders }
    const status = ctx.service('status')
    const events = ctx.service('events')
    const admin = ctx.service('admin')
    const streams = new Set<EventStream>()
    // A stream's request resolved again at each heartbeat: undefined once its credentials no longer pass.
    const principalAgain = async (http: HttpContext) => {
      const principal = await adminPrincipal(http, access)
      return isRefusal(principal) ? undefined : principal
    }
    const slotRoutes = createSlotRoutes(ctx.service('slots'), { prefix: config.prefix, heartbeatSeconds: config.heartbeatSeconds, streams, principalAgain })
    // The service is looked up on first use: an app that never reads executions asks nothing of it.
    const executionRoutes = createExecutionRoutes(() => ctx.service('executions'), { prefix: config.prefix, heartbeatSeconds: config.heartbeatSeconds, streams, principalAgain })
    const mcp = mcpRoute(config.prefix, () => ctx.service('slots'))
    const stillReads = async (http: HttpContext) => {
      const principal = await principalAgain(http)
      return principal !== undefined && requireScope(principal, READ_SCOPES, 'events') === undefined
    }
    const middleware: HttpMiddleware = async (http, next) => {
      const { method, path } = http.request
      if (!path.startsWith(`${config.prefix}/`)) return next()
      const principal = await adminPrincipal(http, access)
      if (isRefusal(principal)) return respondRefusal(http, principal)
      const read = method === 'GET' && (path === `${config.prefix}/status` || path === `${config.prefix}/events`)
      const forbidden = read ? requireScope(principal, READ_SCOPES, `${method} ${path}`) : undefined
      if (forbidden) return respondRefusal(http, forbidden)
      if (path === mcp.path) return mcp.handle(http, principal)
      if (method === 'GET' && path === `${config.prefix}/status`) {
        return http.respond({ status: 200, body: status.status() })
      }
      if (method === 'GET' && path === `${config.prefix}/events`) {
        // Ends when the client goes away (the server destroys the stream, which returns the iterator) or on stop().
        const stream = new EventStream(() => { clearInterval(heartbeat); unsubscribe(); streams.delete(stream) })
        streams.add(stream)
        // The SSE event name is the topic below islet. (config.reloaded, component.reload-failed, …); the data its payload.
        const unsubscribe = events.subscribe('islet.*', (event) => {
          stream.push(`event: ${event.topic.slice('islet.'.length)}\ndata: ${JSON.stringify(event.payload)}\n\n`)
        })
        // The credentials are checked again at each heartbeat: a key revoked or a token expired since the stream
        // opened ends it, as it would refuse the next request (a stream is a request that does not end by itself).
        const heartbeat = setInterval(() => {
          stream.push(': keep-alive\n\n')
          stillReads(http).then((ok) => { if (!ok) stream.end() }, () => stream.end())
        }, config.heartbeatSeconds * 1000)
        stream.push(': connected\n\n')
        return http.respond({
          status: 200, body: stream,
          headers: { ...SSE_HEADERS },
        })
      }
      if (executionRoutes.answer(http, principal)) return
      if (await slotRoutes.answer(http, principal)) return
      // Areas plugins mounted through the admin service (/admin/queues/…): each handler checks the scope it needs.
      if (await answerArea(http, principal, config.prefix, admin)) return
      return next()
    }
    return {
      middleware,
      // Streams never end on their own: close them so the server's drain does not wait on them.
      stop() { for (const s of streams) s.end() },
    }
  },
})
