// Module type `http.server`: a Koa server composed once from its middleware and routers, listening on start (or
// taking the previous generation's socket over on a reload) and draining in-flight requests on stop.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { defineModuleType, httpMiddleware, httpRouter, moduleRef } from '@islet/sdk'
import type { RequestState } from './contracts.ts'
import { listenerHandover, type ListenerHandover } from './handover.ts'
import { createDispatch } from './dispatch.ts'
import { adaptMiddleware } from './middleware.ts'
import { HttpError } from './errors.ts'
import { createHealth } from './health.ts'
import { createRequestCore } from './request-core.ts'
import { createRequestHandler } from './request-handler.ts'
import { RequestDeadlines } from './request-run.ts'
import { parseSize, SIZE_SCHEMA } from './size.ts'

export interface ServerConfig {
  port: number
  host: string
  bodyLimit: number | string
  requestTimeoutMs: number
  headersTimeoutMs: number
  maxConnections: number
  shutdownTimeoutMs: number
  keepAliveTimeoutMs: number
  requestIdHeader: string
  trustRequestId: boolean
  trustProxy: number
  middleware: string[]
  routers: string[]
}

/** What a started server exposes to other modules and to tests. */
export interface HttpServer {
  /** The bound address; with `port: 0` the port the OS chose. */
  address(): { host: string; port: number }
  /** `http://host:port`, for logs and tests. */
  url(): string
  start(): Promise<void>
  /** Serves this generation's routes from now on: on the socket it bound in start, or taken over from the previous one. */
  commit(): void
  stop(): Promise<void>
}

/** Why a server could not listen, with what to do about it. */
function listenError(server: string, config: ServerConfig, error: NodeJS.ErrnoException): HttpError {
  const where = `${config.host}:${config.port}`
  const details = { server, host: config.host, port: config.port, reason: error.code }
  if (error.code === 'EADDRINUSE') {
    return new HttpError('ERR_HTTP_PORT_IN_USE',
      `port ${config.port} on ${config.host} is already in use; stop what listens there, or give server '${server}' another port (0 picks a free one)`,
      details, error)
  }
  const hint = error.code === 'EACCES' ? '; ports below 1024 need privileges: use a higher port'
    : error.code === 'EADDRNOTAVAIL' ? `; ${config.host} is not an address of this machine: use 127.0.0.1, ::1 or 0.0.0.0`
      : ''
  return new HttpError('ERR_HTTP_LISTEN_FAILED', `server '${server}' cannot listen on ${where}: ${error.message}${hint}`, details, error)
}

