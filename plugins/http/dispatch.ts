// The innermost middleware: find the route among the server's routers, read the body, run the pipeline under the
// request timeout, and write its response. The run's signal aborts on the timeout, on a shutdown past its deadline,
// and when the client goes away first; steps pass it on (a component invocation is cancelled with it).
import type { Middleware } from 'koa'
import { missingScopes, PRINCIPAL_LOCAL, type HttpRunView, type Principal } from '@islet/sdk'
import type { RequestState, RouterProvider } from './contracts.ts'
import { readBody } from './body.ts'
import { HttpError } from './errors.ts'
import type { RequestDeadlines } from './request-run.ts'
import { answerJson } from './respond-json.ts'
import { HTTP_TRIGGER } from './trigger.ts'

export interface DispatchOptions {
  routers: RouterProvider[]
  bodyLimit: number
  /** Times requests out (requestTimeoutMs); a shutdown past its deadline aborts what is still in it. */
  deadlines: RequestDeadlines
}

export function createDispatch(options: DispatchOptions): Middleware<RequestState> {
  const { routers, bodyLimit, deadlines } = options
  return async (kctx) => {
    let allowed: string[] | undefined
    // Read through Koa's request once (each kctx.x is a delegating getter, then Koa's own).
    const req = kctx.req, method = req.method!, path = kctx.request.path
    for (const router of routers) {
      const match = router.match(method, path)
      if (match === undefined) continue
      if ('allowed' in match) { allowed = [...(allowed ?? []), ...match.allowed]; continue }
      // Before the body is read: a caller who may not use the route does not get to make the server read 1 MB.
      if (match.requires) checkScopes(kctx, match.requires, method, path)

      // The timeout covers the whole request, the body's arrival included: a body trickled a byte at a time must not
      // hold a connection (and the pipeline's run) past it.
      const run = deadlines.start(kctx.state)
      // The connection closed before the response was sent: no one waits for this work any more. The watch ends
      // before the response is written, so a finished response never aborts anything.
      run.watch(req.socket)
      try {
        let body: unknown
        try {
          const reading = readBody(req, match.bodyLimit ?? bodyLimit)
          if (reading !== undefined) body = await run.until(reading)
          // No body to wait for: a request that timed out or lost its client meanwhile still ends here.
          else if (run.aborted) throw run.reason
        } catch (error) {
          // The body never arrived in full: what is left of it would be read as the next request on this
          // connection, so the answer closes it.
          if (!req.complete) kctx.set('Connection', 'close')
          throw error
        }
        // One run of the `http` trigger: the body is its input, and the view keeps the names HTTP pipelines use.
        const id = kctx.state.requestId
        // Koa parses the query string on first read; a URL without one has none to parse (unless middleware already
        // read it: then the pipeline sees the very object middleware saw).
        const query = (req.url!.includes('?') || (kctx.state as { http?: unknown }).http !== undefined ? kctx.query : {}) as HttpRunView['query']
        const view: HttpRunView = { body, params: match.params, query, headers: req.headers, request: { id, method, path } }
        const input = { trigger: HTTP_TRIGGER, id, input: body, meta: { method, path }, locals: kctx.state.locals, view }
        const response = await run.until(match.pipeline.run(input, run))
        kctx.status = response.status
        for (const name in response.headers) kctx.set(name, response.headers[name])
        answerJson(kctx, response.body === undefined ? null : response.body)
      } finally {
        run.unwatch()
        deadlines.finish(run)
      }
      return
    }
    if (allowed) {
      throw new HttpError('ERR_HTTP_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${allowed.join(', ')}`, { allowed })
    }
    throw new HttpError('ERR_HTTP_NOT_FOUND', `no route for ${method} ${path}`)
  }
}

/** The challenge of a 401: the scheme every built-in auth module reads (RFC 6750). */
const CHALLENGE = 'Bearer realm="islet"'

/** Throws 401 when no auth middleware attached a principal, 403 when it lacks one of the route's scopes. */
function checkScopes(kctx: Parameters<Middleware<RequestState>>[0], requires: readonly string[], method: string, path: string): void {
  const principal = kctx.state.locals?.[PRINCIPAL_LOCAL] as Principal | undefined
  if (principal === undefined) {
    kctx.set('WWW-Authenticate', CHALLENGE)
    // Which scopes it takes is not told to an anonymous caller.
    throw new HttpError('ERR_HTTP_UNAUTHENTICATED',
      `${method} ${path} needs an authenticated caller: send credentials, e.g. Authorization: Bearer <token>`)
  }
  const missing = missingScopes(principal, requires)
  if (missing.length > 0) {
    throw new HttpError('ERR_HTTP_FORBIDDEN',
      `${method} ${path} needs scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which '${principal.subject}' (${principal.via}) does not hold`,
      { missing, required: [...requires] })
  }
}
