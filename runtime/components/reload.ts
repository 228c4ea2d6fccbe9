// Replacing a component's generation while it serves (STYLE 15): prepare the new one aside (compile, load, init, its
// own examples as a smoke test), swap it in with one map write, drain the calls still running on the old one (with a
// deadline), then dispose the old one. A failure at any step leaves the old generation serving and is recorded.
import type { Logger } from '@islet/sdk'
import { stringify as stableJson } from 'safe-stable-stringify'
import { diagnosticOfError, formatDiagnostics, toPublicDiagnostic, type Diagnostic, type PublicDiagnostic, type SourceLocation } from '../config/diagnostics.ts'
import type { ComponentDecl } from '../config/types.ts'
import { IsletError, messageOf } from '../errors.ts'
import { ComponentCompileError, type CompiledComponent } from './compile.ts'
import { exampleFailure, type ExampleRun } from './examples.ts'
import type { ComponentGeneration } from './generation.ts'

export type ReloadPhase = 'compile' | 'load' | 'init' | 'examples'

export interface ComponentReloadError {
  code: string
  message: string
  /** Where the preparation stopped. */
  phase?: ReloadPhase
  /** For compile errors: every problem, located file:line:col. */
  diagnostics?: Diagnostic[]
  /** Where the failure is, when the error says (a failing example: the example in the source). */
  location?: SourceLocation
}

/**
 * Where a reload's time went, in ms; `loadMs` is the isolate and its validators, `examplesMs` the smoke test on its
 * throwaway isolate (whatever of that isolate's load did not overlap `loadMs`, its init, the examples), `swapMs` the
 * switch itself.
 */
export interface ReloadTimings {
  compileMs: number
  loadMs: number
  initMs: number
  examplesMs: number
  swapMs: number
}

export interface ReloadResult {
  name: string
  ok: boolean
  /** The generation now serving, when this call put one in place (or, with `unchanged`, kept it). */
  generation?: number
  /** The generation that served before: replaced on success, still serving on failure. */
  previous?: number
  ms: number
  /** `ifChanged` found the sources and declaration of the live generation: nothing was built. */
  unchanged?: boolean
  timings?: ReloadTimings
  /** The smoke test: each example's outcome and what it emitted (captured, never published). */
  examples?: ExampleRun
  error?: ComponentReloadError
}

export interface ReloadOptions {
  /** Builds no generation when the compiled sources and the declaration are the live generation's (watch mode). */
  ifChanged?: boolean
}

export type ComponentEvent =
  | { type: 'component.added'; name: string; generation: number; ms: number; at: string }
  | { type: 'component.reloaded'; name: string; generation: number; previous: number; ms: number; at: string }
  | { type: 'component.unchanged'; name: string; generation: number; at: string }
  /** `diagnostics` (the public shape, sdk `Diagnostic`): every compile problem, else one for `error`. */
  | { type: 'component.reload-failed'; name: string; previous?: number; error: ComponentReloadError; diagnostics: PublicDiagnostic[]; at: string }
  | { type: 'component.removed'; name: string; previous: number; at: string }
  /** An old generation was disposed: after its last call finished (`drained`), or at the drain deadline. */
  | { type: 'component.retired'; name: string; generation: number; drained: boolean; ms: number; at: string }

/** A generation with the calls running on it counted, so a reload can wait for them. */
export interface LiveGeneration extends ComponentGeneration {
  inflight: number
  /** Set while a drain waits for `inflight` to reach 0. */
  onIdle?: () => void
}

/** What the host lends the reloads: its maps and the steps of building and disposing a generation. */
export interface ReloadDeps {
  logger: Logger
  current: Map<string, LiveGeneration>
  /** What each name should run (the latest declaration), loaded or not. */
  declared: Map<string, ComponentDecl>
  compile(decl: ComponentDecl): Promise<CompiledComponent>
  /** Loads and inits a generation aside; on failure it has cleaned up after itself. Init failures carry details.phase 'init'. */
  load(decl: ComponentDecl, compiled: CompiledComponent, timings: ReloadTimings): Promise<LiveGeneration>
  /**
   * Runs the generation's examples on a throwaway isolate of its code with throwaway capabilities, up to the first
   * failure; `gen`'s own isolate never runs one, and nothing they do reaches the app (examples.ts).
   */
  examples(gen: LiveGeneration): Promise<ExampleRun>
  dispose(gen: LiveGeneration): void
  /** The name now runs a new generation (quarantine starts over), or none (forget everything about it). */
  swapped(name: string, gen: LiveGeneration | undefined): void
  isStopped(): boolean
  /** Puts a reload event on the engine's bus (as `islet.<type>`: the host's publishEngineEvent). */
  publish(event: ComponentEvent): void
}

