// The outermost middleware of every server: request id, per-request logger, in-flight tracking for graceful
// drain, and the mapping of any error to the standard JSON error body.
import { randomUUID } from 'node:crypto'
import type { Context, Middleware } from 'koa'
import type { Logger } from '@islet/sdk'
import type { RequestState } from './contracts.ts'
import { toErrorResponse } from './errors.ts'
import { answerJson, isObjectBody } from './respond-json.ts'

/** Incoming ids are echoed only when they look like ids, so a header cannot inject into logs. */
const VALID_ID = /^[\w.:-]{1,128}$/

/** Request state with a logger created on first use: most requests on the hot path never log. */
class LazyRequestState implements RequestState {
  readonly requestId: string
  /** Set by middleware (see middleware.ts); declared here so every request's state has one shape. */
  locals: Record<string, unknown> | undefined = undefined
  http: unknown = undefined
  #base: Logger
  #logger?: Logger
  constructor(requestId: string, base: Logger) {
    this.requestId = requestId
    this.#base = base
  }
  get logger(): Logger {
    return (this.#logger ??= this.#base.child({ requestId: this.requestId }))
  }
}

export interface InFlight {
  /** Requests currently being handled. */
  readonly count: number
  /** Resolves once no request is in flight. */
  idle(): Promise<void>
  /** Set while draining: responses ask clients to close their connection. */
  draining: boolean
}

export interface RequestCoreOptions {
  logger: Logger
  requestIdHeader: string
  trustRequestId: boolean
}

export function createRequestCore(options: RequestCoreOptions): { middleware: Middleware<RequestState>; inFlight: InFlight } {
  const { logger, requestIdHeader, trustRequestId } = options
  // Node lower-cases incoming header names: read the header straight from them (Koa's get() lower-cases per call).
  const incomingHeader = requestIdHeader.toLowerCase()
  let count = 0
  let waiters: (() => void)[] = []
  const inFlight: InFlight = {
    get count() { return count },
    draining: false,
    idle: () => (count === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  }

  const middleware: Middleware<RequestState> = async (kctx, next) => {
    const incoming = trustRequestId ? kctx.req.headers[incomingHeader] : undefined
    const requestId = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID()
    // Straight to Node's response: what Koa's set() adds (arrays, String()) these plain strings do not need.
    const res = kctx.res
    res.setHeader(requestIdHeader, requestId)
    kctx.state = new LazyRequestState(requestId, logger)
    count++
    if (inFlight.draining) res.setHeader('Connection', 'close')
    try {
      try {
        await next()
        serialise(kctx)
      } catch (error) {
        try {
          answerError(kctx, error, requestId)
        } catch (failure) {
          // Even mapping the error failed (a logger that threw): the caller still gets the JSON shape.
          kctx.status = 500
          kctx.type = 'application/json'
          kctx.body = JSON.stringify({ error: { code: 'ERR_INTERNAL', message: `internal error (request id ${requestId})`, requestId } })
          try { logger.error({ err: failure, requestId }, 'answering an error failed') } catch { /* nothing left to tell */ }
        }
      }
    } finally {
      if (--count === 0 && waiters.length > 0) {
        const done = waiters
        waiters = []
        done.forEach((resolve) => resolve())
      }
    }
  }
  return { middleware, inFlight }
}

/** An object body another middleware set (health, a middleware's answer, an error) as its JSON text: see respond-json.ts. */
function serialise(kctx: Context): void {
  const body: unknown = kctx.body
  if (isObjectBody(body)) answerJson(kctx, body)
}

/** The standard JSON error answer; if even that cannot be serialised (hostile details), the same without details. */
function answerError(kctx: Context, error: unknown, requestId: string): void {
  const { status, body } = toErrorResponse(error, requestId, kctx.state.logger)
  kctx.status = status
  kctx.body = body
  const allow = (error as { details?: { allowed?: string[] } }).details?.allowed
  if (status === 405 && Array.isArray(allow)) kctx.set('Allow', allow.join(', '))
  try {
    serialise(kctx)
  } catch (unserialisable) {
    kctx.state.logger.error({ err: unserialisable }, 'the error response could not be serialised; answered without its details')
    kctx.body = JSON.stringify({ error: { code: body.error.code, message: body.error.message, requestId } })
  }
}
