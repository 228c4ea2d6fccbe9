// The outermost middleware of every server: request id, per-request logger, in-flight tracking for graceful
// drain, and the mapping of any error to the standard JSON error body.
import { randomUUID } from 'node:crypto'
import type { Middleware } from 'koa'
import type { Logger } from '@islet/sdk'
import type { RequestState } from './contracts.ts'
import { toErrorResponse } from './errors.ts'

/** Incoming ids are echoed only when they look like ids, so a header cannot inject into logs. */
const VALID_ID = /^[\w.:-]{1,128}$/

/** Request state with a logger created on first use: most requests on the hot path never log. */
class LazyRequestState implements RequestState {
  readonly requestId: string
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
      await next()
    } catch (error) {
      const { status, body } = toErrorResponse(error, requestId, kctx.state.logger)
      kctx.status = status
      kctx.body = body
      const allow = (error as { details?: { allowed?: string[] } }).details?.allowed
      if (status === 405 && allow) kctx.set('Allow', allow.join(', '))
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
