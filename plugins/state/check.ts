// What the schema cannot say about a machine, checked when the config loads (each problem at its file:line:col):
// every state a transition names exists, the initial state exists, a timeout is at most ten years and its event is one
// its state has, a terminal state has no way out; a state no path from the initial state reaches is a warning.
import type { ConfigProblem } from '@islet/sdk'
import { edgesOf, type MachineConfig } from './definition.ts'
import { MAX_TIMEOUT_MS, parseDuration } from './duration.ts'

export function checkMachine(config: MachineConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const names = Object.keys(config.states)
  const declared = `declared states: ${names.join(', ')}`
  if (!(config.initial in config.states)) {
    problems.push({ path: ['initial'], message: `initial state '${config.initial}' is not a state of this machine`, hint: declared })
  }
  for (const [name, state] of Object.entries(config.states)) {
    const events = Object.keys(state.on ?? {})
    if (state.terminal && events.length > 0) {
      problems.push({ path: ['states', name, 'on'], key: true, message: `state '${name}' is terminal but has transitions (${events.join(', ')})`,
        hint: 'remove terminal: true, or remove its on: (no transition leaves a terminal state)' })
    }
    for (const event of events) {
      const written = state.on![event]!
      edgesOf(written).forEach((edge, i) => {
        if (edge.to in config.states) return
        const path = typeof written === 'string' ? ['states', name, 'on', event]
          : Array.isArray(written) ? ['states', name, 'on', event, i, 'to'] : ['states', name, 'on', event, 'to']
        problems.push({ path, message: `transition '${event}' from state '${name}' goes to '${edge.to}', which is not a state of this machine`,
          hint: `${declared}; add a state '${edge.to}' or correct the name` })
      })
    }
    if (state.timeout) {
      if (state.terminal) {
        problems.push({ path: ['states', name, 'timeout'], key: true, message: `state '${name}' is terminal, so its timeout could never fire a transition`,
          hint: 'remove the timeout, or make the state non-terminal' })
      } else if (parseDuration(state.timeout.after) > MAX_TIMEOUT_MS) {
        problems.push({ path: ['states', name, 'timeout', 'after'], message: `the timeout of state '${name}' is longer than ${MAX_TIMEOUT_MS / 86_400_000}d`,
          hint: `a timeout is at most ${MAX_TIMEOUT_MS / 86_400_000}d (ten years); for longer, drop the timeout` })
      } else if (!events.includes(state.timeout.event)) {
        problems.push({ path: ['states', name, 'timeout', 'event'],
          message: `the timeout of state '${name}' fires event '${state.timeout.event}', which state '${name}' has no transition for`,
          hint: events.length ? `events of '${name}': ${events.join(', ')}; or add on: { ${state.timeout.event}: <state> }` : `add on: { ${state.timeout.event}: <state> } to '${name}'` })
      }
    }
  }
  if (config.initial in config.states) {
    for (const name of unreachable(config)) {
      problems.push({ path: ['states', name], key: true, severity: 'warning',
        message: `state '${name}' cannot be reached: no transition from the initial state '${config.initial}' leads to it`,
        hint: 'add a transition to it, or remove it' })
    }
  }
  return problems
}

function unreachable(config: MachineConfig): string[] {
  const seen = new Set([config.initial])
  const queue = [config.initial]
  while (queue.length > 0) {
    const state = config.states[queue.shift()!]
    for (const written of Object.values(state?.on ?? {})) {
      for (const edge of edgesOf(written)) {
        if (!seen.has(edge.to)) { seen.add(edge.to); queue.push(edge.to) }
      }
    }
  }
  return Object.keys(config.states).filter((s) => !seen.has(s))
}