export interface ReloadRecord {
  lastReload?: { at: string; ms: number; ok: boolean }
  lastError?: ComponentReloadError & { at: string }
  /** The last attempt failed; whatever served before still serves. */
  isFailing: boolean
}

/** Components prepared for a config reload, not yet serving (see Reloads.transaction). */
export interface ComponentTransaction {
  /** The components that could not be prepared; each keeps whatever served it before (if anything). */
  readonly failed: readonly ReloadResult[]
  /** Whether `name` is prepared and waiting for the commit. */
  has(name: string): boolean
  /** Swaps every prepared component in and removes the undeclared ones, in one synchronous step; returns what happened. */
  commit(): ReloadResult[]
  /** Throws every prepared generation away; nothing changed. */
  abort(): void
  /** Aborts the transaction unless it was committed or aborted already (a `finally` for callers). */
  settle(): void
}

export interface Reloads {
  reload(name: string, options?: ReloadOptions): Promise<ReloadResult>
  /**
   * Serves `decl` under its name from now on (a deploy slot's promoted version: another file, same name): prepared
   * aside like a reload (compile, load, init, examples), swapped in, the old generation drained. Adds the name when
   * nothing served it. A failure leaves whatever served before serving. Never rejects.
   */
  replace(decl: ComponentDecl): Promise<ReloadResult>
  /**
   * Builds what a reload of `name` would build (compile, load, init, examples), silently and without swapping it in:
   * the next reload takes it if the sources and declaration are still the same, else disposes it. Watch mode calls
   * this at the first file event, so the build after the debounce is only the swap.
   */
  prepareAhead(name: string): Promise<void>
  /** Brings the components in line with `decls`, all or nothing: one failure and nothing changes (the failures are returned). */
  reconcile(decls: readonly ComponentDecl[]): Promise<ReloadResult[]>
  /** Prepares the changes `decls` make aside; the caller commits or aborts them (a config reload, with its modules). */
  transaction(decls: readonly ComponentDecl[]): Promise<ComponentTransaction>
  /** Whether an open transaction has `name` prepared. */
  staged(name: string): boolean
  record(name: string): ReloadRecord | undefined
  /** Ends every drain at once (the host is stopping: its sandbox goes away with the calls). */
  stop(): Promise<void>
}

/** Drain deadline past the old generation's own timeout: its calls end by then, or its worker is killed. */
const DRAIN_GRACE_MS = 1000

