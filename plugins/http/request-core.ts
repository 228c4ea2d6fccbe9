// The outermost middleware of every server: request id, per-request logger, in-flight tracking for graceful
// drain, and the mapping of any error to the standard JSON error body.
import { randomUUID } from 'node:crypto'
import type { Context, Middleware } from 'koa'
import type { Logger } from '@islet/sdk'
import type { RequestState } from './contracts.ts'
import { HttpError, toErrorResponse } from './errors.ts'

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
  let count = 0
  let waiters: (() => void)[] = []
  const inFlight: InFlight = {
    get count() { return count },
    draining: false,
    idle: () => (count === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  }

  const middleware: Middleware<RequestState> = async (kctx, next) => {
    const incoming = trustRequestId ? kctx.get(requestIdHeader) : ''
    const requestId = incoming && VALID_ID.test(incoming) ? incoming : randomUUID()
    kctx.set(requestIdHeader, requestId)
    kctx.state = new LazyRequestState(requestId, logger)
    count++
    if (inFlight.draining) kctx.set('Connection', 'close')
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

/**
 * Turns an object body into its JSON text here, inside the error handling, instead of leaving it to Koa's respond:
 * there a body JSON cannot represent (nested too deep for the stack, a cycle, a BigInt) throws past every middleware
 * and Koa answers a plain-text 500 with no request id and no log line.
 */
function serialise(kctx: Context): void {
  const body: unknown = kctx.body
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === 'function') return
  let text: string
  try {
    text = JSON.stringify(body)
  } catch (error) {
    throw new HttpError('ERR_HTTP_RESPONSE_UNSERIALISABLE',
      `the response body could not be turned into JSON; the server log has details under request id ${kctx.state.requestId}`,
      undefined, error)
  }
  // Koa keeps the JSON content type its object body set (or the one a respond step chose).
  kctx.body = text
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
