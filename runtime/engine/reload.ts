// A config reload: prepare the next generation aside (graph, changed modules started while the old ones serve,
// components reconciled) → swap → drain and stop what was replaced → dispose. Any failure before the swap stops
// what was prepared and leaves the serving generation untouched.
import type { EngineState, Logger } from '@islet/sdk'
import { stringify as stableJson } from 'safe-stable-stringify'
import type { ComponentHost, ComponentTransaction } from '../components/host.ts'
import { ConfigError, diagnosticOfError, formatDiagnostics, toPublicDiagnostic, type Diagnostic, type PublicDiagnostic } from '../config/diagnostics.ts'
import type { AppConfig, ComponentDecl, StepDecl } from '../config/types.ts'
import type { Registry } from '../plugins/registry.ts'
import type { ConfigGeneration, ModuleRecord } from './generation.ts'
import { buildGraph, type ModuleGraph } from './graph.ts'
import { planReload, type ReloadPlan } from './reload-plan.ts'

export interface ConfigReloadError {
  /** A stable code: the failing module's (ERR_MODULE_START_FAILED, …), ERR_MODULE_GRAPH_CYCLE, ERR_CONFIG_RELOAD_NEEDS_RESTART, … */
  code: string
  message: string
  /** The module that failed to be created or started. */
  module?: string
  phase?: 'create' | 'start' | 'components'
}

export interface ConfigReloadResult {
  ok: boolean
  /** The generation serving after this attempt (the previous one when it failed). */
  generation: number
  /** The hash of the config serving after this attempt. */
  hash: string
  /** When the attempt began (ISO 8601). */
  at: string
  /** Duration of the attempt, the drain of the replaced modules included. */
  ms: number
  /** Modules replaced by new instances, added, and removed, in start order; empty when the reload failed. */
  restarted: string[]
  added: string[]
  removed: string[]
  error?: ConfigReloadError
  /** Replaced modules whose stop failed or timed out after the swap (the new generation serves regardless). */
  stopErrors?: { module: string; code: string; message: string }[]
  /**
   * Components of an applied reload that could not be prepared: each keeps the generation that served it before
   * (a new one stays unloaded until its file is fixed). The config changed regardless; nothing calls a new one.
   */
  componentErrors?: { name: string; code: string; message: string; previous?: number }[]
  /** For a config that did not validate: every problem, located. */
  diagnostics?: Diagnostic[]
}

export type ConfigEvent =
  | { type: 'config.reloaded'; generation: number; hash: string; ms: number; restarted: string[]; added: string[]; removed: string[]
      componentErrors?: ConfigReloadResult['componentErrors']; at: string }
  /**
   * A reload that changed nothing: it did not validate, or a part of it failed to start. `diagnostics` (the public
   * shape, sdk `Diagnostic`) holds every problem of an edit that did not validate, else one for `error`.
   */
  | { type: 'config.reload-failed'; generation: number; error: { code: string; message: string }; diagnostics: PublicDiagnostic[]; at: string }

/** What the reloader needs from the engine. */
export interface ReloadDeps {
  logger: Logger
  /** The registry the engine started with (generation 1's); without it, a reload never swaps types. */
  registry?: Registry
  components?: ComponentHost
  /** The components a config runs: its `components:` and its deploy slots' live versions (default: the former). */
  componentDecls?(config: AppConfig): ComponentDecl[]
  current(): ConfigGeneration
  state(): EngineState
  /** Creates and starts one module of `gen`, recording the outcome in its slot; `previous` is the module it replaces. */
  bringUp(gen: ConfigGeneration, slot: ModuleRecord, previous?: ModuleRecord): Promise<void>
  /** Stops the started modules of `slots` in reverse order; returns the errors. */
  stopSlots(slots: ModuleRecord[]): Promise<unknown[]>
  /** Makes `next` the serving generation; synchronous, so no request sees half of it. */
  swap(next: ConfigGeneration): void
  /** Runs `commit` of the started modules of `slots`, in order; synchronous. */
  commit(slots: ModuleRecord[]): void
  /** Drops what generation `prev` alone held, once `next` serves and the replaced modules stopped. */
  dispose(prev: ConfigGeneration, next: ConfigGeneration): void
  /** Throws away a generation prepared for a reload that failed (its modules already stopped). */
  discard(gen: ConfigGeneration): void
  /** Puts a reload event on the engine's bus (as `islet.<type>`). */
  publish(event: ConfigEvent): void
}