export function createReloads(deps: ReloadDeps): Reloads {
  const { logger, current, declared } = deps
  const queues = new Map<string, Promise<unknown>>()
  const records = new Map<string, ReloadRecord>()
  const drains = new Set<{ end(): void; done: Promise<void> }>()
  /** Generations built ahead of a reload (prepareAhead), not serving; the next reload of the name takes or disposes it. */
  const ahead = new Map<string, Extract<Prepared, { kind: 'built' }>>()
  /** The names each open transaction has prepared and not yet swapped in. */
  const transactions = new Set<Set<string>>()
  const now = () => new Date().toISOString()

  function emit(event: ComponentEvent): void {
    try { deps.publish(event) } catch (error) { logger.error({ err: error, event: event.type }, 'a component event could not be published') }
  }

  /** Runs `task` after every earlier task for `name`: one reload, add or removal of a component at a time. */
  function serial(name: string, task: () => Promise<ReloadResult>): Promise<ReloadResult> {
    const next = (queues.get(name) ?? Promise.resolve()).then(task)
    const tail = next.catch(() => {})
    queues.set(name, tail)
    void tail.then(() => { if (queues.get(name) === tail) queues.delete(name) })
    return next
  }

  /** What preparing a generation aside came to: built and checked (not serving yet), unchanged, or failed (recorded). */
  type Prepared =
    | { kind: 'built'; gen: LiveGeneration; started: number; timings: ReloadTimings; run: ExampleRun }
    | { kind: 'done'; result: ReloadResult }

  /**
   * Prepare: compile, load a new generation in its own isolate, init, run its examples — all aside, while whatever
   * serves `name` keeps serving. Touches nothing live; a failure is recorded, reported and cleaned up.
   */
  async function prepare(name: string, decl: ComponentDecl, options: ReloadOptions, isAhead = false): Promise<Prepared> {
    const started = performance.now()
    const old = current.get(name)
    const timings: ReloadTimings = { compileMs: 0, loadMs: 0, initMs: 0, examplesMs: 0, swapMs: 0 }
    let phase: ReloadPhase = 'compile'
    let gen: LiveGeneration | undefined
    let run: ExampleRun | undefined
    try {
      if (deps.isStopped()) throw new IsletError('ERR_ENGINE_STATE', `component '${name}' cannot be reloaded: the component host is stopped`)
      const compiled = await deps.compile(decl)
      timings.compileMs = performance.now() - started
      if (options.ifChanged && old && compiled.hash === old.hash && stableKey(old.decl) === stableKey(decl)) {
        if (isAhead) return { kind: 'done', result: { name, ok: true, ms: 0, unchanged: true } }
        discardAhead(name)
        records.set(name, { ...records.get(name), isFailing: false, lastReload: { at: now(), ms: performance.now() - started, ok: true } })
        emit({ type: 'component.unchanged', name, generation: old.number, at: now() })
        return { kind: 'done', result: { name, ok: true, generation: old.number, previous: old.number, ms: performance.now() - started, unchanged: true, timings } }
      }
      // Built ahead from exactly these sources and this declaration (during watch mode's debounce): it is this build.
      const early = isAhead ? undefined : takeAhead(name, compiled.hash, decl)
      if (early) return { ...early, started, timings: { ...early.timings, compileMs: timings.compileMs } }
      phase = 'load'
      const built = gen = await deps.load(decl, compiled, timings)
      phase = 'examples'
      const t = performance.now()
      run = await deps.examples(built)
      timings.examplesMs = performance.now() - t
      const failed = run.results.find((r) => !r.ok)
      if (failed) throw exampleFailure(name, built.files, failed, 'on the new code')
      if (deps.isStopped()) throw new IsletError('ERR_ENGINE_STATE', `component '${name}' was not swapped in: the host stopped meanwhile`)
      return { kind: 'built', gen: built, started, timings, run }
    } catch (error) {
      if (gen) deps.dispose(gen)
      // Ahead of time a failure is not news: the build after the debounce meets it again and reports it.
      if (isAhead) return { kind: 'done', result: { name, ok: false, ms: 0 } }
      return { kind: 'done', result: { ...fail(name, old, toReloadError(name, error, phase), performance.now() - started, timings), ...(run ? { examples: run } : {}) } }
    }
  }

  /** The generation built ahead for `name`, if it was built from `hash` and `decl`; any other is disposed. */
  function takeAhead(name: string, hash: string, decl: ComponentDecl): Extract<Prepared, { kind: 'built' }> | undefined {
    const early = ahead.get(name)
    ahead.delete(name)
    if (!early) return undefined
    if (early.gen.hash === hash && stableKey(early.gen.decl) === stableKey(decl)) return early
    deps.dispose(early.gen)
    return undefined
  }

  function discardAhead(name: string): void {
    const early = ahead.get(name)
    ahead.delete(name)
    if (early) deps.dispose(early.gen)
  }

  /** Swap (one map write: pipeline steps look the component up per call), then drain and dispose the old generation. */
  function install(name: string, prepared: Extract<Prepared, { kind: 'built' }>): ReloadResult {
    const { gen, started, timings, run } = prepared
    const old = current.get(name)
    const t = performance.now()
    current.set(name, gen)
    deps.swapped(name, gen)
    timings.swapMs = performance.now() - t
    const ms = performance.now() - started
    records.set(name, { ...records.get(name), isFailing: false, lastReload: { at: now(), ms, ok: true } })
    logger.info({ eventType: old ? 'component.reloaded' : 'component.added', component: name, generation: gen.number, previous: old?.number, ms: round(ms), hash: gen.hash.slice(0, 12) },
      old ? `component '${name}' reloaded: generation ${gen.number} replaces ${old.number}` : `component '${name}' added`)
    emit(old ? { type: 'component.reloaded', name, generation: gen.number, previous: old.number, ms, at: now() }
      : { type: 'component.added', name, generation: gen.number, ms, at: now() })
    if (old) retire(name, old)
    return { name, ok: true, generation: gen.number, ...(old ? { previous: old.number } : {}), ms, timings, examples: run }
  }

  async function replace(name: string, decl: ComponentDecl, options: ReloadOptions): Promise<ReloadResult> {
    const prepared = await prepare(name, decl, options)
    return prepared.kind === 'built' ? install(name, prepared) : prepared.result
  }

  /**
   * A config reload's components, as one transaction: every changed or new one is prepared aside; `commit` swaps
   * them all in (and removes the ones no longer declared) in one synchronous step; `abort` throws them away. The
   * names involved are held (no watch rebuild of them runs) until one of the two is called.
   */
  async function transaction(decls: readonly ComponentDecl[]): Promise<ComponentTransaction> {
    const wanted = new Map(decls.map((d) => [d.name, d]))
    const isServing = (decl: ComponentDecl) => {
      const live = current.get(decl.name)
      return live !== undefined && stableKey(live.decl) === stableKey(decl)
    }
    let settle!: (commit: boolean) => void
    const settled = new Promise<boolean>((resolve) => { settle = resolve })
    const outcomes = new Map<string, Prepared | 'remove' | 'unchanged'>()
    const turns: Promise<void>[] = []
    const hold = (name: string, work: () => Promise<Prepared | 'remove' | 'unchanged'>) => {
      let reached!: () => void
      turns.push(new Promise<void>((resolve) => { reached = resolve }))
      // The name's queue stays held until the transaction settles; the result is the one its commit or abort gave.
      void serial(name, async () => {
        try { outcomes.set(name, await work()) } finally { reached() }
        await settled
        const outcome = outcomes.get(name)!
        return typeof outcome === 'object' && outcome.kind === 'done' ? outcome.result : { name, ok: true, ms: 0 }
      })
    }
    for (const name of declared.keys()) if (!wanted.has(name)) hold(name, async () => 'remove')
    // Unchanged and serving, with nothing queued that could change that: nothing to do. A failed name is retried.
    for (const decl of decls) {
      if (isServing(decl) && !queues.has(decl.name)) continue
      hold(decl.name, async () => (isServing(decl) ? 'unchanged' : prepare(decl.name, decl, {})))
    }
    await Promise.all(turns)
    const staged = new Set([...outcomes].filter(([, o]) => typeof o === 'object' && o.kind === 'built').map(([name]) => name))
    transactions.add(staged)
    let isSettled = false
    const end = (commit: boolean) => {
      if (isSettled) throw new IsletError('ERR_ENGINE_STATE', 'this component transaction was already committed or aborted')
      isSettled = true
      transactions.delete(staged)
      settle(commit)
    }
    const results = [...outcomes].flatMap(([name, o]): ReloadResult[] => (typeof o === 'object' && o.kind === 'done' ? [o.result] : []))
    return {
      failed: results.filter((r) => !r.ok),
      has: (name) => staged.has(name),
      commit() {
        end(true)
        const committed: ReloadResult[] = []
        for (const [name, outcome] of outcomes) {
          if (outcome === 'remove') committed.push(remove(name))
          else if (typeof outcome === 'object' && outcome.kind === 'built') committed.push(install(name, outcome))
        }
        // The new declarations, also of names that failed: their next rebuild (a fixed file) builds what is declared now.
        for (const decl of decls) declared.set(decl.name, decl)
        return [...committed, ...results]
      },
      abort,
      settle() { if (!isSettled) abort() },
    }
    function abort(): void {
      end(false)
      for (const outcome of outcomes.values()) if (typeof outcome === 'object' && outcome.kind === 'built') deps.dispose(outcome.gen)
    }
  }

  function fail(name: string, old: LiveGeneration | undefined, error: ComponentReloadError, ms: number, timings: ReloadTimings): ReloadResult {
    const at = now()
    records.set(name, { lastReload: { at, ms, ok: false }, lastError: { ...error, at }, isFailing: true })
    logger.warn({ eventType: 'component.reload-failed', component: name, code: error.code, phase: error.phase, previous: old?.number },
      `component '${name}' was not reloaded${old ? `; generation ${old.number} keeps serving` : ''}: ${error.message}`)
    const file = declared.get(name)?.file
    const diagnostics = error.diagnostics?.map(toPublicDiagnostic)
      ?? [diagnosticOfError(error.code, error.message, error.location ?? (file ? { file } : undefined))]
    emit({ type: 'component.reload-failed', name, ...(old ? { previous: old.number } : {}), error, diagnostics, at })
    return { name, ok: false, ...(old ? { previous: old.number } : {}), ms, timings, error }
  }

  function remove(name: string): ReloadResult {
    discardAhead(name)
    const started = performance.now()
    const old = current.get(name)
    current.delete(name)
    declared.delete(name)
    records.delete(name)
    deps.swapped(name, undefined)
    if (!old) return { name, ok: true, ms: performance.now() - started }
    logger.info({ eventType: 'component.removed', component: name, previous: old.number }, `component '${name}' removed`)
    emit({ type: 'component.removed', name, previous: old.number, at: now() })
    retire(name, old)
    return { name, ok: true, previous: old.number, ms: performance.now() - started }
  }

  /** Drain, then dispose: in the background, so a long call on the old generation never holds up the next reload. */
  function retire(name: string, gen: LiveGeneration): void {
    const started = performance.now()
    const deadlineMs = gen.limits.timeoutMs + DRAIN_GRACE_MS
    let end!: (drained: boolean) => void
    const idle = new Promise<boolean>((resolve) => { end = resolve })
    const timer = setTimeout(() => end(false), deadlineMs)
    timer.unref()
    gen.onIdle = () => end(true)
    if (gen.inflight === 0) end(true)
    const drain = {
      end: () => end(false),
      done: idle.then((drained) => {
        clearTimeout(timer)
        gen.onIdle = undefined
        if (!drained && !deps.isStopped()) {
          logger.warn({ component: name, generation: gen.number, inflight: gen.inflight },
            `component '${name}' generation ${gen.number} still had ${gen.inflight} call(s) running ${deadlineMs} ms after it was replaced; disposed anyway`)
        }
        deps.dispose(gen)
        emit({ type: 'component.retired', name, generation: gen.number, drained, ms: performance.now() - started, at: now() })
      }),
    }
    drains.add(drain)
    void drain.done.finally(() => drains.delete(drain))
  }

  return {
    prepareAhead(name) {
      return serial(name, async () => {
        const decl = declared.get(name)
        if (!decl || deps.isStopped()) return { name, ok: true, ms: 0 }
        const prepared = await prepare(name, decl, { ifChanged: true }, true)
        if (prepared.kind === 'done') return prepared.result
        discardAhead(name)
        // The host may have stopped while it was built: nothing would take it then.
        if (deps.isStopped()) deps.dispose(prepared.gen)
        else ahead.set(name, prepared)
        return { name, ok: true, ms: 0 }
      }).then(() => {})
    },
    replace(decl) {
      return serial(decl.name, async () => {
        const result = await replace(decl.name, decl, {})
        // Declared only once it serves: a failed promotion leaves the previous declaration (and the watch) as they were.
        if (result.ok) declared.set(decl.name, decl)
        return result
      })
    },
    reload(name, options = {}) {
      return serial(name, async () => {
        const decl = declared.get(name)
        if (!decl) {
          return { name, ok: false, ms: 0, error: { code: 'ERR_COMPONENT_NOT_FOUND', message: `no component named '${name}' is declared` } }
        }
        return replace(name, decl, options)
      })
    },
    async reconcile(decls) {
      // All or nothing: one component failing leaves every component as it was.
      const tx = await transaction(decls)
      if (tx.failed.length === 0) return tx.commit()
      tx.abort()
      return [...tx.failed]
    },
    transaction,
    staged: (name) => [...transactions].some((names) => names.has(name)),
    record: (name) => records.get(name),
    async stop() {
      for (const name of [...ahead.keys()]) discardAhead(name)
      for (const drain of drains) drain.end()
      await Promise.allSettled([...drains].map((d) => d.done))
    },
  }
}

