// A config reload: prepare the next generation aside (graph, changed modules started while the old ones serve,
// components reconciled) → swap → drain and stop what was replaced → dispose. Any failure before the swap stops
// what was prepared and leaves the serving generation untouched.
import type { EngineState, Logger } from '@islet/sdk'
import type { ComponentHost } from '../components/host.ts'
import { ConfigError, formatDiagnostics } from '../config/diagnostics.ts'
import type { AppConfig, ComponentDecl } from '../config/types.ts'
import { messageOf } from '../errors.ts'
import type { Generation, Slot } from './engine.ts'
import { buildGraph, type ModuleGraph } from './graph.ts'
import { planReload, stableJson, type ReloadPlan } from './reload-plan.ts'

export interface ReloadError {
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
  error?: ReloadError
  /** Replaced modules whose stop failed or timed out after the swap (the new generation serves regardless). */
  stopErrors?: { module: string; code: string; message: string }[]
}

export type ConfigEvent =
  | { type: 'config.reloaded'; generation: number; hash: string; ms: number; restarted: string[]; added: string[]; removed: string[]; at: string }
  | { type: 'config.reload-failed'; generation: number; error: { code: string; message: string }; at: string }

/** What the reloader needs from the engine. */
export interface ReloadDeps {
  logger: Logger
  components?: ComponentHost
  current(): Generation
  state(): EngineState
  /** Creates and starts one module of `gen`, recording the outcome in its slot. */
  bringUp(gen: Generation, slot: Slot, previous?: object): Promise<void>
  /** Stops the started modules of `slots` in reverse order; returns the errors. */
  stopSlots(slots: Slot[]): Promise<unknown[]>
  /** Makes `next` the serving generation; synchronous, so no request sees half of it. */
  swap(next: Generation): void
}

export interface Reloader {
  reload(next: AppConfig): Promise<ConfigReloadResult>
  /** Resolves once no reload is queued or running. */
  idle(): Promise<void>
  onEvent(listener: (event: ConfigEvent) => void): () => void
  readonly last?: ConfigReloadResult
}

/** The component host's reconcile (runtime/components/host.ts), reached by duck typing while it lands. */
type Reconcile = (decls: readonly ComponentDecl[]) => Promise<{ name: string; ok: boolean; error?: unknown }[]>

