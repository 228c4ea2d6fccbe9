// One state machine at run time: create, read, list and transition its instances in the state store.
//
// A transition runs, in order, the on-exit pipeline of the state it leaves, its own action and the on-enter
// pipeline of the state it enters, and commits only when all of them succeed: a failure (or an abort) leaves the
// instance where it was, with no history entry, and the caller gets the failure. Transitions of one instance are
// queued in this process, so they never race here; another process on the same data dir is caught by the version
// check at commit, and the transition is then tried again from the instance's new state (its guard and pipelines
// run again: make actions idempotent, e.g. keyed on meta.instance and the version they lead to). A transition of an
// instance requested from inside one of its own transition's pipelines is refused (reentry.ts): it would wait for
// the transition that waits for it.
import { randomUUID } from 'node:crypto'
import {
  isRecord, isStepError, messageOf, PRINCIPAL_LOCAL, StepError, type AbortSignalLike, type Logger, type Pipeline,
  type Principal, type RunScope, type Template,
} from '@islet/sdk'
import type { Clock } from './clock.ts'
import type { CallOptions, HistoryEntry, InstanceView, StateMachine } from './contract.ts'
import type { Edge, StateDef } from './definition.ts'
import { refusal } from './errors.ts'
import { holding, insideTransitionOf, outsideTransitions } from './reentry.ts'
import type { Commit, HistoryRow, InstanceRow, StateStore } from './store.ts'
import { STATE_TRIGGER } from './trigger.ts'

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

export interface MachineDeps {
  name: string
  initial: string
  states: ReadonlyMap<string, StateDef>
  /** The store, once the module has started (undefined before and after). */
  store(): StateStore
  pipeline(name: string): Pipeline
  /** Compiled guard and `set` templates, by edge. */
  guard(edge: Edge): Template | undefined
  set(edge: Edge): Template<Record<string, unknown>> | undefined
  logger: Logger
  clock: Clock
  maxRetries: number
  /** Called after a commit that set a due time: the timer may need to fire earlier. */
  onDue(at: number): void
}

/** What a transition is for: a caller's event, or a state's timeout (which only applies to the version that set it). */
interface Attempt extends CallOptions {
  payload?: unknown
  /** A timeout: fire only while the instance is still at this version. */
  onlyAt?: number
}

const NEVER: AbortSignalLike = Object.freeze({ aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} })

export interface Machine extends StateMachine {
  /** Fires a due timeout: undefined when the instance moved on meanwhile (the timeout no longer applies). */
  fireTimeout(id: string, event: string, version: number, signal: AbortSignalLike): Promise<InstanceView | undefined>
  /** Resolves once the transitions queued now have ended (committed or not): the store may close then. */
  drain(): Promise<void>
}

