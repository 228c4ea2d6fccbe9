// The queue routes of the admin API, mounted through the `admin` service under `<prefix>/queues`: the queues and
// their counts, and each one's dead-letter queue (list, inspect, retry, purge). Reads need admin:read or admin;
// changes need admin. Every queue module mounts the same area; whichever answers serves all the queues of its data
// directory that are started in this engine process, so one stopping leaves the others reachable.
import type { AdminAnswer, AdminRequest, ModuleContext } from '@islet/sdk'
import { QueueError } from './errors.ts'
import type { QueueModule } from './module.ts'

export const QUEUE_AREA = 'queues'
const LIST_LIMIT = 100
const MAX_LIST_LIMIT = 1000

/** The started queue modules, by data directory, then name (a reload's new instance replaces the old one's entry). */
const live = new Map<string, Map<string, QueueModule>>()

/** Registers `queue` as started and mounts the admin area; returns the undo for its stop. */
export function mountQueueAdmin(ctx: ModuleContext, queue: QueueModule): () => void {
  let queues = live.get(ctx.dataDir)
  if (!queues) live.set(ctx.dataDir, queues = new Map())
  queues.set(queue.name, queue)
  const mine = queues
  let unmount: (() => void) | undefined
  try {
    unmount = ctx.service('admin').mount(QUEUE_AREA, (request) => answer(request, mine))
  } catch (error) {
    // An engine without the admin service (an embedding that offers none): the queue works, without admin routes.
    ctx.logger.debug({ err: error }, 'no admin service: the queue\'s admin routes are not mounted')
  }
  return () => {
    unmount?.()
    if (mine.get(queue.name) === queue) mine.delete(queue.name)
    if (mine.size === 0 && live.get(ctx.dataDir) === mine) live.delete(ctx.dataDir)
  }
}

async function answer(request: AdminRequest, queues: Map<string, QueueModule>): Promise<AdminAnswer> {
  const { method, segments } = request
  const [name, part, id, action] = segments
  const ok = (body: unknown): AdminAnswer => ({ status: 200, body })
  if (segments.length === 0 && method === 'GET') {
    request.require('read')
    return ok({ queues: [...queues.values()].map((q) => ({ name: q.name, ...q.counts(), ...consumerOf(q) })) })
  }
  const queue = name === undefined ? undefined : queues.get(name)
  if (!queue) {
    request.require('read')
    throw new QueueError('ERR_QUEUE_UNKNOWN', name === undefined ? `no queue route ${method} ${request.http.request.path}; ${ROUTES}`
      : `no queue named '${name.slice(0, 80)}' is started in this engine (queues: ${[...queues.keys()].join(', ') || 'none'})`, { details: { status: 404 } })
  }
  const dead = queue.store.dead
  if (part === undefined && method === 'GET') {
    request.require('read')
    return ok({ name: queue.name, ...queue.counts(), ...consumerOf(queue) })
  }
  if (part === 'dead' && id === undefined) {
    if (method === 'GET') {
      request.require('read')
      const limit = integerQuery(request, 'limit', 1, MAX_LIST_LIMIT) ?? LIST_LIMIT
      const after = integerQuery(request, 'after', 0, Number.MAX_SAFE_INTEGER) ?? 0
      const jobs = dead.list(limit, after)
      return ok({ queue: queue.name, jobs, ...(jobs.length === limit ? { next: jobs.at(-1)!.id } : {}) })
    }
    if (method === 'DELETE') {
      request.require('change')
      return ok({ queue: queue.name, purged: dead.purge(undefined) })
    }
  }
  if (part === 'dead' && id === 'retry' && action === undefined && method === 'POST') {
    request.require('change')
    const retried = dead.retry(undefined, Date.now())
    queue.wake()
    return ok({ queue: queue.name, retried })
  }
  if (part === 'dead' && id !== undefined && id !== 'retry') {
    const jobId = /^[1-9]\d{0,15}$/.test(id) ? Number(id) : NaN
    request.require(method === 'GET' ? 'read' : 'change')
    if (!Number.isSafeInteger(jobId)) throw new QueueError('ERR_QUEUE_JOB_UNKNOWN', `'${id.slice(0, 40)}' is not a job id (ids are the integers GET …/dead lists)`, { details: { status: 404 } })
    const missing = () => new QueueError('ERR_QUEUE_JOB_UNKNOWN', `queue '${queue.name}' has no dead job ${jobId}: it was retried, purged, or never died`,
      { details: { status: 404, queue: queue.name, id: String(jobId) } })
    if (action === undefined && method === 'GET') return ok(dead.get(jobId) ?? (() => { throw missing() })())
    if (action === undefined && method === 'DELETE') {
      if (dead.purge(jobId) === 0) throw missing()
      return ok({ queue: queue.name, purged: 1 })
    }
    if (action === 'retry' && method === 'POST') {
      if (dead.retry(jobId, Date.now()) === 0) throw missing()
      queue.wake()
      return ok({ queue: queue.name, retried: 1 })
    }
  }
  request.require('read')
  throw new QueueError('ERR_QUEUE_UNKNOWN', `no queue route ${method} ${request.http.request.path}; ${ROUTES}`, { details: { status: 404 } })
}

const ROUTES = 'the queue routes are GET /queues, GET /queues/:queue, GET|DELETE /queues/:queue/dead, POST /queues/:queue/dead/retry, ' +
  'GET|DELETE /queues/:queue/dead/:id, POST /queues/:queue/dead/:id/retry (under the admin prefix)'

function consumerOf(queue: QueueModule): Record<string, unknown> {
  const detail = queue.status?.() as { consumer?: unknown } | undefined
  return detail?.consumer ? { consumer: detail.consumer } : {}
}

function integerQuery(request: AdminRequest, name: string, min: number, max: number): number | undefined {
  const value = request.query[name]
  if (value === undefined) return undefined
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN
  if (!(n >= min && n <= max)) {
    throw new QueueError('ERR_QUEUE_OPTIONS', `query parameter '${name}' is ${JSON.stringify(value).slice(0, 40)}; give an integer from ${min} to ${max}`,
      { details: { status: 400, field: name } })
  }
  return n
}