export function createReloader(deps: ReloadDeps): Reloader {
  const { logger } = deps
  const listeners = new Set<(event: ConfigEvent) => void>()
  let queue: Promise<unknown> = Promise.resolve()
  let last: ConfigReloadResult | undefined

  function emit(event: ConfigEvent): void {
    for (const listener of listeners) {
      try { listener(event) } catch (error) { logger.warn({ err: error }, 'a config event listener threw') }
    }
  }

  function finish(result: ConfigReloadResult): ConfigReloadResult {
    last = result
    const { at, generation } = result
    if (result.ok) {
      const { hash, ms, restarted, added, removed } = result
      logger.info({ generation, configHash: hash.slice(0, 12), ms, restarted, added, removed }, `config generation ${generation} serving`)
      emit({ type: 'config.reloaded', generation, hash, ms, restarted, added, removed, at })
    } else {
      const { code, message } = result.error!
      logger.error({ error: result.error, generation }, `config reload failed; generation ${generation} keeps serving: ${message}`)
      emit({ type: 'config.reload-failed', generation, error: { code, message }, at })
    }
    return result
  }

  async function apply(next: AppConfig): Promise<ConfigReloadResult> {
    const began = performance.now()
    const at = new Date().toISOString()
    const prev = deps.current()
    const ms = () => Math.round(performance.now() - began)
    const failed = (error: ReloadError): ConfigReloadResult => finish({
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
      || stableJson(prev.config.sandbox) !== stableJson(next.sandbox)
    if (componentsChanged && !host && next.components.length > 0) {
      return failed({ code: 'ERR_CONFIG_RELOAD_NEEDS_RESTART', message: 'adding the first component needs a restart: this engine runs no sandbox' })
    }

    // Prepare: the new generation, the kept modules' instances carried over, the others created and started in
    // dependency order while the old generation keeps serving.
    const plan = planReload(prev.config, next, graph)
    const gen: Generation = { number: prev.number + 1, config: next, graph, slots: new Map(), compiled: new Map(), appliedAt: at }
    for (const decl of graph.order) {
      const old = prev.slots.get(decl.name)
      gen.slots.set(decl.name, plan.kept.has(decl.name) && old
        ? { decl, status: old.status, instance: old.instance }
        : { decl, status: { name: decl.name, type: decl.type, state: 'pending' } })
    }
    const prepared: Slot[] = []
    let failure: ReloadError | undefined
    for (const decl of graph.order) {
      if (plan.kept.has(decl.name)) continue
      if (deps.state() !== 'ready') { failure = stoppingError(); break }
      const slot = gen.slots.get(decl.name)!
      const old = prev.slots.get(decl.name)
      const previous = old?.decl.type === decl.type && old.status.state === 'started' ? old.instance : undefined
      await deps.bringUp(gen, slot, previous)
      if (slot.status.state === 'started') { prepared.push(slot); continue }
      const { phase, error } = slot.status
      failure = {
        code: error?.code ?? 'ERR_MODULE_START_FAILED', module: decl.name, phase: phase === 'create' ? 'create' : 'start',
        message: `module '${decl.name}' (${decl.type}) failed to ${phase ?? 'start'}: ${error?.message}`,
      }
      break
    }
    if (!failure && componentsChanged && host) {
      if (stableJson(prev.config.sandbox) !== stableJson(next.sandbox)) {
        logger.warn('the sandbox settings changed: workers, app-wide limits and quarantine apply at the next restart')
      }
      failure = await reconcile(host, next.components)
    }
    if (!failure && deps.state() !== 'ready') failure = stoppingError()
    if (failure) {
      // Roll back: what was prepared stops (newest first); a module that took something over gives it back.
      const errors = await deps.stopSlots(prepared)
      for (const error of errors) logger.warn({ err: error }, 'a module prepared for a failed reload did not stop cleanly')
      return failed(failure)
    }

    // Swap, then drain: the replaced and removed modules stop in reverse dependency order of the old generation,
    // so a server finishes its in-flight requests before anything they use stops.
    gen.appliedAt = new Date().toISOString()
    deps.swap(gen)
    logger.info({ generation: gen.number, reasons: Object.fromEntries(plan.reasons) }, `config generation ${gen.number} swapped in; draining the replaced modules`)
    const replaced = replacedSlots(prev, plan)
    const errors = await deps.stopSlots(replaced)
    const stopErrors = replaced.filter((s) => s.status.state === 'failed').map((s) => ({
      module: s.decl.name, code: s.status.error!.code, message: s.status.error!.message,
    }))
    if (errors.length > 0) logger.warn({ stopErrors }, 'some replaced modules did not stop cleanly')
    // Dispose: drop what the old generation alone held. Kept modules may still run pipelines compiled for it, and
    // those reach only kept modules, so its slot table stays.
    for (const slot of replaced) slot.instance = undefined
    prev.compiled.clear()
    return finish({
      ok: true, generation: gen.number, hash: next.hash, at, ms: ms(),
      restarted: plan.restarted, added: plan.added, removed: plan.removed, ...(stopErrors.length > 0 ? { stopErrors } : {}),
    })
  }

  return {
    reload(next) {
      const run = queue.then(() => apply(next))
      queue = run.catch(() => {})
      return run
    },
    idle: () => queue.then(() => {}),
    onEvent(listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    get last() { return last },
  }
}

function replacedSlots(prev: Generation, plan: ReloadPlan): Slot[] {
  return prev.graph.order.filter((d) => !plan.kept.has(d.name)).map((d) => prev.slots.get(d.name)!)
}

function stoppingError(): ReloadError {
  return { code: 'ERR_ENGINE_STATE', message: 'the engine began stopping during the reload' }
}

async function reconcile(host: ComponentHost, decls: readonly ComponentDecl[]): Promise<ReloadError | undefined> {
  const fn = (host as { reconcile?: unknown }).reconcile
  if (typeof fn !== 'function') {
    return { code: 'ERR_CONFIG_RELOAD_NEEDS_RESTART', phase: 'components', message: 'this component host cannot reload components; changing them needs a restart' }
  }
  let results: Awaited<ReturnType<Reconcile>>
  try {
    results = await (fn as Reconcile).call(host, decls)
  } catch (error) {
    return { code: codeOf(error), phase: 'components', message: `components could not be reloaded: ${messageOf(error)}` }
  }
  const bad = results.filter((r) => !r.ok)
  if (bad.length === 0) return undefined
  return {
    code: codeOf(bad[0]!.error), phase: 'components',
    message: bad.map((r) => {
      const text = textOf(r.error)
      return text.includes(`'${r.name}'`) ? text : `component '${r.name}' could not be reloaded: ${text}`
    }).join('\n'),
  }
}

/** Reconcile results may carry an Error, a `{ code, message }` DTO or a string. */
function textOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message
  return typeof message === 'string' ? message : error === undefined ? 'unknown error' : messageOf(error)
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && code.startsWith('ERR_') ? code : 'ERR_COMPONENT_LOAD_FAILED'
}