export function createMachine(deps: MachineDeps): Machine {
  const { name, states, logger, clock } = deps
  /** The tail of each instance's queue of transitions in this process. */
  const queues = new Map<string, Promise<unknown>>()

  /** Runs `work` once the instance's earlier transitions have ended, in a context that says it holds the instance. */
  function serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = queues.get(id) ?? Promise.resolve()
    const held = () => holding(queues, id, work)
    const result = before.then(held, held)
    const tail = result.then(() => {}, () => {})
    queues.set(id, tail)
    void tail.then(() => { if (queues.get(id) === tail) queues.delete(id) })
    return result
  }

  /** Refuses a request made inside a transition of the same instance: queued behind it, it would wait forever. */
  function refuseReentry(id: string, event: string | null): void {
    if (!insideTransitionOf(queues, id)) return
    const what = event === null ? `create instance '${id}' of '${name}'` : `move instance '${id}' of '${name}' on '${event}'`
    const hint = 'transition it after the commit instead: from an events.subscriber of an event the pipeline emits, from the ' +
      'consumer of a job it enqueues, or with a timeout on the state entered (e.g. timeout: { after: 1ms, event: next })'
    throw refusal(409, 'ERR_STATE_REENTRANT', `cannot ${what} from inside a pipeline of its own transition, which is still in ` +
      `progress and waits for that pipeline; ${hint}`, { machine: name, id, event, hint })
  }

  function view(row: InstanceRow, history?: HistoryRow[]): InstanceView {
    const state = states.get(row.state)
    return {
      machine: name, id: row.id, state: row.state, version: row.version, data: JSON.parse(row.data) as Record<string, unknown>,
      terminal: state?.terminal ?? false, allowed: state ? [...state.on.keys()] : [],
      due: row.due_at === null || row.due_event === null ? null : { at: new Date(row.due_at).toISOString(), event: row.due_event },
      createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
      ...(history ? { history: history.map(entry) } : {}),
    }
  }

  function find(id: string): InstanceRow {
    const row = typeof id === 'string' ? deps.store().get(name, id) : undefined
    if (!row) throw refusal(404, 'ERR_STATE_INSTANCE_NOT_FOUND', `machine '${name}' has no instance '${String(id)}'`, { machine: name, id })
    return row
  }

  /** A RunScope for guards and `set`: the variables the `state` trigger declares. */
  function scopeOf(meta: Record<string, unknown>, data: unknown, payload: unknown, principal: Principal | undefined, signal: AbortSignalLike): RunScope {
    const locals = principal ? { [PRINCIPAL_LOCAL]: principal } : {}
    return {
      trigger: STATE_TRIGGER, id: `${name}:${String(meta.instance)}`, input: payload, meta, locals,
      view: { data, payload, principal }, steps: {}, logger, signal, respond() {},
    }
  }

  /** Runs one on-exit / action / on-enter pipeline; a failure ends the transition uncommitted. */
  async function runHook(kind: string, pipeline: string | undefined, meta: Record<string, unknown>, data: unknown,
    payload: unknown, options: Attempt): Promise<void> {
    if (!pipeline) return
    const principal = options.principal
    const log = options.logger ?? logger
    let status: number
    try {
      const running = deps.pipeline(pipeline).run({
        trigger: STATE_TRIGGER, id: `${name}:${String(meta.instance)}:${String(meta.event)}`, input: payload, meta,
        locals: principal ? { [PRINCIPAL_LOCAL]: principal } : {}, view: { data, payload, principal },
      }, { logger: log, ...(options.signal ? { signal: options.signal } : {}) })
      // A step that ignores the abort must not hold the instance's queue: the transition ends (uncommitted) anyway.
      const response = await (options.signal ? untilAborted(running, options.signal) : running)
      status = response.status
    } catch (error) {
      const where = `${kind} pipeline '${pipeline}' of the transition ${meta.from ?? '(create)'} → ${String(meta.to)} of '${name}/${String(meta.instance)}'`
      if (isStepError(error)) {
        // The pipeline chose its answer (e.g. 402 payment declined): the caller gets it, and knows nothing committed.
        throw new StepError({ status: error.status, code: error.code, message: `${error.message} (${where} failed; the transition was not committed)`,
          details: error.details, cause: error })
      }
      log.error({ err: error, machine: name, instance: meta.instance, pipeline }, `${where} failed`)
      throw refusal(500, 'ERR_STATE_ACTION_FAILED', `${where} failed; the transition was not committed`,
        { machine: name, instance: meta.instance, pipeline, kind }, error)
    }
    if (status >= 400) {
      throw refusal(status >= 500 ? 500 : 409, 'ERR_STATE_ACTION_FAILED',
        `${kind} pipeline '${pipeline}' answered ${status}; the transition ${meta.from ?? '(create)'} → ${String(meta.to)} was not committed`,
        { machine: name, instance: meta.instance, pipeline, kind, status })
    }
  }

  function invalid(row: InstanceRow, event: string): StepError {
    const state = states.get(row.state)
    const allowed = state ? [...state.on.keys()] : []
    const why = !state ? `its state '${row.state}' is no longer declared by the machine`
      : state.terminal ? `'${row.state}' is a terminal state`
      : `state '${row.state}' has no transition for '${event}'; allowed: ${allowed.join(', ') || 'none'}`
    return refusal(409, 'ERR_STATE_TRANSITION_INVALID', `instance '${row.id}' of '${name}' cannot take event '${event}': ${why}`,
      { machine: name, id: row.id, state: row.state, event, allowed, terminal: state?.terminal ?? false })
  }

  function pick(edges: readonly Edge[], scope: RunScope): Edge | undefined {
    for (const edge of edges) {
      const guard = deps.guard(edge)
      if (!guard) return edge
      let passed: unknown
      try {
        passed = guard(scope)
      } catch (error) {
        throw refusal(500, 'ERR_STATE_GUARD_FAILED', `the guard ${edge.guard} of '${name}' could not be evaluated: ${messageOf(error)}`,
          { machine: name, guard: edge.guard }, error)
      }
      if (passed) return edge
    }
    return undefined
  }

  function dueOf(state: StateDef | undefined, now: number): { dueAt: number | null; dueEvent: string | null } {
    return state?.timeout ? { dueAt: now + state.timeout.afterMs, dueEvent: state.timeout.event } : { dueAt: null, dueEvent: null }
  }

  async function attempt(id: string, event: string, options: Attempt): Promise<InstanceView | undefined> {
    const payload = options.payload
    const principal = options.principal
    for (let tries = 0; ; tries++) {
      const row = find(id)
      // A timeout belongs to the version that entered its state: once the instance moved on, it does not fire.
      if (options.onlyAt !== undefined && row.version !== options.onlyAt) return undefined
      const from = states.get(row.state)
      const edges = from && !from.terminal ? from.on.get(event) : undefined
      if (!edges) throw invalid(row, event)
      const data = JSON.parse(row.data) as Record<string, unknown>
      const meta: Record<string, unknown> = { machine: name, instance: id, from: row.state, to: undefined, event }
      const scope = scopeOf(meta, data, payload, principal, options.signal ?? NEVER)
      const edge = pick(edges, scope)
      if (!edge) {
        throw refusal(409, 'ERR_STATE_GUARD_REJECTED', `instance '${id}' of '${name}' in state '${row.state}' cannot take event '${event}': ` +
          `its guard${edges.length > 1 ? 's' : ''} ${edges.map((e) => e.guard).join(', ')} did not pass`,
          { machine: name, id, state: row.state, event, guards: edges.map((e) => e.guard) })
      }
      meta.to = edge.to
      const to = states.get(edge.to)
      // Evaluated first: it reads only what the guard reads, and a failure here must come before any pipeline's effects.
      const set = deps.set(edge)
      const next = set ? { ...data, ...set(scope) } : data
      await runHook('on-exit', from!.onExit, meta, data, payload, options)
      await runHook('action', edge.action, meta, data, payload, options)
      await runHook('on-enter', to?.onEnter, meta, data, payload, options)
      // The caller gave up (request timeout, client gone): what it was told — nothing — stays true.
      if (options.signal?.aborted) throw options.signal.reason
      const at = clock.now()
      const due = dueOf(to, at)
      const commit: Commit = {
        state: edge.to, data: JSON.stringify(next), at, ...due,
        history: { from_state: row.state, to_state: edge.to, event, payload: payload === undefined ? null : JSON.stringify(payload), who: principal?.subject ?? null },
      }
      if (deps.store().commit(name, id, row.version, commit)) {
        if (due.dueAt !== null) outsideTransitions(() => deps.onDue(due.dueAt!))
        return view({ ...row, state: edge.to, version: row.version + 1, data: commit.data, updated_at: at, due_at: due.dueAt, due_event: due.dueEvent })
      }
      // Another process committed since the read: try again from the state it left the instance in.
      if (tries >= deps.maxRetries) {
        throw refusal(503, 'ERR_STATE_CONFLICT', `instance '${id}' of '${name}' kept changing under event '${event}' (${tries + 1} attempts); nothing was committed`,
          { machine: name, id, event, attempts: tries + 1 })
      }
      (options.logger ?? logger).debug({ machine: name, instance: id, event, version: row.version }, 'transition lost the version check; retrying')
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** tries)))
    }
  }

  return {
    name,
    async create(input, options = {}) {
      // An id given as undefined (a step's `${{ body.ref }}` with no ref) is refused below, not replaced by a UUID.
      const id = 'id' in input ? input.id : randomUUID()
      if (typeof id !== 'string' || !ID.test(id)) {
        throw refusal(400, 'ERR_STATE_BAD_REQUEST', `an instance id is 1-128 letters, digits, '.', '_', ':' or '-' (starting with a letter or digit), got ${JSON.stringify(id)}`)
      }
      const data = input.data ?? {}
      if (!isRecord(data) || Array.isArray(data)) {
        throw refusal(400, 'ERR_STATE_BAD_REQUEST', `an instance's data is a JSON object, got ${Array.isArray(data) ? 'an array' : typeof data}`)
      }
      refuseReentry(id, null)
      return serial(id, async () => {
        const exists = () => refusal(409, 'ERR_STATE_INSTANCE_EXISTS', `machine '${name}' already has an instance '${id}'`, { machine: name, id })
        if (deps.store().get(name, id)) throw exists()
        const meta = { machine: name, instance: id, from: null, to: deps.initial, event: null }
        await runHook('on-enter', states.get(deps.initial)?.onEnter, meta, data, undefined, options)
        if (options.signal?.aborted) throw options.signal.reason
        const at = clock.now()
        const due = dueOf(states.get(deps.initial), at)
        const commit: Commit = { state: deps.initial, data: JSON.stringify(data), at, ...due,
          history: { from_state: null, to_state: deps.initial, event: null, payload: JSON.stringify(data), who: options.principal?.subject ?? null } }
        if (!deps.store().insert(name, id, commit)) throw exists()
        if (due.dueAt !== null) outsideTransitions(() => deps.onDue(due.dueAt!))
        return view({ id, state: deps.initial, version: 0, data: commit.data, created_at: at, updated_at: at, due_at: due.dueAt, due_event: due.dueEvent })
      })
    },
    get(id, options = {}) {
      const row = find(id)
      return view(row, options.history ? deps.store().history(name, id) : undefined)
    },
    list(filter = {}) {
      if (filter.state !== undefined && !states.has(filter.state)) {
        throw refusal(400, 'ERR_STATE_BAD_REQUEST', `'${filter.state}' is not a state of machine '${name}'; its states: ${[...states.keys()].join(', ')}`)
      }
      const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 500)
      return deps.store().list(name, { state: filter.state, limit, offset: Math.max(Math.trunc(filter.offset ?? 0), 0) }).map((r) => view(r))
    },
    async transition(id, event, options = {}) {
      find(id)
      refuseReentry(id, event)
      return (await serial(id, () => attempt(id, event, options)))!
    },
    fireTimeout(id, event, version, signal) {
      return serial(id, () => attempt(id, event, { onlyAt: version, signal }))
    },
    async drain() {
      await Promise.all(queues.values())
    },
  }
}

/** `work`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignalLike): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason)
    signal.addEventListener('abort', abort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}

function entry(row: HistoryRow): HistoryEntry {
  return {
    version: row.version, at: new Date(row.at).toISOString(), from: row.from_state, to: row.to_state, event: row.event,
    payload: row.payload === null ? null : JSON.parse(row.payload), who: row.who,
  }
}
