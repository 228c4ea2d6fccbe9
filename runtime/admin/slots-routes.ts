// The deploy-slot routes of the admin API (README "Deploying into slots"): list and describe slots, deploy (JSON or
// multipart; dry run; stage; promote), promote, roll back, versions, sources, diffs, logs (JSON, or followed over
// server-sent events), invoke, audit. Each is a thin mapping of method + path onto one SlotsService call with the
// request's principal: the service checks scopes and keeps the audit, so this HTTP face and the MCP tools cannot
// differ in what they allow.
import { CodedError, type DeployResult, type HttpContext, type Principal, type SlotLogEntry, type SlotsService } from '@islet/sdk'
import { IsletError, codeOf } from '../errors.ts'
import { EventStream } from './event-stream.ts'
import {
  SMALL_BODY_LIMIT, badRequest, checkQuery, deployRequest, integer, jsonObject, versionId,
} from './request-input.ts'

export interface SlotRoutesOptions {
  prefix: string
  heartbeatSeconds: number
  /** Open log streams, ended by the admin module's stop() so they close cleanly rather than being cut at the server's grace. */
  streams: Set<EventStream>
  /**
   * Who `http` acts as now (its credentials verified again), or undefined when they no longer pass: a log stream
   * checks at each heartbeat, so a key revoked or a token expired since it opened ends it.
   */
  reauthenticate(http: HttpContext): Promise<Principal | undefined>
}

/** What a matched route gets: the request, who asks, and the path's `:slot` and `:id`. */
interface RouteCall {
  http: HttpContext
  principal: Principal
  slot: string
  id: string
}

type Handler = (call: RouteCall) => Promise<void> | void

interface Route {
  /** Path segments below the prefix; `:slot` and `:id` match any one segment. */
  path: readonly string[]
  methods: Partial<Record<'GET' | 'POST', Handler>>
}

/** How a coded error answers when it does not say (details.status); anything uncoded a route throws is a 500. */
const STATUS_OF_CODE: Record<string, number> = {
  ERR_ADMIN_BAD_REQUEST: 400,
  ERR_ADMIN_AUTH_REQUIRED: 401,
  ERR_ADMIN_FORBIDDEN: 403,
  ERR_SLOT_UNKNOWN: 404,
  ERR_SLOT_VERSION_UNKNOWN: 404,
  ERR_ADMIN_NOT_FOUND: 404,
  ERR_SLOT_PROMOTE_FAILED: 409,
  ERR_HTTP_BODY_TOO_LARGE: 413,
  ERR_DEPLOY_FILES: 422,
  ERR_DEPLOY_INVALID: 422,
  ERR_SLOT_EMPTY: 503,
}

/**
 * The slot routes over `slots`. `answer` handles a request whose path is under `<prefix>/slots` or `<prefix>/audit`
 * and returns true; any other path it leaves alone (false).
 */