/** A failed preparation as a reload error: compile diagnostics kept whole, else the code, phase and location. */
export function toReloadError(name: string, error: unknown, phase: ReloadPhase): ComponentReloadError {
  if (error instanceof ComponentCompileError) {
    const count = `${error.diagnostics.length} error${error.diagnostics.length === 1 ? '' : 's'}`
    return { code: error.code, phase: 'compile', message: `component '${name}' does not compile (${count}):\n${formatDiagnostics(error.diagnostics)}`,
      diagnostics: [...error.diagnostics] }
  }
  const details = error instanceof IsletError ? error.details : {}
  const { file, line, col } = details as Partial<SourceLocation>
  const location = typeof file === 'string' && typeof line === 'number' && typeof col === 'number' ? { location: { file, line, col } } : {}
  return { code: error instanceof IsletError ? error.code : 'ERR_COMPONENT_LOAD_FAILED', phase: details.phase === 'init' ? 'init' : phase, message: messageOf(error), ...location }
}

/** What makes two declarations of a component the same: file, limits, grants and config, key order aside. */
export function stableKey(decl: ComponentDecl): string {
  const shape: object = { file: decl.file, limits: decl.limits, grants: decl.grants, config: decl.config }
  return stableJson(shape)
}

const round = (ms: number) => Math.round(ms * 100) / 100