export interface Reloader {
  /** `registry`: the types `next` was loaded with, when its plugin versions may differ (registry plugins). */
  reload(next: AppConfig, registry?: Registry): Promise<ConfigReloadResult>
  /** Records an edited config that did not validate as a failed reload attempt: status and events show it. */
  reject(diagnostics: readonly Diagnostic[]): Promise<ConfigReloadResult>
  /** Resolves once no reload is queued or running. */
  idle(): Promise<void>
  readonly last?: ConfigReloadResult
}

export function createReloader(deps: ReloadDeps): Reloader {
  const { logger } = deps
  let queue: Promise<unknown> = Promise.resolve()
  let last: ConfigReloadResult | undefined

  function emit(event: ConfigEvent): void {
    try { deps.publish(event) } catch (error) { logger.warn({ err: error }, 'a config event could not be published') }
  }

  function finish(result: ConfigReloadResult): ConfigReloadResult {
    last = result
    const { at, generation } = result
    if (result.ok) {
      const { hash, ms, restarted, added, removed, componentErrors } = result
      logger.info({ eventType: 'config.reloaded', generation, configHash: hash.slice(0, 12), ms, restarted, added, removed }, `config generation ${generation} serving`)
      emit({ type: 'config.reloaded', generation, hash, ms, restarted, added, removed, ...(componentErrors ? { componentErrors } : {}), at })
    } else {
      const { code, message } = result.error!
      logger.error({ eventType: 'config.reload-failed', error: result.error, generation }, `config reload failed; generation ${generation} keeps serving: ${message}`)
      const diagnostics = result.diagnostics ? result.diagnostics.map(toPublicDiagnostic) : [diagnosticOfError(code, message)]
      emit({ type: 'config.reload-failed', generation, error: { code, message }, diagnostics, at })
    }
    return result
  }

  async function apply(next: AppConfig, registry?: Registry): Promise<ConfigReloadResult> {
    const began = performance.now()
    const at = new Date().toISOString()
    const prev = deps.current()
    const ms = () => Math.round(performance.now() - began)
    const failed = (error: ConfigReloadError): ConfigReloadResult => finish({
      ok: false, generation: prev.number, hash: prev.config.hash, at, ms: ms(), restarted: [], added: [], removed: [], error,
    })
    if (deps.state() !== 'ready') return failed({ code: 'ERR_ENGINE_STATE', message: `a reload needs a ready engine; this one is ${deps.state()}` })

    let graph: ModuleGraph
    try {
      graph = buildGraph(next)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return failed({ code: error.diagnostics[0]?.code ?? error.code, message: formatDiagnostics(error.diagnostics) })
    }
    const host = deps.components
    const componentsChanged = stableJson(prev.config.components) !== stableJson(next.components)
      || stableJson(prev.config.slots ?? []) !== stableJson(next.slots ?? [])
      || stableJson(prev.config.sandbox) !== stableJson(next.sandbox)
    if (componentsChanged && !host && (next.components.length > 0 || (next.slots?.length ?? 0) > 0)) {
      return failed({ code: 'ERR_CONFIG_RELOAD_NEEDS_RESTART', message: 'adding the first component needs a restart: this engine runs no sandbox' })
    }

    // Prepare, nothing of it visible: the components first (pipelines compiled below check the ones they call), then
    // the new and changed modules, created and started in dependency order while generation N keeps serving.
    let components: ComponentTransaction | undefined
    if (componentsChanged && host) {
      if (stableJson(prev.config.sandbox) !== stableJson(next.sandbox)) {
        logger.warn('the sandbox settings changed: workers, isolation, app-wide limits and quarantine apply at the next restart')
      }
      components = await host.transaction(deps.componentDecls?.(next) ?? next.components)
      // A new component that fails, and that nothing in the new config calls, stays unloaded and is reported; the
      // reload goes on. Any other failure fails it: one the new config calls, or one with a generation serving —
      // its declaration changed (grants, limits, config), and the old generation must not go on with the old ones.
      const used = componentsUsed(next)
      const blocking = components.failed.filter((r) => used.has(r.name) || host.generation(r.name))
      if (blocking.length > 0) {
        components.abort()
        return failed({
          code: blocking[0]!.error?.code ?? 'ERR_COMPONENT_LOAD_FAILED', phase: 'components',
          message: blocking.map((r) => `component '${r.name}' ${host.generation(r.name)
            ? 'could not be rebuilt with its new declaration (grants, limits or config); the previous generation serves on with the previous one'
            : 'is called by the new config but could not be loaded'}: ${r.error?.message ?? 'unknown error'}`).join('\n'),
        })
      }
    }
    try {
      return await prepareModules(prev, next, graph, at, ms, components, failed, registry)
    } finally {
      // Whatever happened in between (a throw included), an open transaction is never left holding its components.
      components?.settle()
    }
  }

  /** The rest of a reload once its components are prepared: modules started aside, then the commit, or the rollback. */
  async function prepareModules(prev: ConfigGeneration, next: AppConfig, graph: ModuleGraph, at: string, ms: () => number,
    components: ComponentTransaction | undefined, failed: (error: ConfigReloadError) => ConfigReloadResult, registry?: Registry): Promise<ConfigReloadResult> {
    // A type whose plugin is another one now (a new locked version) is new code: what uses it restarts.
    const before = prev.registry ?? deps.registry
    const after = registry ?? before
    const typeChanged = (kind: 'module' | 'step', type: string) => before !== undefined && after !== undefined && before !== after &&
      (kind === 'module' ? before.moduleType(type)?.plugin !== after.moduleType(type)?.plugin : before.stepType(type)?.plugin !== after.stepType(type)?.plugin)
    const plan = planReload(prev.config, next, graph, typeChanged)
    const gen: ConfigGeneration = { number: prev.number + 1, config: next, graph, slots: new Map(), compiled: new Map(), appliedAt: at,
      ...(after && after !== deps.registry ? { registry: after } : {}) }
    for (const decl of graph.order) {
      const old = prev.slots.get(decl.name)
      gen.slots.set(decl.name, plan.kept.has(decl.name) && old
        // The same instance, with its service scope and the pipelines it holds.
        ? { decl, status: old.status, instance: old.instance, scope: old.scope, holds: old.holds }
        : { decl, status: { name: decl.name, type: decl.type, state: 'pending' } })
    }
    const prepared: ModuleRecord[] = []
    let failure: ConfigReloadError | undefined
    for (const decl of graph.order) {
      if (plan.kept.has(decl.name)) continue
      if (deps.state() !== 'ready') { failure = stoppingError(); break }
      const slot = gen.slots.get(decl.name)!
      const old = prev.slots.get(decl.name)
      // Its predecessor, whatever its type: ctx.previous(contract) hands it over only as a contract its type provides.
      const previous = old?.status.state === 'started' ? old : undefined
      await deps.bringUp(gen, slot, previous)
      if (slot.status.state === 'started') { prepared.push(slot); continue }
      const { phase, error } = slot.status
      failure = {
        code: error?.code ?? 'ERR_MODULE_START_FAILED', module: decl.name, phase: phase === 'create' ? 'create' : 'start',
        message: `module '${decl.name}' (${decl.type}) failed to ${phase ?? 'start'}: ${error?.message}`,
      }
      break
    }
    if (!failure && deps.state() !== 'ready') failure = stoppingError()
    if (failure) {
      // Roll back: nothing of generation N+1 was visible; what was prepared stops (newest first) and is thrown away.
      components?.abort()
      const errors = await deps.stopSlots(prepared)
      for (const error of errors) logger.warn({ err: error }, 'a module prepared for a failed reload did not stop cleanly')
      deps.discard(gen)
      return failed(failure)
    }

    // Commit, in one synchronous step: the slot table, the components and what the new modules make visible (a
    // server taking the listening socket over) switch together, so no request sees half of generation N+1.
    gen.appliedAt = new Date().toISOString()
    deps.swap(gen)
    const componentResults = components?.commit() ?? []
    deps.commit(prepared)
    const kept = componentResults.filter((r) => !r.ok).map((r) => ({
      name: r.name, code: r.error?.code ?? 'ERR_COMPONENT_LOAD_FAILED', message: r.error?.message ?? '', ...(r.previous !== undefined ? { previous: r.previous } : {}),
    }))
    if (kept.length > 0) {
      logger.warn({ eventType: 'config.reloaded', components: kept }, `config generation ${gen.number} applied; ${kept.length} component(s) could not be reloaded and keep their previous generation (or none)`)
    }
    // Drain: the replaced and removed modules stop in reverse dependency order of the old generation, so a server
    // finishes its in-flight requests before anything they use stops.
    logger.info({ eventType: 'config.reloaded', generation: gen.number, reasons: Object.fromEntries(plan.reasons) }, `config generation ${gen.number} swapped in; draining the replaced modules`)
    const replaced = replacedSlots(prev, plan)
    const errors = await deps.stopSlots(replaced)
    const stopErrors = replaced.filter((s) => s.status.state === 'failed').map((s) => ({
      module: s.decl.name, code: s.status.error!.code, message: s.status.error!.message,
    }))
    if (errors.length > 0) logger.warn({ stopErrors }, 'some replaced modules did not stop cleanly')
    // Dispose: drop what the old generation alone held. Kept modules may still run pipelines compiled for it, and
    // those reach only kept modules, so its slot table stays.
    for (const slot of replaced) slot.instance = undefined
    deps.dispose(prev, gen)
    return finish({
      ok: true, generation: gen.number, hash: next.hash, at, ms: ms(),
      restarted: plan.restarted, added: plan.added, removed: plan.removed, ...(stopErrors.length > 0 ? { stopErrors } : {}),
      ...(kept.length > 0 ? { componentErrors: kept } : {}),
    })
  }

  function enqueue(task: () => Promise<ConfigReloadResult>): Promise<ConfigReloadResult> {
    const run = queue.then(task)
    queue = run.catch(() => {})
    return run
  }

  return {
    reload: (next, registry) => enqueue(() => apply(next, registry)),
    reject: (diagnostics) => enqueue(async () => {
      const prev = deps.current()
      const errors = diagnostics.filter((d) => d.severity === 'error')
      return finish({
        ok: false, generation: prev.number, hash: prev.config.hash, at: new Date().toISOString(), ms: 0, restarted: [], added: [], removed: [],
        error: { code: 'ERR_CONFIG_INVALID', message: `the edited config has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${formatDiagnostics(diagnostics)}` },
        diagnostics: [...diagnostics],
      })
    }),
    idle: () => queue.then(() => {}),
    get last() { return last },
  }
}

function replacedSlots(prev: ConfigGeneration, plan: ReloadPlan): ModuleRecord[] {
  return prev.graph.order.filter((d) => !plan.kept.has(d.name)).map((d) => prev.slots.get(d.name)!)
}

function stoppingError(): ConfigReloadError {
  return { code: 'ERR_ENGINE_STATE', message: 'the engine began stopping during the reload' }
}

/** The components the config's pipelines call (through `component` steps, in any branch). */
export function componentsUsed(config: AppConfig): Set<string> {
  const used = new Set<string>()
  const visit = (steps: readonly StepDecl[]): void => {
    for (const step of steps) {
      if (step.kind === 'step') for (const name of step.refs.components ?? []) used.add(name)
      else { visit(step.then); visit(step.else) }
    }
  }
  for (const pipeline of Object.values(config.pipelines)) visit(pipeline.steps)
  return used
}
