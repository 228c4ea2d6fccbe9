// The `state.machine` contract: what the state.* steps (and any other module) use a machine through.
import { defineContract, type AbortSignalLike, type Logger, type Principal } from '@islet/sdk'

/** One entry of an instance's history: who moved it, when, from where to where, on which event, with what payload. */
export interface HistoryEntry {
  version: number
  /** ISO time. */
  at: string
  /** null for the creation entry. */
  from: string | null
  to: string
  /** null for the creation entry. */
  event: string | null
  payload: unknown
  /** The principal's subject, or null (no authenticated caller, or a timeout). */
  who: string | null
}

/** An instance as callers see it. */
export interface InstanceView {
  machine: string
  id: string
  state: string
  /** 0 when created; +1 per transition. */
  version: number
  data: Record<string, unknown>
  terminal: boolean
  /** The events the current state has transitions for (guards not evaluated). */
  allowed: string[]
  /** The pending timeout of the current state, if it has one. */
  due: { at: string; event: string } | null
  createdAt: string
  updatedAt: string
  /** Only when asked for (`GET <prefix>/:id`, `state.get` with history). */
  history?: HistoryEntry[]
}

/** Who asks and how long they wait. */
export interface CallOptions {
  /** Recorded as the history's `who` (its subject) and seen by guards and pipelines as `principal`. */
  principal?: Principal
  /** Aborts the on-exit, action and on-enter pipelines: the transition then does not commit. */
  signal?: AbortSignalLike
  logger?: Logger
}

export interface ListFilter {
  state?: string
  /** Default 50, at most 500. */
  limit?: number
  offset?: number
}

export interface StateMachine {
  /** The machine's name (its module's). */
  readonly name: string
  /** Creates an instance in the initial state (its on-enter pipeline first); `id` defaults to a random UUID. */
  create(input: { id?: string; data?: unknown }, options?: CallOptions): Promise<InstanceView>
  /** Rejects with a 404 StepError (ERR_STATE_INSTANCE_NOT_FOUND) for an unknown id. */
  get(id: string, options?: { history?: boolean }): InstanceView
  list(filter?: ListFilter): InstanceView[]
  /**
   * Moves the instance on `event`: serialised with every other transition of the instance (in this process by a
   * queue, across processes by the version check); commits only when its guard passes and its pipelines succeed.
   */
  transition(id: string, event: string, options?: CallOptions & { payload?: unknown }): Promise<InstanceView>
}

export const stateMachine = defineContract<StateMachine>('state.machine',
  { name: 'string', create: 'function', get: 'function', list: 'function', transition: 'function' },
  'a state machine whose instances the state.* steps create, read and move')
