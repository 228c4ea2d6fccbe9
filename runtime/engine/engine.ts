// The engine: creates and starts the modules of a config generation in dependency order, records failures,
// replaces generations on reload (see reload.ts), and stops everything in reverse order exactly once.
import { dirname } from 'node:path'
import { mkdirSync } from 'node:fs'
import type { EngineProcessView, EngineState, EngineView, Logger, ModuleInstance, Pipeline } from '@islet/sdk'
import type { AppConfig, ModuleDecl } from '../config/types.ts'
import type { Diagnostic } from '../config/diagnostics.ts'
import { codeOf, describeThrown, IsletError, messageOf, type ErrorCode } from '../errors.ts'
import type { Registry } from '../plugins/registry.ts'
import { compilePipeline } from '../pipeline/compile.ts'
import { compileTemplate } from '../expressions/template.ts'
import { languageOf, type Language } from '../expressions/language.ts'
import { buildGraph, type ModuleGraph } from './graph.ts'
import { withDeadline } from '../deadline.ts'
import { createModuleContext } from './module-context.ts'
import { createEventBus, publishEngineEvent, type EventBus } from '../events/bus.ts'
import { createComponentHost, type ComponentHost } from '../components/host.ts'
import { createServiceScope, type ServiceBackends, type ServiceScope } from './services.ts'
import { createAdminAreas } from './admin-areas.ts'
import { createSlots } from '../slots/service.ts'
import { createOutbound } from '../outbound/outbound.ts'
import { createExecutions, type RetentionOptions } from '../executions/service.ts'
import { asContract, checkInstance, lateContract, type ModuleHandle } from './contracts.ts'
import { createReloader, type ConfigEvent, type ConfigReloadResult } from './reload.ts'
import type { ConfigGeneration, ModuleRecord, ModuleStatus } from './generation.ts'

export type { ConfigEvent, ConfigReloadResult } from './reload.ts'
export type { ConfigGeneration, ModuleRecord, ModuleState, ModuleStatus } from './generation.ts'

export interface PhaseTimeouts {
  createMs: number
  startMs: number
  stopMs: number
}

export const DEFAULT_TIMEOUTS: PhaseTimeouts = { createMs: 10_000, startMs: 10_000, stopMs: 15_000 }

/** How often an engine that is one of several processes looks for deploy-slot promotions another one made. */
export const SLOT_FOLLOW_MS = 1000

export interface EngineOptions {
  config: AppConfig
  registry: Registry
  logger: Logger
  /** Absolute directory for durable module state; created at start. */
  dataDir: string
  timeouts?: Partial<PhaseTimeouts>
  /** Where granted secrets come from; defaults to process.env. */
  env?: Record<string, string | undefined>
  /** Which of several engine processes this is (`islet run --processes`); modules see it as `ctx.engine.process`. */
  process?: EngineProcessView
  /** How long recorded executions are kept (<dataDir>/executions.db); defaults: 7 days, 10,000, output ≤ 64 KiB. */
  executions?: Partial<RetentionOptions> & { now?: () => number }
}

export interface EngineStatus {
  state: EngineState
  /** The config generation serving: 1 for the config the engine started with, +1 per applied reload. */
  generation: number
  configHash: string
  /** When the serving generation was applied (ISO 8601). */
  appliedAt: string
  /** The last reload attempt, applied or not; absent before the first. */
  lastReload?: ConfigReloadResult
  modules: ModuleStatus[]
}

