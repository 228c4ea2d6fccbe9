// The engine: creates and starts the modules of one config generation in dependency order, records failures,
// and stops everything in reverse order exactly once.
import { mkdirSync } from 'node:fs'
import type { EngineState, EngineView, Logger, ModuleInstance, Pipeline } from '@islet/sdk'
import type { AppConfig, ModuleDecl } from '../config/types.ts'
import { IsletError, messageOf, type ErrorCode } from '../errors.ts'
import type { Registry } from '../plugins/registry.ts'
import { compilePipeline } from '../pipeline/compile.ts'
import { buildGraph, type ModuleGraph } from './graph.ts'
import { withDeadline } from './deadline.ts'
import { createModuleContext } from './module-context.ts'
import { createEventBus } from '../events/bus.ts'
import { createComponentHost, type ComponentHost } from '../components/host.ts'
import type { EngineServices } from './services.ts'

export interface PhaseTimeouts {
  createMs: number
  startMs: number
  stopMs: number
}

export const DEFAULT_TIMEOUTS: PhaseTimeouts = { createMs: 10_000, startMs: 10_000, stopMs: 15_000 }

export interface EngineOptions {
  config: AppConfig
  registry: Registry
  logger: Logger
  /** Absolute directory for durable module state; created at start. */
  dataDir: string
  timeouts?: Partial<PhaseTimeouts>
  /** Where granted secrets come from; defaults to process.env. */
  env?: Record<string, string | undefined>
}

export type ModuleState = 'pending' | 'created' | 'started' | 'failed' | 'skipped' | 'stopped'

export interface ModuleStatus {
  name: string
  type: string
  state: ModuleState
  /** The phase that failed, for `failed`. */
  phase?: 'create' | 'start' | 'stop'
  error?: { code: string; message: string }
}

export interface EngineStatus {
  state: EngineState
  configHash: string
  modules: ModuleStatus[]
}

export interface Engine extends EngineView {
  readonly config: AppConfig
  start(): Promise<void>
  /** Stops every started module in reverse order; idempotent (every call returns the same promise). */
  stop(): Promise<void>
  /** A started module's instance, for embedding and tests. */
  module<T extends object = ModuleInstance>(name: string): T
  status(): EngineStatus
  /** The component host, when the config declares components. */
  readonly components?: ComponentHost
}

interface Slot {
  decl: ModuleDecl
  status: ModuleStatus
  instance?: ModuleInstance
}

