// The state.machine config: its YAML shape (types and JSON Schema) and the normalised form the machine runs on.
import { pipelineRef, type JsonSchema } from '@islet/sdk'
import { DURATION_PATTERN, parseDuration } from './duration.ts'

/** One transition an event may take: written as its target state alone, or with a guard, an action and data to set. */
export interface TransitionConfig {
  to: string
  /** `${{ }}` over `data`, `payload`, `principal`: the transition is taken only when it is truthy. */
  guard?: string
  /** A pipeline run (trigger `state`) before the transition commits: it commits only if the pipeline succeeds. */
  action?: string
  /** Fields merged into the instance's data when the transition commits; values may be `${{ }}` expressions. */
  set?: Record<string, unknown>
}

export interface StateConfig {
  on?: Record<string, string | TransitionConfig | TransitionConfig[]>
  terminal?: boolean
  onEnter?: string
  onExit?: string
  /** The instance receives `event` once it has been in this state for `after`. */
  timeout?: { after: string | number; event: string }
}

export interface MachineConfig {
  initial: string
  states: Record<string, StateConfig>
  http?: { prefix?: string; requires?: string[] }
  /** Retries of a transition that lost the version check to another writer (another process) before it gives up. */
  maxRetries: number
}

const NAME = '^[A-Za-z][A-Za-z0-9_-]{0,63}$'

const TRANSITION: JsonSchema = {
  type: 'object', additionalProperties: false, required: ['to'],
  properties: {
    to: { type: 'string', pattern: NAME, description: 'the state entered' },
    guard: { type: 'string', pattern: '^\\s*\\$\\{\\{[\\s\\S]*\\}\\}\\s*$', description: 'taken only when this ${{ }} expression over data, payload and principal is truthy' },
    action: pipelineRef('runs before the transition commits; the transition commits only if it succeeds', { trigger: 'state' }),
    set: { type: 'object', description: 'merged into the instance\'s data on commit; values may be ${{ }} expressions over data, payload and principal' },
  },
}

export const MACHINE_SCHEMA: JsonSchema = {
  type: 'object', additionalProperties: false, required: ['initial', 'states'],
  properties: {
    initial: { type: 'string', pattern: NAME, description: 'the state a new instance starts in' },
    states: {
      type: 'object', minProperties: 1, maxProperties: 256,
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object', additionalProperties: false,
        properties: {
          on: {
            type: 'object', propertyNames: { pattern: NAME }, description: 'event → target state (or { to, guard, action, set }, or a list of those tried in order)',
            additionalProperties: {
              oneOf: [
                { type: 'string', pattern: NAME },
                TRANSITION,
                { type: 'array', minItems: 1, maxItems: 16, items: TRANSITION },
              ],
            },
          },
          terminal: { type: 'boolean', default: false, description: 'no transition leaves it' },
          onEnter: pipelineRef('runs when a transition enters this state, before it commits', { trigger: 'state' }),
          onExit: pipelineRef('runs when a transition leaves this state, before it commits', { trigger: 'state' }),
          timeout: {
            type: 'object', additionalProperties: false, required: ['after', 'event'],
            description: 'fires `event` at an instance that has been in this state for `after` (persisted: a restart keeps it)',
            properties: {
              after: { oneOf: [{ type: 'string', pattern: DURATION_PATTERN }, { type: 'integer', minimum: 1 }], description: 'e.g. 30s, 15m, 2h, 7d (or milliseconds)' },
              event: { type: 'string', pattern: NAME, description: 'an event this state has under `on`' },
            },
          },
        },
      },
    },
    http: {
      type: 'object', additionalProperties: false,
      description: 'the routes this machine serves when a server lists it under `routers`',
      properties: {
        prefix: { type: 'string', pattern: '^(/[^/\\s]+)+$', description: 'e.g. /orders (default: /<module name>)' },
        requires: {
          type: 'array', uniqueItems: true, maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
          description: 'scopes the caller must all hold for every route of this machine (checked against locals.principal, as a route\'s requires:)',
        },
      },
    },
    maxRetries: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  },
}

/** A transition as the machine runs it. */
export interface Edge {
  readonly to: string
  readonly guard?: string
  readonly action?: string
  readonly set?: Readonly<Record<string, unknown>>
}

export interface StateDef {
  readonly name: string
  readonly terminal: boolean
  /** Event → the transitions it may take, tried in order (the first whose guard passes). */
  readonly on: ReadonlyMap<string, readonly Edge[]>
  readonly onEnter?: string
  readonly onExit?: string
  readonly timeout?: { readonly afterMs: number; readonly event: string }
}

/** The config's states with shorthands expanded. */
export function statesOf(config: MachineConfig): Map<string, StateDef> {
  const states = new Map<string, StateDef>()
  for (const [name, state] of Object.entries(config.states)) {
    const on = new Map<string, Edge[]>()
    for (const [event, written] of Object.entries(state.on ?? {})) on.set(event, edgesOf(written))
    states.set(name, {
      name, terminal: state.terminal === true, on,
      ...(state.onEnter ? { onEnter: state.onEnter } : {}),
      ...(state.onExit ? { onExit: state.onExit } : {}),
      ...(state.timeout ? { timeout: { afterMs: parseDuration(state.timeout.after), event: state.timeout.event } } : {}),
    })
  }
  return states
}

export function edgesOf(written: string | TransitionConfig | TransitionConfig[]): Edge[] {
  if (typeof written === 'string') return [{ to: written }]
  return Array.isArray(written) ? written : [written]
}