export interface Engine extends EngineView {
  /** The config of the generation serving. */
  readonly config: AppConfig
  start(): Promise<void>
  /**
   * Applies an already loaded and validated config without dropping a request: prepares the changed modules
   * aside, swaps, drains and stops the replaced ones. Never rejects: a failed reload keeps the old generation
   * serving and says why in the result. Reloads run one at a time, in call order.
   */
  reload(next: AppConfig, registry?: Registry): Promise<ConfigReloadResult>
  /**
   * Records an edited config that failed validation (watch mode) as a failed reload: `status().lastReload` and the
   * `config.reload-failed` event carry its diagnostics. Nothing changes.
   */
  rejectConfig(diagnostics: readonly Diagnostic[]): Promise<ConfigReloadResult>
  /** Stops every started module in reverse order; idempotent (every call returns the same promise). */
  stop(): Promise<void>
  /** A started module's instance (of the serving generation), for embedding and tests. */
  module<T extends object = ModuleInstance>(name: string): T
  status(): EngineStatus
  /**
   * Config reload events, applied or failed; returns the undo. A typed view of the bus's `islet.config.*` topics
   * (delivered asynchronously, like every bus event).
   */
  onEvent(listener: (event: ConfigEvent) => void): () => void
  /** The event bus: app events and the engine's own (`islet.config.*`, `islet.component.*`). */
  readonly events: EventBus
  /** The component host, when the config declares components. */
  readonly components?: ComponentHost
}

