// The HTTP routes of a machine, for the servers that list it under `routers` (the httpRouter contract):
//   POST <prefix>            create  { id?, data? }                → 201 the instance
//   GET  <prefix>?state=&limit=&offset=  list                     → 200 { instances }
//   GET  <prefix>/:id        read, with its history               → 200 the instance
//   POST <prefix>/:id/:event transition, the body is the payload   → 200 the instance
// An event the current state has no transition for is 409 ERR_STATE_TRANSITION_INVALID with details.allowed.
import { isRecord, PRINCIPAL_LOCAL, type AbortSignalLike, type Pipeline, type PipelineResponse, type Principal, type RouteMatch, type RunInput } from '@islet/sdk'
import type { StateMachine } from './contract.ts'
import { refusal } from './errors.ts'

const LIST_PARAMETERS = new Set(['state', 'limit', 'offset'])

export function machineRoutes(machine: StateMachine, prefix: string, requires?: readonly string[]): (method: string, path: string) => RouteMatch | { allowed: string[] } | undefined {
  const principal = (input: RunInput) => input.locals?.[PRINCIPAL_LOCAL] as Principal | undefined
  const params = (input: RunInput) => (input.view?.params ?? {}) as Record<string, string>
  const answer = (status: number, body: unknown): PipelineResponse => ({ status, headers: {}, body })
  const route = (name: string, run: (input: RunInput, options: { signal?: AbortSignalLike }) => Promise<PipelineResponse>): Pipeline =>
    ({ name: `${machine.name}:${name}`, run: (input, options) => run(input, options) })

  const create = route('create', async (input, { signal }) => {
    const body = input.input ?? {}
    if (!isRecord(body) || Array.isArray(body) || Object.keys(body).some((k) => k !== 'id' && k !== 'data')) {
      throw refusal(400, 'ERR_STATE_BAD_REQUEST', `create takes a JSON object { id?, data? }`, { machine: machine.name })
    }
    if (body.id !== undefined && typeof body.id !== 'string') throw refusal(400, 'ERR_STATE_BAD_REQUEST', 'id is a string')
    const created = await machine.create({ ...(body.id !== undefined ? { id: body.id as string } : {}), data: body.data },
      { principal: principal(input), ...(signal ? { signal } : {}) })
    return { status: 201, headers: { location: `${prefix}/${encodeURIComponent(created.id)}` }, body: created }
  })
  const list = route('list', async (input) => {
    const query = (input.view?.query ?? {}) as Record<string, string | string[]>
    for (const [key, value] of Object.entries(query)) {
      if (!LIST_PARAMETERS.has(key)) throw refusal(400, 'ERR_STATE_BAD_REQUEST', `unknown query parameter '${key}'; the list takes state, limit and offset`)
      if (typeof value !== 'string') throw refusal(400, 'ERR_STATE_BAD_REQUEST', `query parameter '${key}' is given more than once`)
    }
    const number = (key: string) => {
      const text = query[key] as string | undefined
      if (text === undefined) return undefined
      if (!/^\d{1,9}$/.test(text)) throw refusal(400, 'ERR_STATE_BAD_REQUEST', `${key} is a non-negative integer, got '${text}'`)
      return Number(text)
    }
    const state = query.state as string | undefined
    return answer(200, { instances: machine.list({ ...(state ? { state } : {}), limit: number('limit'), offset: number('offset') }) })
  })
  const read = route('read', async (input) => answer(200, machine.get(params(input).id!, { history: true })))
  const transition = route('transition', async (input, { signal }) => {
    const { id, event } = params(input)
    return answer(200, await machine.transition(id!, event!, { payload: input.input, principal: principal(input), ...(signal ? { signal } : {}) }))
  })

  const to = (pipeline: Pipeline, params: Record<string, string>): RouteMatch => (requires ? { pipeline, params, requires } : { pipeline, params })
  return (method, path) => {
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return undefined
    const parts = path.slice(prefix.length).split('/').filter((p) => p !== '')
    let decoded: string[]
    try {
      decoded = parts.map(decodeURIComponent)
    } catch {
      return undefined
    }
    if (decoded.length === 0) {
      if (method === 'POST') return to(create, {})
      if (method === 'GET') return to(list, {})
      return { allowed: ['GET', 'POST'] }
    }
    if (decoded.length === 1) return method === 'GET' ? to(read, { id: decoded[0]! }) : { allowed: ['GET'] }
    if (decoded.length === 2) return method === 'POST' ? to(transition, { id: decoded[0]!, event: decoded[1]! }) : { allowed: ['POST'] }
    return undefined
  }
}
