// The server's request listener: Koa's app, context and middleware, run without Koa's per-request `handleRequest`.
// That one attaches `onFinished` to every response (listeners on the response and its socket, plus an async-resource
// wrapper), which only serves a body still being written after the pipeline returned: a stream. The request core
// has answered every error by then and a string or Buffer body is handed to Node in one `end`, so only a stream
// body is watched here, by the pipeline that writes it (as Koa's own respond does). The respond below keeps Koa's
// semantics byte for byte (koa/lib/application.js `respond`, Koa 3): respond=false, 204/205/304, HEAD, null bodies,
// strings, Buffers, streams, Blob/ReadableStream/Response and JSON.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable, Stream, pipeline } from 'node:stream'
import type Koa from 'koa'
import type { Context, Middleware } from 'koa'
import type { RequestState } from './contracts.ts'

/** Statuses whose responses carry no body (Koa's `statuses.empty`). */
const EMPTY = new Set([204, 205, 304])

type KoaApp = Koa<RequestState> & {
  compose(middleware: Middleware<RequestState>[]): (kctx: Context) => Promise<void>
  ctxStorage?: unknown
}

/** A `(req, res)` listener for `app`, its middleware composed once (per generation), as `app.callback()` would. */
export function createRequestHandler(app: Koa<RequestState>): (req: IncomingMessage, res: ServerResponse) => void {
  const koa = app as KoaApp
  // Koa's asyncLocalStorage option wraps each request in its own store: leave that to Koa's callback.
  if (koa.ctxStorage) return app.callback()
  if (!app.listenerCount('error')) app.on('error', app.onerror.bind(app))
  const run = koa.compose(app.middleware)
  return (req, res) => {
    const kctx = app.createContext(req, res) as unknown as Context
    res.statusCode = 404
    run(kctx).then(() => {
      try {
        respond(kctx)
      } catch (error) {
        kctx.onerror(error as Error)
      }
    }, (error: unknown) => kctx.onerror(error as Error))
  }
}

/** Koa's respond, with a stream body's errors reported to `ctx.onerror` by the pipeline writing it. */
function respond(kctx: Context): void {
  if (kctx.respond === false) return
  const res = kctx.res
  if (!kctx.writable) {
    res.end()
    return
  }
  let body: unknown = kctx.body
  const code = kctx.status
  if (EMPTY.has(code)) {
    kctx.body = null // strips Content-Type, Content-Length and Transfer-Encoding
    res.end()
    return
  }
  if (kctx.method === 'HEAD') {
    if (!res.headersSent && !res.hasHeader('Content-Length')) {
      const { length } = kctx.response
      if (Number.isInteger(length)) kctx.length = length
    }
    res.end()
    return
  }
  if (body === null || body === undefined) {
    if ((kctx.response as { _explicitNullBody?: boolean })._explicitNullBody) {
      kctx.response.remove('Content-Type')
      kctx.response.remove('Transfer-Encoding')
      kctx.length = 0
      res.end()
      return
    }
    const text = kctx.req.httpVersionMajor >= 2 ? String(code) : (kctx.message || String(code))
    if (!res.headersSent) {
      kctx.type = 'text'
      kctx.length = Buffer.byteLength(text)
    }
    res.end(text)
    return
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(body)
    return
  }
  let stream: Readable | null = null
  if (body instanceof Blob) stream = Readable.from(body.stream())
  else if (body instanceof ReadableStream) stream = Readable.from(body)
  else if (body instanceof Response) stream = Readable.from(body.body ?? '')
  else if (isStream(body)) stream = body
  if (stream) {
    pipeline(stream, res, (error) => {
      if (error && kctx.app.listenerCount('error')) kctx.onerror(error)
    })
    return
  }
  body = JSON.stringify(body)
  if (!res.headersSent) kctx.length = Buffer.byteLength(body as string)
  res.end(body)
}

/** Koa's is-stream test: a Node stream, or an object shaped like a readable one. */
function isStream(body: unknown): body is Readable {
  if (body instanceof Stream) return true
  if (body === null || typeof body !== 'object') return false
  const s = body as Record<string, unknown>
  return !!s.readable && typeof s.pipe === 'function' && typeof s.read === 'function' &&
    typeof s.readable === 'boolean' && typeof s.readableObjectMode === 'boolean' &&
    typeof s.destroy === 'function' && typeof s.destroyed === 'boolean'
}