export function createSlotRoutes(slots: SlotsService, options: SlotRoutesOptions) {
  const { prefix } = options
  const json = (http: HttpContext, status: number, body: unknown) => http.respond({ status, body })
  /** 200 when the deploy, promotion or rollback went through; 422 with the same body when it was refused. */
  const result = (http: HttpContext, r: DeployResult) => json(http, r.ok ? 200 : 422, r)

  const routes: Route[] = [
    { path: ['slots'], methods: { GET: ({ http, principal }) => { checkQuery(http.request.query, []); json(http, 200, slots.list(principal)) } } },
    { path: ['slots', ':slot'], methods: { GET: ({ http, principal, slot }) => { checkQuery(http.request.query, []); json(http, 200, slots.describe(slot, principal)) } } },
    {
      path: ['slots', ':slot', 'versions'],
      methods: {
        GET: ({ http, principal, slot }) => { checkQuery(http.request.query, []); json(http, 200, slots.versions(slot, principal)) },
        POST: async ({ http, principal, slot }) => {
          const query = checkQuery(http.request.query, ['dryRun', 'promote'])
          result(http, await slots.deploy(slot, await deployRequest(http, query), principal))
        },
      },
    },
    {
      path: ['slots', ':slot', 'versions', ':id'],
      methods: { GET: ({ http, principal, slot, id }) => { checkQuery(http.request.query, []); json(http, 200, slots.version(slot, versionId(id, 'the version id in the path'), principal)) } },
    },
    {
      path: ['slots', ':slot', 'versions', ':id', 'source'],
      methods: { GET: ({ http, principal, slot, id }) => { checkQuery(http.request.query, []); json(http, 200, { files: slots.source(slot, versionId(id, 'the version id in the path'), principal) }) } },
    },
    {
      path: ['slots', ':slot', 'versions', ':id', 'promote'],
      methods: {
        POST: async ({ http, principal, slot, id }) => {
          checkQuery(http.request.query, [])
          await jsonObject(http, SMALL_BODY_LIMIT, [], 'no body (the version is in the path)')
          result(http, await slots.promote(slot, versionId(id, 'the version id in the path'), principal))
        },
      },
    },
    {
      path: ['slots', ':slot', 'rollback'],
      methods: {
        POST: async ({ http, principal, slot }) => {
          checkQuery(http.request.query, [])
          const body = await jsonObject(http, SMALL_BODY_LIMIT, ['to'], '{"to": 3} (or no body: the version live before the current one)')
          result(http, await slots.rollback(slot, principal, body.to === undefined ? undefined : versionId(body.to, 'to')))
        },
      },
    },
    {
      path: ['slots', ':slot', 'diff'],
      methods: {
        GET: ({ http, principal, slot }) => {
          const query = checkQuery(http.request.query, ['from', 'to'])
          for (const name of ['from', 'to']) {
            if (query[name] === undefined) throw badRequest(name, `the diff needs ?from=<version id>&to=<version id>; ${name} is missing`)
          }
          const text = slots.diff(slot, versionId(query.from, 'from'), versionId(query.to, 'to'), principal)
          http.respond({ status: 200, body: text, headers: { 'Content-Type': 'text/x-diff; charset=utf-8' } })
        },
      },
    },
    { path: ['slots', ':slot', 'logs'], methods: { GET: (call) => logs(call) } },
    {
      path: ['slots', ':slot', 'invoke'],
      methods: {
        POST: async ({ http, principal, slot }) => {
          checkQuery(http.request.query, [])
          const body = await jsonObject(http, SMALL_BODY_LIMIT, ['input'], '{"input": <the JSON input the component takes>}')
          // The call ran either way: `ok` and `error` in the body tell how it ended (a failing component is not a bad request).
          json(http, 200, await slots.invoke(slot, body.input ?? null, principal))
        },
      },
    },
    {
      path: ['audit'],
      methods: {
        GET: ({ http, principal }) => {
          const query = checkQuery(http.request.query, ['slot', 'limit'])
          const limit = integer(query, 'limit', { min: 1, max: 1000 })
          json(http, 200, slots.audit(principal, { ...(query.slot !== undefined ? { slot: query.slot } : {}), ...(limit !== undefined ? { limit } : {}) }))
        },
      },
    },
  ]

  /** GET …/logs: the ring buffer as JSON, or with `Accept: text/event-stream` / `?follow=1` the same lines and every new one as SSE. */
  function logs({ http, principal, slot }: RouteCall): void {
    const query = checkQuery(http.request.query, ['after', 'limit', 'follow'])
    const accept = http.request.headers.accept
    const follow = query.follow !== undefined ? query.follow !== '0' && query.follow !== 'false'
      : (Array.isArray(accept) ? accept.join(',') : accept ?? '').includes('text/event-stream')
    // An EventSource that reconnects says where it left off.
    const lastEventId = http.request.headers['last-event-id']
    const after = integer(query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER })
      ?? (follow && typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : undefined)
    const limit = integer(query, 'limit', { min: 1, max: 1000 })
    const range = { ...(after !== undefined ? { after } : {}), ...(limit !== undefined ? { limit } : {}) }
    if (!follow) return json(http, 200, slots.logs(slot, principal, range))

    // Subscribed before the backlog is read, so no line falls between the two; a line in both is sent once (by seq).
    let last = after ?? 0
    const send = (entry: SlotLogEntry) => {
      if (entry.seq <= last) return
      last = entry.seq
      stream.push(`id: ${entry.seq}\nevent: log\ndata: ${JSON.stringify(entry)}\n\n`)
    }
    const pending: SlotLogEntry[] = []
    let live = false
    let heartbeat: ReturnType<typeof setInterval> | undefined
    const stream = new EventStream(() => { clearInterval(heartbeat); unsubscribe(); options.streams.delete(stream) })
    // followLogs checks the slot and the principal: it throws before anything is answered.
    const unsubscribe = slots.followLogs(slot, principal, (entry) => { if (live) send(entry); else pending.push(entry) })
    try {
      stream.push(': connected\n\n')
      for (const entry of slots.logs(slot, principal, range)) send(entry)
      for (const entry of pending) send(entry)
      live = true
    } catch (error) {
      unsubscribe()
      throw error
    }
    options.streams.add(stream)
    // A stream is a request that does not end by itself: its credentials and the slot's read scope are checked again
    // at each heartbeat (describe refuses as the next request would), like /admin/events.
    heartbeat = setInterval(() => {
      stream.push(': keep-alive\n\n')
      options.reauthenticate(http)
        .then((again) => { if (!again) stream.end(); else slots.describe(slot, again) })
        .catch(() => stream.end())
    }, options.heartbeatSeconds * 1000)
    http.respond({
      status: 200, body: stream,
      headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
    })
  }

  const refusal = (http: HttpContext, status: number, code: string, message: string, details?: Record<string, unknown>, headers?: Record<string, string>) =>
    http.respond({ status, headers, body: { error: { code, message, requestId: http.request.id, ...(details && Object.keys(details).length ? { details } : {}) } } })

  function answerError(http: HttpContext, error: unknown): void {
    const code = codeOf(error, 'ERR_INTERNAL')
    // The service says which status a refusal is (details.status); an HttpError (a body too large) carries its own.
    const said = [(error as CodedError).details?.status, (error as { status?: unknown }).status]
      .find((s): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 400 && s < 600)
    const status = said ?? STATUS_OF_CODE[code] ?? 500
    if (code === 'ERR_INTERNAL' || !(error instanceof CodedError || error instanceof Error)) {
      http.logger.error({ err: error }, 'admin slot route failed')
      return refusal(http, 500, 'ERR_INTERNAL', `internal error; the server log has details under request id ${http.request.id}`)
    }
    if (status >= 500) http.logger.error({ err: error }, (error as Error).message)
    const details = error instanceof CodedError ? error.details : undefined
    refusal(http, status, code, (error as Error).message, details)
  }

  return {
    /** Answers `http` when its path is a slot route (or under one); false otherwise. */
    async answer(http: HttpContext, principal: Principal): Promise<boolean> {
      const { path, method } = http.request
      const rest = path.slice(prefix.length + 1)
      const top = rest.split('/', 1)[0]
      if (top !== 'slots' && top !== 'audit') return false
      try {
        const segments = rest.split('/')
        if (segments.length > 1 && segments.at(-1) === '') segments.pop() // a trailing slash
        const decoded = segments.map((s) => {
          try { return decodeURIComponent(s) } catch { throw badRequest('path', `the path segment '${s.slice(0, 80)}' has malformed percent-encoding`) }
        })
        const match = routes.find((r) => r.path.length === decoded.length && r.path.every((p, i) => p.startsWith(':') || p === decoded[i]))
        if (!match) {
          throw new IsletError('ERR_ADMIN_NOT_FOUND', `no admin route ${method} ${path}; the slot routes are ${ROUTE_LIST(prefix)}`)
        }
        const handler = match.methods[method as 'GET' | 'POST']
        if (!handler) {
          const allow = Object.keys(match.methods).join(', ')
          refusal(http, 405, 'ERR_ADMIN_METHOD_NOT_ALLOWED', `${path} takes ${allow}, not ${method}`, undefined, { Allow: allow })
          return true
        }
        const slot = decoded[match.path.indexOf(':slot')] ?? ''
        const id = decoded[match.path.indexOf(':id')] ?? ''
        await handler({ http, principal, slot, id })
      } catch (error) {
        answerError(http, error)
      }
      return true
    },
  }
}

const ROUTE_LIST = (p: string) => [
  `GET ${p}/slots`, `GET ${p}/slots/:slot`, `GET|POST ${p}/slots/:slot/versions`, `GET ${p}/slots/:slot/versions/:id`,
  `GET ${p}/slots/:slot/versions/:id/source`, `POST ${p}/slots/:slot/versions/:id/promote`, `POST ${p}/slots/:slot/rollback`,
  `GET ${p}/slots/:slot/diff?from=&to=`, `GET ${p}/slots/:slot/logs`, `POST ${p}/slots/:slot/invoke`, `GET ${p}/audit`,
].join(', ')