export function createEngine(options: EngineOptions): Engine {
  const { config, registry, logger, dataDir } = options
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
  const graph: ModuleGraph = buildGraph(config)
  let gen: ConfigGeneration = {
    number: 1, config, graph, compiled: new Map(), appliedAt: new Date().toISOString(),
    slots: new Map(graph.order.map((decl) => [decl.name, { decl, status: { name: decl.name, type: decl.type, state: 'pending' } }])),
  }
  const events = createEventBus({ logger })
  // Deploy slots: the live version of each is a component like any other (its files in <dataDir>/slots/trees), loaded
  // once the host started (deploySlots.start) so that a slot whose code fails to load leaves the app serving the rest.
  const deploySlots = createSlots({ dataDir, logger, bus: events, slots: () => gen.config.slots ?? [], host: () => components,
    // Several engine processes share the store: each loads what another promoted (polling `live`, a cheap read).
    ...((options.process?.count ?? 1) > 1 ? { followMs: SLOT_FOLLOW_MS } : {}) })
  const hasSlots = (config.slots?.length ?? 0) > 0
  const components = config.components.length > 0 || hasSlots
    ? createComponentHost({ components: config.components, sandbox: config.sandbox,
      logger: hasSlots ? deploySlots.logs.tap(logger) : logger, dataDir, bus: events, env: options.env, baseDir: dirname(config.file), appFile: config.file })
    : undefined
  // Recorded runs of the serving generation's pipelines (execution: async|record routes, the executions service).
  const executions = createExecutions({
    dataDir, logger, bus: events, retention: options.executions, now: options.executions?.now,
    pipeline: (name) => (gen.config.pipelines[name] ? pipeline(gen, name) : undefined),
  })
  const outbound = createOutbound()
  const backends: ServiceBackends = {
    bus: events, slots: deploySlots.service, admin: createAdminAreas(), outbound, executions: executions.service, status: () => ({ ...status(), components: components?.status() ?? [], slots: deploySlots.summary() }),
    components: components && {
      has: (name) => components.has(name) || deploySlots.isSlot(name),
      invoke(name, input, opts) {
        if (!deploySlots.isSlot(name)) return components.invoke(name, input, opts)
        if (!components.has(name)) {
          return Promise.reject(new IsletError('ERR_SLOT_EMPTY', `slot '${name}' serves no version: none was promoted yet (or the live one failed to load at start: see the slot's logs)`,
            { details: { slot: name, status: 503 } }))
        }
        return components.invoke(name, input, opts).catch((error: unknown) => { deploySlots.noteFailure(name, error); throw error })
      },
    },
  }
  /** The service scopes of the pipelines compiled for (or still held by modules kept into) each generation. */
  const pipelineScopes = new WeakMap<ConfigGeneration, Set<ServiceScope>>()
  const scopeOfPipeline = new WeakMap<Promise<Pipeline>, ServiceScope>()
  const owned = (g: ConfigGeneration) => {
    let set = pipelineScopes.get(g)
    if (!set) pipelineScopes.set(g, set = new Set())
    return set
  }
  let state: EngineState = 'idle'
  let stopping: Promise<void> | undefined
  /** The module being brought up, so a stop() waits for it instead of racing it (and for reloads: reloader.idle()). */
  let current: Promise<void> | undefined

  const view: EngineView = { get state() { return state }, version: registry.engineVersion, ...(options.process ? { process: options.process } : {}) }

  /**
   * Records a failed phase, whatever was thrown (`throw undefined` included). Only an ERR_* code is reported as
   * the module's code; anything else becomes ERR_MODULE_<PHASE>_FAILED with the original as its cause.
   */
  function fail(slot: ModuleRecord, phase: 'create' | 'start' | 'stop', error: unknown): Error {
    const fallback = `ERR_MODULE_${phase.toUpperCase()}_FAILED` as ErrorCode
    const coded = error instanceof Error && codeOf(error, '') !== ''
    const code = coded ? codeOf(error, fallback) : fallback
    const message = describeThrown(error)
    const failure = coded ? error : new IsletError(fallback, `module '${slot.decl.name}' (${slot.decl.type}) failed to ${phase}: ${message}`,
      { cause: error, details: { module: slot.decl.name, phase } })
    slot.status = { ...slot.status, state: 'failed', phase, error: { code, message } }
    slot.failure = failure
    logger.error({ module: slot.decl.name, phase, err: failure }, `module '${slot.decl.name}' failed to ${phase}`)
    return failure
  }

  function pipeline(g: ConfigGeneration, name: string): Promise<Pipeline> {
    let p = g.compiled.get(name)
    if (!p) {
      const scope = createServiceScope(backends)
      p = compilePipeline(g.config.pipelines[name], {
        registry: g.registry ?? registry, logger, dataDir, appDir: dirname(g.config.file),
        services: (step) => scope.lookup(step),
        // A step type's create runs under the create deadline too: a hung step factory must not hang startup.
        stepCreateMs: timeouts.createMs,
        // Each generation's pipelines reach that generation's modules: a request finishes on the generation it began on.
        module: (m, contract, asker) => {
          const slot = g.slots.get(m)
          const target = handle(slot)
          if (target || !slot) return asContract(asker, target ?? missing(m), contract)
          // Not created yet (its own pipelines are compiled before it is): checked by its type, reached at first use.
          const provides = (g.registry ?? registry).moduleType(slot.decl.type)?.definition.provides ?? []
          asContract(asker, { name: m, type: slot.decl.type, provides, instance: {} }, contract)
          return lateContract(contract, () => asContract(asker, handle(g.slots.get(m)) ?? missing(m), contract))
        },
        // A step running another pipeline (flow's `call`) gets this generation's, compiled once like a module's.
        pipeline: (other) => pipeline(g, other),
      })
      g.compiled.set(name, p)
      scopeOfPipeline.set(p, scope)
      owned(g).add(scope)
    }
    return p
  }
  /** A started module as others reach it: its instance and its type's contracts. */
  function handle(slot: ModuleRecord | undefined): ModuleHandle | undefined {
    if (!slot?.instance) return undefined
    return { name: slot.decl.name, type: slot.decl.type, provides: (gen.registry ?? registry).moduleType(slot.decl.type)?.definition.provides ?? [], instance: slot.instance }
  }
  /**
   * Generation `prev` is replaced by `next`: the step subscriptions of its pipelines end, except those of pipelines a
   * module kept into `next` still runs (they move to `next`, and end with the generation that drops that module).
   */
  function disposeGeneration(prev: ConfigGeneration, next: ConfigGeneration | undefined): void {
    const live = new Set([...next?.slots.values() ?? []].flatMap((s) => s.holds ?? []))
    for (const scope of owned(prev)) {
      if (next && live.has(scope)) owned(next).add(scope)
      else scope.end()
    }
    pipelineScopes.delete(prev)
    prev.compiled.clear()
  }
  const missing = (name: string): never => {
    throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE', `module '${name}' is not started`)
  }

  /** Creates and starts one module of generation `g`; `previous` is the module it replaces on a reload. */
  async function bringUp(g: ConfigGeneration, slot: ModuleRecord, previous?: ModuleRecord): Promise<void> {
    const { decl } = slot
    const deps = g.graph.dependencies.get(decl.name)!
    const failedDep = [...deps].find((d) => g.slots.get(d)!.status.state !== 'started')
    if (failedDep) {
      const dep = g.slots.get(failedDep)!.status
      slot.status = {
        ...slot.status, state: 'skipped',
        error: { code: 'ERR_MODULE_DEPENDENCY_FAILED', message: `not started because its dependency '${failedDep}' ${dep.state === 'failed' ? `failed to ${dep.phase}` : 'was not started'}` },
      }
      return
    }
    const { definition, plugin } = (g.registry ?? registry).moduleType(decl.type)!
    let phase: 'create' | 'start' = 'create'
    const scope = slot.scope = createServiceScope(backends)
    try {
      const pipelines = new Map<string, Pipeline>()
      slot.holds = []
      for (const name of g.graph.pipelines.get(decl.name)!) {
        pipelines.set(name, await pipeline(g, name))
        slot.holds.push(scopeOfPipeline.get(g.compiled.get(name)!)!)
      }
      // What `ctx.compile`'s expressions may name: built on the module's first compile, once.
      let language: Language | undefined
      const ctx = createModuleContext(decl, {
        logger: logger.child({ module: decl.name }), dataDir, engine: view, pipelines, dependencies: deps,
        previous: handle(previous),
        service: scope.lookup({ who: `module '${decl.name}' (${decl.type})`, source: `module:${decl.name}`, plugin }),
        appDir: dirname(g.config.file),
        lookup: (name) => handle(g.slots.get(name)),
        compile: (value) => compileTemplate(value, language ??= languageOf(g.registry ?? registry)),
      })
      const instance = await withDeadline(() => definition.create(decl.config, ctx), deadline(decl, 'create', timeouts.createMs))
      slot.instance = instance
      try {
        checkInstance(decl.name, decl.type, definition.provides ?? [], instance)
      } catch (error) {
        // Created, so it may hold resources: it gets its stop, but it never starts.
        await withDeadline(() => instance?.stop?.(), deadline(decl, 'stop', timeouts.stopMs)).catch(() => {})
        slot.instance = undefined
        throw error
      }
      slot.status = { ...slot.status, state: 'created' }
      phase = 'start'
      await withDeadline(() => instance.start?.(), deadline(decl, 'start', timeouts.startMs))
      slot.status = { ...slot.status, state: 'started' }
    } catch (error) {
      fail(slot, phase, error)
      // A module created but not started may hold resources: give it its stop.
      if (phase === 'start') await stopOne(slot).catch(() => {})
      scope.end()
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

  async function stopOne(slot: ModuleRecord): Promise<void> {
    const instance = slot.instance
    try {
      if (instance?.stop) await withDeadline(() => instance.stop!(), deadline(slot.decl, 'stop', timeouts.stopMs))
    } finally {
      // Stopped, failed to stop or late: either way no event reaches it any more.
      slot.scope?.end()
    }
  }

  /** Stops the started modules of `slots` in reverse of their order, every one even when some fail. */
  async function stopSlots(slots: ModuleRecord[]): Promise<unknown[]> {
    const errors: unknown[] = []
    for (const slot of [...slots].reverse()) {
      if (slot.status.state !== 'started') continue
      try {
        await stopOne(slot)
        slot.status = { ...slot.status, state: 'stopped' }
      } catch (error) {
        errors.push(fail(slot, 'stop', error))
      }
    }
    return errors
  }

  /** Runs `commit` of each started module of `slots` in order: what they make visible, all in one synchronous step. */
  function commitSlots(slots: ModuleRecord[]): void {
    for (const slot of slots) {
      if (slot.status.state !== 'started') continue
      try {
        slot.instance?.commit?.()
      } catch (error) {
        logger.error({ module: slot.decl.name, err: error }, `module '${slot.decl.name}' threw in commit; commit must not throw`)
      }
    }
  }

  const reloader = createReloader({
    logger, components, registry,
    componentDecls: (next) => [...next.components, ...deploySlots.liveDecls(next.slots ?? [])],
    current: () => gen,
    state: () => (stopping ? 'stopping' : state),
    bringUp, stopSlots,
    swap(next) { gen = next },
    commit: commitSlots,
    dispose: disposeGeneration,
    discard: (g) => disposeGeneration(g, undefined),
    publish: (event) => publishEngineEvent(events, event),
  })

  function status(): EngineStatus {
    return {
      state, generation: gen.number, configHash: gen.config.hash, appliedAt: gen.appliedAt,
      ...(reloader.last ? { lastReload: reloader.last } : {}),
      modules: [...gen.slots.values()].map(moduleStatus),
    }
  }

  function moduleStatus(record: ModuleRecord): ModuleStatus {
    const report = record.status.state === 'started' ? record.instance?.status : undefined
    if (typeof report !== 'function') return record.status
    try {
      return { ...record.status, detail: report.call(record.instance) }
    } catch (error) {
      return { ...record.status, detail: { error: messageOf(error) } }
    }
  }

  return {
    get config() { return gen.config },
    get state() { return state },
    version: view.version,
    async start() {
      if (state !== 'idle') throw new IsletError('ERR_ENGINE_STATE', `start() called while the engine is ${state}`)
      state = 'starting'
      mkdirSync(dataDir, { recursive: true })
      // Executions a crashed engine left running are marked interrupted before anything can follow them.
      executions.start()
      if (components) {
        try {
          await components.start()
          await deploySlots.start()
        } catch (error) {
          deploySlots.close()
          state = 'failed'
          throw new IsletError('ERR_ENGINE_START_FAILED', `startup failed: components could not be loaded:\n${messageOf(error)}`, { cause: error })
        }
      }
      for (const slot of gen.slots.values()) {
        if (stopping) break // a signal arrived during startup: stop() takes over
        current = bringUp(gen, slot)
        await current
      }
      const problems = [...gen.slots.values()].filter((s) => s.status.state === 'failed' || s.status.state === 'skipped')
      if (problems.length === 0 && !stopping) {
        commitSlots([...gen.slots.values()])
        state = 'ready'
        gen.appliedAt = new Date().toISOString()
        logger.info({ modules: gen.slots.size, configHash: config.hash.slice(0, 12) }, 'engine ready')
        deploySlots.warm()
        return
      }
      if (stopping) { await stopping; return }
      state = 'stopping'
      executions.interrupt()
      await stopSlots([...gen.slots.values()])
      executions.close()
      disposeGeneration(gen, undefined)
      await components?.stop().catch(() => {})
      deploySlots.close()
      await outbound.close()
      state = 'failed'
      const lines = problems.map((s) => `  ${s.decl.name} (${s.decl.type}): ${s.status.state === 'failed' ? `failed to ${s.status.phase}: ` : ''}${s.status.error?.message}`)
      throw new IsletError('ERR_ENGINE_START_FAILED',
        `startup failed; every module already started was stopped:\n${lines.join('\n')}`,
        { details: { modules: problems.map((s) => s.status) }, cause: problems.find((s) => s.failure)?.failure })
    },
    reload: (next, nextRegistry) => reloader.reload(next, nextRegistry),
    rejectConfig: (diagnostics) => reloader.reject(diagnostics),
    stop() {
      stopping ??= (async () => {
        if (state === 'idle' || state === 'stopped' || state === 'failed') { state = state === 'failed' ? 'failed' : 'stopped'; return }
        state = 'stopping'
        await current
        await reloader.idle()
        // Background executions end interrupted while the modules their steps use are still up; a recorded run tied
        // to a request ends with its request (the server's drain).
        executions.interrupt()
        const errors = await stopSlots([...gen.slots.values()])
        executions.close()
        disposeGeneration(gen, undefined)
        await components?.stop().catch((error: unknown) => errors.push(error))
        deploySlots.close()
        await outbound.close().catch((error: unknown) => errors.push(error))
        state = 'stopped'
        logger.info('engine stopped')
        if (errors.length > 0) throw errors[0]
      })()
      return stopping
    },
    module<T extends object>(name: string): T {
      const slot = gen.slots.get(name)
      if (!slot?.instance) throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE', `module '${name}' is not started`)
      return slot.instance as T
    },
    status,
    onEvent: (listener) => events.subscribe('islet.config.*', (event) => listener(event.payload as ConfigEvent)),
    events,
    components,
  }
}
