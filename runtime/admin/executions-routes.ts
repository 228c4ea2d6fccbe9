// The execution routes of the admin API (README "Executions"): list with filters, one execution with its steps, its
// events over server-sent events (the recorded ones, then live ones, ending with the execution), cancel. Reads need
// admin:read or admin, cancelling needs admin. Each is a thin mapping onto the `executions` service.
import { CodedError, type ExecutionEvent, type ExecutionStatus, type ExecutionsService, type HttpContext, type Principal } from '@islet/sdk'
import { ADMIN_SCOPE } from '@islet/sdk'
import { codeOf, IsletError } from '../errors.ts'
import { READ_SCOPES, requireScope } from './access.ts'
import { EventStream, SSE_HEADERS } from './event-stream.ts'
import { badRequest, checkQuery, integer } from './request-input.ts'
import { respondRefusal } from './respond-refusal.ts'

export interface ExecutionRoutesOptions {
  prefix: string
  heartbeatSeconds: number
  /** Open streams, ended by the admin module's stop(). */
  streams: Set<EventStream>
  /** The request's principal resolved again (undefined: refused now), for a stream that outlives its credentials. */
  principalAgain(http: HttpContext): Promise<Principal | undefined>
}

const STATUSES: readonly ExecutionStatus[] = ['running', 'completed', 'failed', 'cancelled', 'interrupted']

const STATUS_OF_CODE: Record<string, number> = { ERR_ADMIN_BAD_REQUEST: 400, ERR_ADMIN_NOT_FOUND: 404 }

export function createExecutionRoutes(executions: () => ExecutionsService, options: ExecutionRoutesOptions) {
  const base = `${options.prefix}/executions`

  function list(http: HttpContext): void {
    const query = checkQuery(http.request.query, ['pipeline', 'status', 'since', 'limit'])
    const status = query.status
    if (status !== undefined && !STATUSES.includes(status as ExecutionStatus)) {
      throw badRequest('status', `status is '${status.slice(0, 40)}'; give one of ${STATUSES.join(', ')}`)
    }
    const since = query.since
    if (since !== undefined && Number.isNaN(Date.parse(since))) {
      throw badRequest('since', `since is '${since.slice(0, 40)}'; give an ISO time, e.g. 2026-12-01T00:00:00Z`)
    }
    const limit = integer(query, 'limit', { min: 1, max: 1000 })
    http.respond({
      status: 200,
      body: executions().list({
        ...(query.pipeline !== undefined ? { pipeline: query.pipeline } : {}), ...(status !== undefined ? { status: status as ExecutionStatus } : {}),
        ...(since !== undefined ? { since: new Date(since).toISOString() } : {}), ...(limit !== undefined ? { limit } : {}),
      }),
    })
  }

  function events(http: HttpContext, id: string): void {
    const query = checkQuery(http.request.query, ['after'])
    const lastEventId = http.request.headers['last-event-id']
    const after = integer(query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER })
      ?? (typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : 0)
    let heartbeat: ReturnType<typeof setInterval> | undefined
    let unfollow = () => {}
    let over = false
    const stream = new EventStream(() => { over = true; clearInterval(heartbeat); unfollow(); options.streams.delete(stream) })
    stream.push(': connected\n\n')
    const send = (event: ExecutionEvent) => stream.push(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
    // follow throws for an unknown id before anything is answered; it ends the stream at once when the execution
    // ended already (the replay is all there is): then there is nothing to keep alive.
    unfollow = executions().follow(id, send, () => stream.end(), after)
    if (!over) {
      options.streams.add(stream)
      // As /admin/events: credentials are checked again at each heartbeat, so a revoked key ends the stream.
      heartbeat = setInterval(() => {
        stream.push(': keep-alive\n\n')
        options.principalAgain(http).then((p) => { if (!p || requireScope(p, READ_SCOPES, 'events')) stream.end() }, () => stream.end())
      }, options.heartbeatSeconds * 1000)
    }
    http.respond({ status: 200, body: stream, headers: { ...SSE_HEADERS } })
  }

  function answerError(http: HttpContext, error: unknown): void {
    const code = codeOf(error, 'ERR_INTERNAL')
    const said = (error as CodedError).details?.status
    const status = typeof said === 'number' ? said : STATUS_OF_CODE[code]
    if (status === undefined || !(error instanceof CodedError)) {
      http.logger.error({ err: error }, 'admin execution route failed')
      return respondRefusal(http, { status: 500, code: 'ERR_INTERNAL', message: `internal error; the server log has details under request id ${http.request.id}` })
    }
    respondRefusal(http, { status, code, message: error.message, details: error.details })
  }

  return {
    /** Answers `http` when its path is under `<prefix>/executions` and returns true; false for any other path. */
    answer(http: HttpContext, principal: Principal): boolean {
      const { path, method } = http.request
      if (path !== base && !path.startsWith(`${base}/`)) return false
      const segments = path === base ? [] : path.slice(base.length + 1).split('/')
      if (segments.length > 0 && segments.at(-1) === '') segments.pop()
      const [id, action, ...rest] = segments
      const route = rest.length > 0 ? undefined
        : id === undefined ? { GET: () => list(http) }
          : action === undefined ? { GET: () => http.respond({ status: 200, body: executions().get(id) }) }
            : action === 'events' ? { GET: () => events(http, id) }
              : action === 'cancel' ? { POST: () => http.respond({ status: 200, body: executions().cancel(id) }) }
                : undefined
      try {
        if (!route) {
          throw new IsletError('ERR_ADMIN_NOT_FOUND', `no admin route ${method} ${path}; the execution routes are ` +
            `GET ${base}?pipeline=&status=&since=&limit=, GET ${base}/:id, GET ${base}/:id/events, POST ${base}/:id/cancel`)
        }
        const handler = route[method as keyof typeof route] as (() => void) | undefined
        if (!handler) {
          const allow = Object.keys(route).join(', ')
          respondRefusal(http, { status: 405, code: 'ERR_ADMIN_METHOD_NOT_ALLOWED', message: `${path} takes ${allow}, not ${method}`, headers: { Allow: allow } })
          return true
        }
        const forbidden = requireScope(principal, method === 'GET' ? READ_SCOPES : [ADMIN_SCOPE], `${method} ${path}`)
        if (forbidden) {
          respondRefusal(http, forbidden)
          return true
        }
        handler()
      } catch (error) {
        answerError(http, error)
      }
      return true
    },
  }
}
