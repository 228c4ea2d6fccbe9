// Module type `islet.admin`: GET /admin/status (config generation, modules, components) and GET /admin/events
// (server-sent engine events: the bus's `islet.*` topics, i.e. config and component reloads). List it under a
// server's `middleware`; it answers loopback peers only. It reaches the engine through the `status` and `events`
// services, like any plugin.
import { PassThrough } from 'node:stream'
import type { Middleware } from 'koa'
import { defineModuleType, httpMiddleware } from '@islet/sdk'
import { isLoopback } from './loopback.ts'

export interface AdminConfig {
  prefix: string
  /** Seconds between SSE comments that keep proxies from closing an idle stream. */
  heartbeatSeconds: number
  /** Answer requests that carry proxy headers (dangerous: see PROXY_HEADERS). */
  trustProxyHeaders: boolean
}

/**
 * Headers a reverse proxy adds when it forwards a request. The loopback check sees the socket's peer, which behind a
 * proxy on this host is the proxy itself: a request carrying one of these came from whoever the proxy serves, so it
 * is refused unless the operator says the proxy only forwards admin traffic from trusted clients.
 */
const PROXY_HEADERS = [
  'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via',
  // What other proxies and CDNs add instead (Envoy, Cloudflare, Akamai, Fastly, and the older conventions).
  'x-envoy-external-address', 'x-original-forwarded-for', 'cf-connecting-ip', 'true-client-ip', 'fastly-client-ip',
  'x-client-ip', 'x-cluster-client-ip',
] as const

export default defineModuleType<AdminConfig, { middleware: Middleware; stop(): void }>({
  type: 'islet.admin',
  description: 'Admin API on the server it is listed under: /admin/status and /admin/events (loopback only).',
  provides: [httpMiddleware],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      prefix: { type: 'string', pattern: '^(/[a-z0-9-]+)+$', default: '/admin' },
      heartbeatSeconds: { type: 'integer', minimum: 1, maximum: 300, default: 15 },
      trustProxyHeaders: {
        type: 'boolean', default: false,
        description: 'DANGEROUS: answer admin requests forwarded by a reverse proxy (Forwarded, X-Forwarded-For, X-Real-IP, …); ' +
          'behind a proxy on this host the loopback check then admits whoever the proxy serves',
      },
    },
  },
  create(config, ctx) {
    const status = ctx.service('status')
    const events = ctx.service('events')
    const streams = new Set<PassThrough>()
    const middleware: Middleware = async (kctx, next) => {
      if (!kctx.path.startsWith(`${config.prefix}/`)) return next()
      if (!isLoopback(kctx.req.socket.remoteAddress)) {
        kctx.status = 403
        kctx.body = { error: { code: 'ERR_ADMIN_FORBIDDEN', message: 'the admin API answers loopback clients only', requestId: kctx.state.requestId } }
        return
      }
      const forwarded = config.trustProxyHeaders ? undefined : PROXY_HEADERS.find((h) => kctx.req.headers[h] !== undefined)
      if (forwarded) {
        kctx.status = 403
        kctx.body = { error: {
          code: 'ERR_ADMIN_PROXIED',
          message: `the admin API refuses requests forwarded by a proxy (this one carries ${forwarded}): behind a proxy the loopback check cannot tell who the client is; ` +
            'reach it directly on loopback, or set trustProxyHeaders: true on the islet.admin module if the proxy admits only trusted clients',
          requestId: kctx.state.requestId,
          details: { header: forwarded },
        } }
        return
      }
      if (kctx.method === 'GET' && kctx.path === `${config.prefix}/status`) {
        kctx.body = status.status()
        return
      }
      if (kctx.method === 'GET' && kctx.path === `${config.prefix}/events`) {
        const stream = new PassThrough()
        streams.add(stream)
        // The SSE event name is the topic below islet. (config.reloaded, component.reload-failed, …); the data its payload.
        const unsubscribe = events.subscribe('islet.*', (event) => {
          stream.write(`event: ${event.topic.slice('islet.'.length)}\ndata: ${JSON.stringify(event.payload)}\n\n`)
        })
        const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), config.heartbeatSeconds * 1000)
        const end = () => { clearInterval(heartbeat); unsubscribe(); streams.delete(stream) }
        stream.once('close', end)
        kctx.req.once('close', () => stream.end())
        kctx.set('Cache-Control', 'no-cache')
        kctx.set('X-Accel-Buffering', 'no')
        kctx.type = 'text/event-stream'
        kctx.body = stream
        stream.write(': connected\n\n')
        return
      }
      return next()
    }
    return {
      middleware,
      // Streams never end on their own: close them so the server's drain does not wait on them.
      stop() { for (const s of streams) s.end() },
    }
  },
})
