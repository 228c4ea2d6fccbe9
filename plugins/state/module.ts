// Module type `state.machine`: states, guarded transitions with actions, on-enter/on-exit pipelines, terminal states
// and persisted timeouts; instances in <dataDir>/state.db. It provides `state.machine` (the state.* steps use it) and
// `http.router` (list it under a server's `routers` for its create / read / list / transition routes).
import { join } from 'node:path'
import { defineModuleType, httpRouter, type ModuleInstance, type RouterProvider, type Template } from '@islet/sdk'
import { checkMachine } from './check.ts'
import type { Clock } from './clock.ts'
import { stateMachine } from './contract.ts'
import { MACHINE_SCHEMA, statesOf, type Edge, type MachineConfig } from './definition.ts'
import { StateError } from './errors.ts'
import { createMachine, type Machine } from './machine.ts'
import { machineRoutes } from './routes.ts'
import { openStateStore, type StateStore } from './store.ts'
import { createTimeouts, type Timeouts } from './timeouts.ts'

/** The file every machine of the app keeps its instances in, inside the data directory. */
export const STATE_FILE = 'state.db'

export type StateMachineModule = Machine & RouterProvider & ModuleInstance

export function machineType(clock: Clock) {
  return defineModuleType<MachineConfig, StateMachineModule>({
    type: 'state.machine',
    description: 'A state machine: guarded transitions with action pipelines, on-enter/on-exit, terminal states and timeouts; instances persisted with their history.',
    provides: [stateMachine, httpRouter],
    configSchema: MACHINE_SCHEMA,
    check: checkMachine,
    create(config, ctx) {
      const errors = checkMachine(config).filter((p) => p.severity !== 'warning')
      if (errors.length > 0) {
        throw new StateError('ERR_STATE_DEFINITION', `state machine '${ctx.name}': ${errors.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`)
      }
      const states = statesOf(config)
      const guards = new Map<Edge, Template>()
      const sets = new Map<Edge, Template<Record<string, unknown>>>()
      for (const state of states.values()) {
        for (const edges of state.on.values()) {
          for (const edge of edges) {
            if (edge.guard) guards.set(edge, ctx.compile(edge.guard))
            if (edge.set) sets.set(edge, ctx.compile<Record<string, unknown>>(edge.set))
          }
        }
      }
      let store: StateStore | undefined
      let timeouts: Timeouts | undefined
      const storeOf = (): StateStore => {
        if (!store) throw new StateError('ERR_STATE_NOT_STARTED', `state machine '${ctx.name}' is not started`)
        return store
      }
      const machine = createMachine({
        name: ctx.name, initial: config.initial, states, store: storeOf, pipeline: (name) => ctx.pipeline(name),
        guard: (edge) => guards.get(edge), set: (edge) => sets.get(edge), logger: ctx.logger, clock,
        maxRetries: config.maxRetries, onDue: (at) => timeouts?.arm(at),
      })
      const match = machineRoutes(machine, config.http?.prefix ?? `/${ctx.name}`, config.http?.requires?.length ? config.http.requires : undefined)
      return {
        ...machine,
        match,
        start() {
          store = openStateStore(join(ctx.dataDir, STATE_FILE))
          timeouts = createTimeouts(machine, storeOf, clock, ctx.logger)
          // Timeouts persisted by an earlier run (or another process) are due from the file, not from memory.
          timeouts.arm()
        },
        async stop() {
          await timeouts?.stop()
          timeouts = undefined
          // Transitions still running (a pipeline's step, not HTTP: servers stop first) commit before the store closes.
          await machine.drain()
          store?.close()
          store = undefined
        },
        status() {
          const next = store?.nextDue(ctx.name)
          return { instances: store?.counts(ctx.name) ?? {}, nextTimeout: next === undefined ? null : new Date(next).toISOString() }
        },
      }
    },
  })
}