export default defineModuleType<ServerConfig, HttpServer>({
  type: 'http.server',
  description: 'A Koa HTTP server: request ids, JSON errors, /healthz and /readyz, the listed middleware, then routers.',
  provides: [listenerHandover],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: '0 picks a free port' },
      host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'address to bind; 0.0.0.0 for all interfaces' },
      bodyLimit: { ...SIZE_SCHEMA, default: '1mb', description: 'largest accepted request body (413 above)' },
      requestTimeoutMs: { type: 'integer', minimum: 1, default: 30_000, description: 'a request whose headers, body and pipeline take longer is answered 503 (headers not complete by then: 408 and the connection closed)' },
      headersTimeoutMs: { type: 'integer', minimum: 1, default: 10_000, description: 'a request whose headers are not complete by then (or by requestTimeoutMs, if shorter) gets 408 and its connection closed: slow-header clients cannot hold connections for long' },
      maxConnections: { type: 'integer', minimum: 1, default: 4_096, description: 'open connections at most; more are closed as they arrive, so many slow clients cannot use up the engine\'s file descriptors' },
      shutdownTimeoutMs: { type: 'integer', minimum: 0, default: 10_000, description: 'how long stop() waits for in-flight requests' },
      keepAliveTimeoutMs: { type: 'integer', minimum: 0, default: 5_000 },
      requestIdHeader: { type: 'string', pattern: '^[A-Za-z0-9-]+$', default: 'x-request-id' },
      trustRequestId: { type: 'boolean', default: true, description: 'reuse a well-formed incoming request id' },
      trustProxy: {
        type: 'integer', minimum: 0, maximum: 16, default: 0,
        description: 'how many reverse proxies stand in front of this server and append to X-Forwarded-For: the client address (rate limits, ' +
          'access log, the admin API) is then the n-th entry from the right. 0 (the safe default): the socket peer, X-Forwarded-For ignored — ' +
          'a larger number than the proxies actually in front lets any client choose its address',
      },
      middleware: { type: 'array', items: moduleRef('a module providing middleware', httpMiddleware), default: [], description: 'applied in order, after request id and health' },
      routers: { type: 'array', items: moduleRef('an http.router module', httpRouter), default: [], description: 'tried in order' },
    },
  },
  async create(config, ctx) {
    // Koa loads when a server is created, not with the declaration: `islet validate` and `islet schema` need only the schema.
    const { default: Koa } = await import('koa')
    const logger = ctx.logger
    const { middleware: core, inFlight } = createRequestCore({
      logger, requestIdHeader: config.requestIdHeader, trustRequestId: config.trustRequestId,
    })
    const deadlines = new RequestDeadlines(config.requestTimeoutMs)
    const app = new Koa<RequestState>()
    app.silent = true // errors are mapped and logged by the request core, not printed by Koa
    // What still reaches Koa failed after the request core had answered (a streamed body that broke mid-way): the
    // response cannot be changed any more, but the failure is logged with its request id.
    app.on('error', (error: unknown, kctx?: { state?: Partial<RequestState> }) => {
      logger.error({ err: error, requestId: kctx?.state?.requestId }, 'the response failed after it was handed to Koa')
    })
    app.use(core)
    app.use(createHealth(ctx.engine, inFlight))
    // The engine checks each entry's type provides the contract (at load, at the YAML; again here at startup).
    for (const name of config.middleware) {
      const provider = ctx.module(name, httpMiddleware)
      app.use(adaptMiddleware(provider.middleware, { requestTimeoutMs: config.requestTimeoutMs, listenHost: config.host, trustProxy: config.trustProxy, name }))
    }
    const routers = config.routers.map((name) => ctx.module(name, httpRouter))
    app.use(createDispatch({ routers, bodyLimit: parseSize(config.bodyLimit), deadlines }))
    const handler = createRequestHandler(app) // composed once per generation, not per request

    let server: Server | undefined
    /** Whether this generation holds the socket: listened on it, or took it over (false once handed to the next). */
    let owns = false
    /** Whether the socket's requests reach `handler`: only from commit on, so nothing of a reload shows before it applies. */
    let serving = false
    /** The previous generation's server, whose socket `commit` takes over. */
    let takeOver: ListenerHandover | undefined
    let stopping: Promise<void> | undefined
    // Before commit a fresh socket answers health checks and 503 for everything else: it is bound (a port in use
    // fails start, not commit), but what it would serve is not applied yet.
    const waiting = new Koa<RequestState>()
    waiting.silent = true
    waiting.use(core)
    waiting.use(createHealth(ctx.engine, inFlight))
    waiting.use(() => { throw new HttpError('ERR_HTTP_NOT_READY', 'the server is starting; retry shortly') })
    const notReady = waiting.callback()

    const self: HttpServer & ListenerHandover = {
      address() {
        if (!server && takeOver) return takeOver.address()
        const a = server?.address() as AddressInfo | null | undefined
        if (!a) throw new HttpError('ERR_HTTP_NOT_LISTENING', `server '${ctx.name}' is not listening (it has not started, or has stopped)`, { server: ctx.name })
        return { host: a.address, port: a.port }
      },
      url() {
        const { host, port } = self.address()
        return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
      },
      async start() {
        // A reload that keeps host and port takes the listening socket over at commit: closing and reopening it would
        // refuse the connections that arrive in between.
        const previous = ctx.previous(listenerHandover)
        if (previous?.holds(config.host, config.port)) {
          takeOver = previous
          return
        }
        // Not an `import` of node:http: its ES module facade evaluates every export, and one of them loads undici
        // (~45 ms), a cost `islet validate` would pay for the declaration alone.
        const { createServer } = process.getBuiltinModule('node:http')
        const s = createServer({ keepAliveTimeout: config.keepAliveTimeoutMs, ...arrivalTimeouts(config), connectionsCheckingInterval: checkEvery(config) }, notReady)
        s.maxConnections = config.maxConnections
        // One of several engine processes under `--balance reuseport`: this process binds its own socket and the
        // kernel spreads connections. Not for port 0, which would give each process a port of its own: that one is
        // listened through the cluster primary, one port for all.
        const reusePort = ctx.engine.process?.balance === 'reuseport' && config.port !== 0
        await new Promise<void>((resolve, reject) => {
          s.once('error', (error: NodeJS.ErrnoException) => reject(listenError(ctx.name, config, error)))
          s.listen({ port: config.port, host: config.host, ...(reusePort ? { reusePort: true } : {}) }, () => resolve())
        })
        server = s
        owns = true
        logger.info({ url: self.url() }, `listening on ${self.url()}`)
      },
      commit() {
        if (takeOver) {
          const adopted = takeOver.release({ host: config.host, port: config.port, handler })
          takeOver = undefined
          if (!adopted) return logger.error(`could not take the socket over from the previous generation of '${ctx.name}'`)
          server = adopted
          owns = true
          adopted.keepAliveTimeout = config.keepAliveTimeoutMs
          Object.assign(adopted, arrivalTimeouts(config), { maxConnections: config.maxConnections })
          serving = true
          logger.info({ url: self.url() }, `took over ${self.url()} from the previous generation`)
          return
        }
        if (!server || serving || !owns) return
        server.removeListener('request', notReady)
        server.on('request', handler)
        serving = true
      },
      holds: (host, port) => Boolean(server) && serving && !stopping && host === config.host && port === config.port,
      release(next) {
        if (!server || !serving || stopping || next.host !== config.host || next.port !== config.port) return undefined
        // One synchronous step: every request from here on, keep-alive connections included, reaches the next app.
        server.removeListener('request', handler)
        server.on('request', next.handler)
        serving = false
        owns = false
        return server
      },
      stop() {
        stopping ??= (async () => {
          takeOver = undefined // a reload rolled back before its commit: the previous generation kept the socket
          if (!server) return
          const s = server
          let closed: Promise<void> | undefined
          // Only the owner closes the socket; a server that handed it over just finishes its own requests.
          if (owns) {
            inFlight.draining = true
            closed = new Promise<void>((resolve) => s.close(() => resolve()))
            s.closeIdleConnections()
          }
          if (inFlight.count > 0) logger.info({ inFlight: inFlight.count }, 'draining in-flight requests')
          let timer: NodeJS.Timeout | undefined
          const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs) })
          const outcome = await Promise.race([inFlight.idle().then(() => 'drained' as const), deadline])
          clearTimeout(timer)
          if (outcome === 'timeout') {
            logger.warn({ inFlight: inFlight.count }, `in-flight requests still running after ${config.shutdownTimeoutMs} ms; aborting them`)
            deadlines.abortAll(new HttpError('ERR_HTTP_SHUTTING_DOWN', 'the server shut down before this request completed'))
            await Promise.race([inFlight.idle(), new Promise((r) => setTimeout(r, 100))])
            if (owns) s.closeAllConnections()
          }
          if (!owns) {
            server = undefined
            logger.info('handed over; in-flight requests drained')
            return
          }
          // Keep-alive sockets that went idle while draining would otherwise hold close() open.
          s.closeIdleConnections()
          // Every request has finished; what is still open is a streaming response (server-sent events) that never
          // ends by itself. A short grace lets streams ended by their own modules close cleanly, then they are cut.
          let grace: NodeJS.Timeout | undefined
          await Promise.race([closed, new Promise((resolve) => { grace = setTimeout(resolve, 250) })])
          clearTimeout(grace)
          s.closeAllConnections()
          await closed
          logger.info('server stopped')
        })()
        return stopping
      },
    }
    return self
  },
})

/**
 * Node's own deadlines for a request's arrival, which act before any middleware can: headers must be complete within
 * `headersTimeoutMs` or `requestTimeoutMs`, whichever is shorter (else Node answers 408 and closes the connection), and the whole request shortly after it (a
 * backstop: the dispatch timer answers a late body first, with the JSON 503). Past arrival, the dispatch timer alone
 * bounds the pipeline's run.
 */
function arrivalTimeouts(config: ServerConfig): { headersTimeout: number; requestTimeout: number } {
  return { headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs), requestTimeout: config.requestTimeoutMs + 1_000 }
}

/** How often Node looks for connections past those deadlines: its default, 30 s, would let a short deadline slip. */
function checkEvery(config: ServerConfig): number {
  return Math.min(30_000, Math.max(100, Math.floor(Math.min(config.headersTimeoutMs, config.requestTimeoutMs) / 4)))
}
