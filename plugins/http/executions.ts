// Module type `http.executions`: the app-facing face of recorded executions, a router a server lists under `routers`
// behind the app's own auth (admins have /admin/executions). GET <prefix>/:id (the record), GET <prefix>/:id/events
// (server-sent events: the recorded ones, then live ones, ending with the execution), POST <prefix>/:id/cancel. Its
// prefix is also where an `execution: async` route's 202 points (the router names this module in `executions:`).
import { PassThrough } from 'node:stream'
import {
  defineContract, defineModuleType, httpRouter, pipelineRef, StepError, isRecord, type CodedError, type Execution, type ExecutionEvent, type ExecutionsService,
  type Pipeline, type PipelineResponse, type RouteMatch, type RouterProvider, type RunInput,
} from '@islet/sdk'

export interface ExecutionsRouterConfig {
  prefix: string
  requires?: string[]
  pipelines?: string[]
  heartbeatSeconds: number
}

/** Where an execution's record, events and cancellation are served (what an async route's 202 links to). */
export interface ExecutionLinks {
  self: string
  events: string
  cancel: string
}

/** What an `execution: async` route needs of the http.executions module its router names. */
export interface ExecutionsRouter {
  links(id: string): ExecutionLinks
}

export const httpExecutions = defineContract<ExecutionsRouter>('http.executions', { links: 'function' },
  'serves recorded executions over HTTP (the links an execution: async route answers with)')

/** What an id looks like (the service makes `ex_<base36 time><hex>`): anything else is 404 before the store is asked. */
const ID = /^ex_[a-z0-9]{1,40}$/

const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' }

export default defineModuleType<ExecutionsRouterConfig, RouterProvider & ExecutionsRouter & { stop(): void }>({
  type: 'http.executions',
  description: 'Serves recorded executions to the app\'s clients: GET <prefix>/:id, GET <prefix>/:id/events (SSE), POST <prefix>/:id/cancel. ' +
    'List it under a server\'s `routers`, behind the app\'s auth.',
  provides: [httpRouter, httpExecutions],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      prefix: { type: 'string', default: '/executions', pattern: '^(/[^/\\s:]+)+$', description: 'where executions are served, e.g. /executions' },
      requires: {
        type: 'array', uniqueItems: true, maxItems: 32,
        items: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
        description: 'scopes the caller must all hold, as a route\'s requires: (401 without a principal, 403 without a scope)',
      },
      pipelines: {
        type: 'array', uniqueItems: true, items: pipelineRef('a pipeline whose executions this router serves'),
        description: 'serve only executions of these pipelines (others answer 404); default: every recorded execution',
      },
      heartbeatSeconds: { type: 'integer', minimum: 1, maximum: 300, default: 15, description: 'seconds between keep-alive comments on an events stream' },
    },
  },
  create(config, ctx) {
    const executions: ExecutionsService = ctx.service('executions')
    const { prefix } = config
    const requires = config.requires?.length ? Object.freeze([...config.requires]) : undefined
    const served = config.pipelines?.length ? new Set(config.pipelines) : undefined
    const streams = new Set<PassThrough>()

    /** The execution, or 404 when it is unknown or of a pipeline this router does not serve. */
    function visible(id: string): Execution {
      if (!ID.test(id)) throw notFound(id)
      let execution: Execution
      try {
        execution = executions.get(id)
      } catch (error) {
        throw refusal(error, id)
      }
      if (served && !served.has(execution.pipeline)) throw notFound(id)
      return execution
    }

    const record: Pipeline = { name: `${ctx.name}:get`, run: (input) => answer(() => ({ status: 200, headers: {}, body: visible(idOf(input)) })) }
    const cancel: Pipeline = {
      name: `${ctx.name}:cancel`,
      run: (input) => answer(() => {
        const id = idOf(input)
        visible(id)
        try {
          return { status: 200, headers: {}, body: executions.cancel(id) }
        } catch (error) {
          throw refusal(error, id)
        }
      }),
    }
    const events: Pipeline = { name: `${ctx.name}:events`, run: (input) => answer(() => stream(input)) }

    /** The recorded events, then the live ones, as SSE; the stream ends after the execution's last event. */
    function stream(input: RunInput): PipelineResponse {
      const id = idOf(input)
      visible(id)
      const headers = (input.view?.headers ?? {}) as Record<string, string | string[] | undefined>
      const lastEventId = headers['last-event-id']
      const after = typeof lastEventId === 'string' && /^\d{1,9}$/.test(lastEventId) ? Number(lastEventId) : 0
      const body = new PassThrough()
      let unfollow = () => {}
      let heartbeat: ReturnType<typeof setInterval> | undefined
      const end = () => { clearInterval(heartbeat); unfollow(); streams.delete(body); if (!body.writableEnded) body.end() }
      // The client went away (the server destroys the body) or the execution ended.
      body.once('close', end)
      streams.add(body)
      body.write(': connected\n\n')
      const send = (event: ExecutionEvent) => body.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
      try {
        unfollow = executions.follow(id, send, end, after)
      } catch (error) {
        end()
        throw refusal(error, id)
      }
      // An execution that ended already was replayed whole and the stream ended: nothing to keep alive.
      if (!body.writableEnded) heartbeat = setInterval(() => body.write(': keep-alive\n\n'), config.heartbeatSeconds * 1000)
      return { status: 200, headers: { ...SSE_HEADERS }, body }
    }

    function match(method: string, path: string): RouteMatch | { allowed: string[] } | undefined {
      if (!path.startsWith(`${prefix}/`)) return undefined
      const segments = path.slice(prefix.length + 1).split('/')
      if (segments.length > 1 && segments.at(-1) === '') segments.pop() // a trailing slash
      const [id, action, ...rest] = segments
      if (!id || rest.length > 0) return undefined
      const route = action === undefined ? { GET: record } : action === 'events' ? { GET: events } : action === 'cancel' ? { POST: cancel } : undefined
      if (!route) return undefined
      const pipeline = route[method as keyof typeof route] as Pipeline | undefined
      if (!pipeline) return { allowed: Object.keys(route) }
      return { pipeline, params: { id }, ...(requires ? { requires } : {}) }
    }

    return {
      match,
      links: (id: string) => ({ self: `${prefix}/${id}`, events: `${prefix}/${id}/events`, cancel: `${prefix}/${id}/cancel` }),
      // Streams end with their execution, or here: the server's drain must not wait on them.
      stop() { for (const s of streams) s.end() },
    }
  },
})

function idOf(input: RunInput): string {
  const view = input.view
  const params = isRecord(view) && isRecord(view.params) ? view.params : {}
  return typeof params.id === 'string' ? params.id : ''
}

function answer(work: () => PipelineResponse): Promise<PipelineResponse> {
  try {
    return Promise.resolve(work())
  } catch (error) {
    return Promise.reject(error)
  }
}

/** The service's refusal as the StepError the server answers with (its details.status), never a 500 for a bad id. */
const notFound = (id: string) => new StepError({ status: 404, code: 'ERR_EXECUTION_UNKNOWN', message: `no execution '${id.slice(0, 60)}' is recorded here`, details: { execution: id.slice(0, 60) } })

function refusal(error: unknown, id: string): unknown {
  const coded = error as Partial<CodedError> & { details?: Record<string, unknown> }
  const status = coded.details?.status
  if (typeof status !== 'number' || typeof coded.code !== 'string') return error
  if (coded.code === 'ERR_EXECUTION_UNKNOWN') return notFound(id)
  const message = String(coded.message)
  return new StepError({ status, code: coded.code, message, details: { execution: id.slice(0, 60) } })
}
