// state.transition against the machine it names, when the whole app is known (sdk AppView): a literal event that no
// state of that machine has a transition on could never be taken, so every run would answer 409. An event written as
// an expression (${{ params.event }}) is only known per run, and a machine that is not a valid state.machine module is
// reported by the reference check already.
import type { AppView } from '@islet/sdk'
import type { MachineConfig } from './definition.ts'
import type { TransitionStepConfig } from './steps.ts'

/** Every event some state of `config` has a transition on, in declaration order. */
export function eventsOf(config: MachineConfig): string[] {
  return [...new Set(Object.values(config.states).flatMap((state) => Object.keys(state.on ?? {})))]
}

export function checkTransitionEvent(config: TransitionStepConfig, app: AppView): void {
  const machine = app.module(config.machine)
  if (machine?.type !== 'state.machine' || config.event.includes('${{')) return
  const events = eventsOf(machine.config as MachineConfig)
  if (events.includes(config.event)) return
  app.report({
    code: 'ERR_STATE_EVENT_UNKNOWN', path: ['event'],
    message: `machine '${machine.name}' has no event '${config.event}': no state of it has a transition on it, so this step could only fail`,
    hint: events.length ? [app.didYouMean(config.event, events), `events of '${machine.name}': ${events.join(', ')}`].filter(Boolean).join(' ')
      : `'${machine.name}' declares no transitions (add on: { ${config.event}: <state> } to a state)`,
  })
}
