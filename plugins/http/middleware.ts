// The one adapter between the sdk's Koa-free middleware contract (HttpMiddleware over an HttpContext) and the Koa
// chain http.server composes. One HttpContext per request, made by the first adapted middleware that runs and shared
// by the rest; a server with no middleware never makes one. Locals live on the Koa state, where dispatch reads them.
import { Readable } from 'node:stream'
import type { Context, Middleware, Next } from 'koa'
import type { AbortSignalLike, HttpAnswer, HttpContext, HttpMiddleware, HttpRequestView, HttpSent, Logger } from '@islet/sdk'
import type { RequestState } from './contracts.ts'
import { readBytes } from './body.ts'
import { clientAddressOf } from './client-address.ts'
import { HttpError } from './errors.ts'
import { checkedLocals, jsonProblem } from './locals.ts'

/** Koa state as the adapter extends it. */
interface AdaptedState extends RequestState {
  http?: KoaHttpContext
}

/** An HttpContext over one Koa context; what a middleware does not read is never built. */
class KoaHttpContext implements HttpContext {
  readonly #kctx: Context & { state: AdaptedState }
  readonly #server: ServerView
  #body: Promise<Uint8Array> | undefined
  #request: HttpRequestView | undefined
  #signal: AbortSignal | undefined
  /** Set by respond(): the chain below the middleware that answered does not run. */
  answered = false

  constructor(kctx: Context & { state: AdaptedState }, server: ServerView) {
    this.#kctx = kctx
    this.#server = server
  }

  get request(): HttpRequestView {
    const k = this.#kctx
    const peer = k.req.socket.remoteAddress
    return (this.#request ??= Object.freeze({
      id: k.state.requestId, method: k.method, path: k.path,
      query: k.query as HttpRequestView['query'], headers: k.headers, remoteAddress: peer,
      clientAddress: clientAddressOf(peer, k.req.headers['x-forwarded-for'], this.#server.trustProxy), listenHost: this.#server.listenHost,
      httpVersion: k.req.httpVersion,
    }))
  }

  get logger(): Logger {
    return this.#kctx.state.logger
  }

  get locals(): Record<string, unknown> {
    return (this.#kctx.state.locals ??= checkedLocals())
  }

  /** Aborts when the client goes away before the response is sent, or past the server's request timeout. */
  get signal(): AbortSignalLike {
    if (this.#signal) return this.#signal
    const controller = new AbortController()
    const res = this.#kctx.res
    const { requestTimeoutMs } = this.#server
    const timer = setTimeout(() => controller.abort(new HttpError('ERR_HTTP_REQUEST_TIMEOUT',
      `the request did not complete within ${requestTimeoutMs} ms`)), requestTimeoutMs)
    timer.unref()
    res.once('close', () => {
      clearTimeout(timer)
      if (!res.writableFinished) controller.abort(new HttpError('ERR_HTTP_CLIENT_CLOSED', 'the client closed the connection before the response was sent'))
    })
    return (this.#signal = controller.signal)
  }

  get response(): HttpContext['response'] {
    const k = this.#kctx
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(k.response.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
    }
    return { status: k.status, headers }
  }

  setHeader(name: string, value: string): void {
    this.#kctx.set(name, value)
  }

  readBody(options: { limit: number }): Promise<Uint8Array> {
    return (this.#body ??= readBytes(this.#kctx.req, options.limit))
  }

  respond(answer: HttpAnswer): void {
    const k = this.#kctx
    this.answered = true
    k.status = answer.status
    const body = answer.body
    // A stream (server-sent events): Koa pipes it and destroys it when the response closes, which ends the iterable.
    k.body = body === undefined ? null : isAsyncIterable(body) ? Readable.from(body, { objectMode: false })
      // Koa sends a Buffer as bytes but would serialise any other Uint8Array as JSON.
      : body instanceof Uint8Array && !Buffer.isBuffer(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      : body as never
    for (const name in answer.headers) k.set(name, answer.headers[name]!)
  }

  onFinish(listener: (sent: HttpSent) => void): void {
    const res = this.#kctx.res
    const logger = this.#kctx.state.logger
    res.once('finish', () => {
      // On an emitter's stack a throw is an uncaught exception: one buggy listener would end the engine.
      try {
        listener({ status: res.statusCode, bytes: Number(res.getHeader('content-length') ?? 0) })
      } catch (error) {
        logger.error({ err: error }, 'an onFinish listener of a middleware threw')
      }
    })
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
    && typeof (value as { pipe?: unknown }).pipe !== 'function'
}

/** What of its server's config every request's HttpContext reads. */
export interface ServerView {
  requestTimeoutMs: number
  /** The host the server was configured to listen on. */
  listenHost: string
  /** How many proxies in front of the server to believe about the client's address (see client-address.ts). */
  trustProxy: number
}

/** `middleware` (the module `name`) as a link of the Koa chain. */
export function adaptMiddleware(middleware: HttpMiddleware, options: ServerView & { name?: string }): Middleware<RequestState> {
  const server: ServerView = { requestTimeoutMs: options.requestTimeoutMs, listenHost: options.listenHost, trustProxy: options.trustProxy }
  return (kctx: Context & { state: AdaptedState }, next: Next) => {
    const http = (kctx.state.http ??= new KoaHttpContext(kctx, server))
    return middleware(http, () => {
      if (http.answered) return Promise.resolve()
      // Checked as the request moves on, so the log names the middleware that attached the value.
      const found = kctx.state.locals && jsonProblem(kctx.state.locals, 'locals')
      const problem = found && `${found.at}: ${found.what}`
      if (problem) {
        kctx.state.logger.error({ middleware: options.name, problem },
          `middleware${options.name ? ` '${options.name}'` : ''} attached a value to locals that is not JSON (${problem}): locals hold JSON values`)
        return Promise.reject(new HttpError('ERR_HTTP_LOCALS_INVALID',
          `a middleware attached a value that is not JSON to the request's locals; the server log has details under request id ${kctx.state.requestId}`))
      }
      return next()
    })
  }
}
