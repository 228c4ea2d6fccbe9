// The built-in `state` plugin: state machines (module state.machine), the `state` trigger their pipelines run under,
// and the state.transition / state.create / state.get steps — declared through the public sdk only.
import { definePlugin, type Plugin } from '@islet/sdk'
import { SYSTEM_CLOCK, type Clock } from './clock.ts'
import { machineType } from './module.ts'
import { createStep, getStep, transitionStep } from './steps.ts'
import trigger from './trigger.ts'

export { stateMachine, type StateMachine, type InstanceView, type HistoryEntry, type CallOptions, type ListFilter } from './contract.ts'
export { STATE_ERROR_CODES, STATE_CALLER_ERROR_CODES, StateError, type StateErrorCode, type StateCallerErrorCode } from './errors.ts'
export type { Clock } from './clock.ts'
export type { StateMachineModule } from './module.ts'

/** The plugin over `clock` (tests move time by hand; the engine uses the system clock). */
export function createStatePlugin(options: { clock?: Clock } = {}): Plugin {
  return definePlugin({
    name: 'state',
    version: '0.1.0',
    islet: '^0.1.0',
    description: 'State machines: guarded transitions, action pipelines, terminal states, persisted timeouts, HTTP routes.',
    moduleTypes: [machineType(options.clock ?? SYSTEM_CLOCK)],
    stepTypes: [transitionStep, createStep, getStep],
    triggers: [trigger],
  })
}

export default createStatePlugin()