export function createEngine(options: EngineOptions): Engine {
  const { config, registry, logger, dataDir } = options
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
  const graph: ModuleGraph = buildGraph(config)
  const slots = new Map<string, Slot>(graph.order.map((decl) => [decl.name, {
    decl, status: { name: decl.name, type: decl.type, state: 'pending' },
  }]))
  const compiled = new Map<string, Promise<Pipeline>>()
  const events = createEventBus()
  const components = config.components.length > 0
    ? createComponentHost({ components: config.components, sandbox: config.sandbox, logger, dataDir, bus: events, env: options.env })
    : undefined
  const services: EngineServices = { events, components }
  const started: Slot[] = []
  let state: EngineState = 'idle'
  let stopping: Promise<void> | undefined
  /** The module being brought up, so a stop() during startup waits for it instead of racing it. */
  let current: Promise<void> | undefined

  const view: EngineView = { get state() { return state }, version: registry.engineVersion }

  function fail(slot: Slot, phase: 'create' | 'start' | 'stop', error: unknown): void {
    const code = (error as { code?: string }).code ?? `ERR_MODULE_${phase.toUpperCase()}_FAILED`
    slot.status = { ...slot.status, state: 'failed', phase, error: { code, message: messageOf(error) } }
    logger.error({ module: slot.decl.name, phase, err: error }, `module '${slot.decl.name}' failed to ${phase}`)
  }

  function pipeline(name: string): Promise<Pipeline> {
    let p = compiled.get(name)
    if (!p) {
      const decl = config.pipelines[name]
      p = compilePipeline(decl, {
        registry, logger, dataDir, services,
        module: (m) => slots.get(m)?.instance ?? missing(m),
      })
      compiled.set(name, p)
    }
    return p
  }
  const missing = (name: string): never => {
    throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE', `module '${name}' is not started`)
  }

  async function bringUp(slot: Slot): Promise<void> {
    const { decl } = slot
    const failedDep = [...graph.dependencies.get(decl.name)!].find((d) => slots.get(d)!.status.state !== 'started')
    if (failedDep) {
      const dep = slots.get(failedDep)!.status
      slot.status = {
        ...slot.status, state: 'skipped',
        error: { code: 'ERR_MODULE_DEPENDENCY_FAILED', message: `not started because its dependency '${failedDep}' ${dep.state === 'failed' ? `failed to ${dep.phase}` : 'was not started'}` },
      }
      return
    }
    const definition = registry.moduleType(decl.type)!.definition
    let phase: 'create' | 'start' = 'create'
    try {
      const pipelines = new Map<string, Pipeline>()
      for (const name of graph.pipelines.get(decl.name)!) pipelines.set(name, await pipeline(name))
      const ctx = createModuleContext(decl, {
        logger: logger.child({ module: decl.name }), dataDir, engine: view, pipelines,
        dependencies: graph.dependencies.get(decl.name)!,
        instance: (name) => slots.get(name)?.instance,
      })
      const instance = await withDeadline(() => definition.create(decl.config, ctx), deadline(decl, 'create', timeouts.createMs))
      slot.instance = instance
      slot.status = { ...slot.status, state: 'created' }
      phase = 'start'
      await withDeadline(() => instance.start?.(), deadline(decl, 'start', timeouts.startMs))
      slot.status = { ...slot.status, state: 'started' }
      started.push(slot)
    } catch (error) {
      fail(slot, phase, error)
      // A module created but not started may hold resources: give it its stop.
      if (phase === 'start') await stopOne(slot).catch(() => {})
    }
  }

  function deadline(decl: ModuleDecl, phase: 'create' | 'start' | 'stop', ms: number) {
    const verb = { create: 'be created', start: 'start', stop: 'stop' }[phase]
    return {
      ms, code: `ERR_MODULE_${phase.toUpperCase()}_TIMEOUT` as ErrorCode,
      message: `'${decl.name}' did not ${verb} within ${ms} ms`,
      details: { module: decl.name, phase },
      // A module whose create finishes after its deadline still gets stopped, so it leaks nothing.
      onLate: (value: unknown) => { if (phase === 'create') void (value as ModuleInstance | undefined)?.stop?.() },
    }
  }

  async function stopOne(slot: Slot): Promise<void> {
    const instance = slot.instance
    if (!instance?.stop) return
    await withDeadline(() => instance.stop!(), deadline(slot.decl, 'stop', timeouts.stopMs))
  }

  async function stopAll(): Promise<unknown[]> {
    const errors: unknown[] = []
    for (const slot of started.splice(0).reverse()) {
      try {
        await stopOne(slot)
        slot.status = { ...slot.status, state: 'stopped' }
      } catch (error) {
        fail(slot, 'stop', error)
        errors.push(error)
      }
    }
    return errors
  }

  return {
    config,
    get state() { return state },
    version: view.version,
    async start() {
      if (state !== 'idle') throw new IsletError('ERR_ENGINE_STATE', `start() called while the engine is ${state}`)
      state = 'starting'
      mkdirSync(dataDir, { recursive: true })
      if (components) {
        try {
          await components.start()
        } catch (error) {
          state = 'failed'
          throw new IsletError('ERR_ENGINE_START_FAILED', `startup failed: components could not be loaded:\n${messageOf(error)}`, { cause: error })
        }
      }
      for (const slot of slots.values()) {
        if (stopping) break // a signal arrived during startup: stop() takes over
        current = bringUp(slot)
        await current
      }
      const problems = [...slots.values()].filter((s) => s.status.state === 'failed' || s.status.state === 'skipped')
      if (problems.length === 0 && !stopping) {
        state = 'ready'
        logger.info({ modules: slots.size, configHash: config.hash.slice(0, 12) }, 'engine ready')
        return
      }
      if (stopping) { await stopping; return }
      state = 'stopping'
      await stopAll()
      await components?.stop().catch(() => {})
      state = 'failed'
      const lines = problems.map((s) => `  ${s.decl.name} (${s.decl.type}): ${s.status.state === 'failed' ? `failed to ${s.status.phase}: ` : ''}${s.status.error?.message}`)
      throw new IsletError('ERR_ENGINE_START_FAILED',
        `startup failed; every module already started was stopped:\n${lines.join('\n')}`,
        { details: { modules: problems.map((s) => s.status) } })
    },
    stop() {
      stopping ??= (async () => {
        if (state === 'idle' || state === 'stopped' || state === 'failed') { state = state === 'failed' ? 'failed' : 'stopped'; return }
        state = 'stopping'
        await current
        const errors = await stopAll()
        await components?.stop().catch((error: unknown) => errors.push(error))
        state = 'stopped'
        logger.info('engine stopped')
        if (errors.length > 0) throw errors[0]
      })()
      return stopping
    },
    module<T extends object>(name: string): T {
      const slot = slots.get(name)
      if (!slot?.instance) throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE', `module '${name}' is not started`)
      return slot.instance as T
    },
    status: () => ({ state, configHash: config.hash, modules: [...slots.values()].map((s) => s.status) }),
    components,
  }
}
