// The innermost middleware: find the route among the server's routers, read the body, run the pipeline under the
// request timeout, and write its response. The run's signal aborts on the timeout, on a shutdown past its deadline,
// and when the client goes away first; steps pass it on (a component invocation is cancelled with it).
import type { Middleware } from 'koa'
import type { HttpRunView } from '@islet/sdk'
import type { RequestState, RouterProvider } from './contracts.ts'
import { readBody } from './body.ts'
import { HttpError } from './errors.ts'
import { HTTP_TRIGGER } from './trigger.ts'

export interface DispatchOptions {
  routers: RouterProvider[]
  bodyLimit: number
  requestTimeoutMs: number
  /** Every in-flight request's controller, so a shutdown past its deadline can abort them. */
  controllers: Set<AbortController>
}

export function createDispatch(options: DispatchOptions): Middleware<RequestState> {
  const { routers, bodyLimit, requestTimeoutMs, controllers } = options
  return async (kctx) => {
    let allowed: string[] | undefined
    for (const router of routers) {
      const match = router.match(kctx.method, kctx.path)
      if (match === undefined) continue
      if ('allowed' in match) { allowed = [...(allowed ?? []), ...match.allowed]; continue }

      // The timeout covers the whole request, the body's arrival included: a body trickled a byte at a time must not
      // hold a connection (and the pipeline's run) past it.
      const controller = new AbortController()
      controllers.add(controller)
      const timer = setTimeout(() => controller.abort(new HttpError('ERR_HTTP_REQUEST_TIMEOUT',
        `the request did not complete within ${requestTimeoutMs} ms`)), requestTimeoutMs)
      // The connection closed before the response was sent: no one waits for this work any more. The listener is
      // removed before the response is written, so a finished response never aborts anything.
      const res = kctx.res
      const clientGone = () => {
        if (res.writableFinished || controller.signal.aborted) return
        kctx.state.logger.debug('the client closed the connection before the response was sent; the request is cancelled')
        controller.abort(new HttpError('ERR_HTTP_CLIENT_CLOSED', 'the client closed the connection before the response was sent'))
      }
      res.once('close', clientGone)
      if (res.closed) clientGone()
      try {
        const reading = readBody(kctx.req, match.bodyLimit ?? bodyLimit)
        reading.catch(() => {}) // settles after the race below when the timeout wins
        const body = await Promise.race([reading, aborted(controller.signal)]).catch((error: unknown) => {
          // The body never arrived in full: what is left of it would be read as the next request on this
          // connection, so the answer closes it.
          if (!kctx.req.complete) kctx.set('Connection', 'close')
          throw error
        })
        // One run of the `http` trigger: the body is its input, and the view keeps the names HTTP pipelines use.
        const id = kctx.state.requestId, method = kctx.method, path = kctx.path
        const view: HttpRunView = { body, params: match.params, query: kctx.query as HttpRunView['query'], headers: kctx.headers, request: { id, method, path } }
        const run = { trigger: HTTP_TRIGGER, id, input: body, meta: { method, path }, locals: kctx.state.locals, view }
        const response = await Promise.race([
          match.pipeline.run(run, { logger: kctx.state.logger, signal: controller.signal }),
          aborted(controller.signal),
        ])
        kctx.status = response.status
        for (const name in response.headers) kctx.set(name, response.headers[name])
        kctx.body = response.body === undefined ? null : response.body
      } finally {
        res.off('close', clientGone)
        clearTimeout(timer)
        controllers.delete(controller)
      }
      return
    }
    if (allowed) {
      throw new HttpError('ERR_HTTP_METHOD_NOT_ALLOWED', `${kctx.method} is not allowed on ${kctx.path}; use ${allowed.join(', ')}`, { allowed })
    }
    throw new HttpError('ERR_HTTP_NOT_FOUND', `no route for ${kctx.method} ${kctx.path}`)
  }
}

/** Rejects with the signal's reason when it aborts; never settles otherwise. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}
