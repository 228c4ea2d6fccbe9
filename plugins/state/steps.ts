// Steps over a state.machine: `state.transition` (moves an instance), `state.create`, `state.get`. Refusals are the
// machine's StepErrors (404 unknown instance, 409 invalid transition listing the allowed events, …), so an HTTP
// pipeline answers them as they are. The run's `locals.principal` is who the history records.
import { defineStepType, moduleRef, PRINCIPAL_LOCAL, type Principal, type RunScope } from '@islet/sdk'
import { checkTransitionEvent } from './app-check.ts'
import { stateMachine } from './contract.ts'

const MACHINE = moduleRef('the state.machine module', stateMachine)
const principalOf = (run: RunScope) => run.locals[PRINCIPAL_LOCAL] as Principal | undefined

export interface TransitionStepConfig { machine: string; instance: string; event: string; payload?: unknown }

export const transitionStep = defineStepType<TransitionStepConfig>({
  type: 'state.transition',
  description: 'Moves a state machine instance on an event; outputs the instance after the transition.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['machine', 'instance', 'event'],
    properties: {
      machine: MACHINE,
      instance: { type: 'string', minLength: 1, description: 'the instance id, e.g. ${{ params.id }}' },
      event: { type: 'string', minLength: 1, description: 'the event, e.g. pay or ${{ params.event }}' },
      payload: { description: 'recorded in the history; the guards and pipelines see it as payload (e.g. ${{ body }})' },
    },
  },
  checkApp: checkTransitionEvent,
  create(config, ctx) {
    const machine = ctx.module(config.machine, stateMachine)
    const instance = ctx.compile<string>(config.instance)
    const event = ctx.compile<string>(config.event)
    const payload = ctx.compile(config.payload)
    return (run) => machine.transition(String(instance(run)), String(event(run)),
      { payload: payload(run), principal: principalOf(run), signal: run.signal, logger: run.logger })
  },
})

export interface CreateStepConfig { machine: string; id?: string; data?: unknown }

export const createStep = defineStepType<CreateStepConfig>({
  type: 'state.create',
  description: 'Creates a state machine instance in its initial state; outputs the instance.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['machine'],
    properties: {
      machine: MACHINE,
      id: { type: 'string', minLength: 1, description: 'the instance id (default: a random UUID), e.g. ${{ body.orderId }}' },
      data: { description: 'the instance data, a JSON object (e.g. ${{ body }})' },
    },
  },
  create(config, ctx) {
    const machine = ctx.module(config.machine, stateMachine)
    const id = config.id === undefined ? undefined : ctx.compile<string>(config.id)
    const data = ctx.compile(config.data)
    // A number is a fine id; anything else that is not a string (a missing field) is refused, not made a UUID.
    const idOf = (run: RunScope) => { const v = id!(run); return (typeof v === 'number' ? String(v) : v) as string }
    return (run) => machine.create({ ...(id ? { id: idOf(run) } : {}), data: data(run) },
      { principal: principalOf(run), signal: run.signal, logger: run.logger })
  },
})

export interface GetStepConfig { machine: string; instance: string; history: boolean }

export const getStep = defineStepType<GetStepConfig>({
  type: 'state.get',
  description: 'Reads a state machine instance (404 ERR_STATE_INSTANCE_NOT_FOUND when there is none); outputs it.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['machine', 'instance'],
    properties: {
      machine: MACHINE,
      instance: { type: 'string', minLength: 1, description: 'the instance id, e.g. ${{ params.id }}' },
      history: { type: 'boolean', default: false, description: 'include its history' },
    },
  },
  create(config, ctx) {
    const machine = ctx.module(config.machine, stateMachine)
    const instance = ctx.compile<string>(config.instance)
    return (run) => machine.get(String(instance(run)), { history: config.history })
  },
})
