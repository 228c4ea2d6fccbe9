// The component host: compiles each declared component, loads it into the sandbox as a generation with its
// validators and capabilities, invokes it with limits, quarantines one that keeps breaching them, and replaces
// generations while serving (reload.ts: prepare → swap → drain → dispose).
import { dirname, join } from 'node:path'
import type { AbortSignalLike, Logger } from '@islet/sdk'
import type { ComponentDecl, LimitName, SandboxConfig } from '../config/types.ts'
import { formatDiagnostics, type Diagnostic } from '../config/diagnostics.ts'
import { IsletError, isIsletError, messageOf } from '../errors.ts'
import { publishEngineEvent, type EventBus } from '../events/bus.ts'
import { kvQuota, type KvStore } from '../sandbox/capabilities/kv/kv.ts'
import { kvAppName, openKvStore } from '../sandbox/capabilities/kv/kv-sqlite.ts'
import type { ComponentMetaDto, GuestLogLineDto, HostOp } from '../sandbox/protocol.ts'
import { createSandbox, type Sandbox } from '../sandbox/supervisor.ts'
import { createCapabilities, grantedOf, type Capabilities, type CapabilityDeps } from './capabilities.ts'
import { ComponentCompileError, createCompileCache, keepCompilerWarm, type CompiledComponent } from './compile.ts'
import { exampleFailure, runExamplesOn, type ExampleRun, type TrialIsolate } from './examples.ts'
import { effectiveLimits } from './limits.ts'
import { acceptClientError, ComponentClientError, type ClientClaim } from './client-error.ts'
import { createLocator, withLocation, type Locator } from './locate.ts'
import type { ComponentGeneration } from './generation.ts'
import { createReloads, toReloadError, type ComponentEvent, type ComponentTransaction, type LiveGeneration, type ReloadOptions, type ReloadPhase, type ReloadResult, type ReloadTimings } from './reload.ts'

export type { ComponentEvent, ComponentTransaction, ComponentReloadError, ReloadOptions, ReloadResult, ReloadTimings } from './reload.ts'
export type { ExampleEmit, ExampleResult, ExampleRun } from './examples.ts'
export type { ComponentGeneration } from './generation.ts'

/** A load error with guest frames, located in the component's own source (message and details.location). */
function located(error: IsletError, locate: Locator, redact: (text: string) => string): IsletError {
  const { frames, ...details } = error.details
  const location = locate(frames)
  return new IsletError(error.code, withLocation(redact(error.message), location), { details: { ...details, ...(location ? { location } : {}) } })
}

/** `value` with granted secret values redacted from its strings; dropped when it cannot be (it is caller-facing). */
function redactJson(value: unknown, redact: (text: string) => string): unknown {
  if (value === undefined) return undefined
  try {
    return JSON.parse(redact(JSON.stringify(value))) as unknown
  } catch {
    return undefined
  }
}

/**
 * Codes that count as breaching limits (towards quarantine), once per incident (details.incident): the calls one
 * breach took with it (its isolate's other invocations, failed as crashed) are the same incident.
 * ERR_SANDBOX_WORKER_LOST (a call lost with a worker another component took down) is not one.
 */
const BREACHES = new Set(['ERR_SANDBOX_TIMEOUT', 'ERR_SANDBOX_CPU_LIMIT', 'ERR_SANDBOX_MEMORY_LIMIT', 'ERR_SANDBOX_OUTPUT_LIMIT', 'ERR_SANDBOX_HOST_CALL_LIMIT', 'ERR_SANDBOX_CRASHED'])

export interface ComponentHostOptions {
  components: readonly ComponentDecl[]
  sandbox: SandboxConfig
  logger: Logger
  dataDir: string
  bus: EventBus
  env?: Record<string, string | undefined>
  lookup?: CapabilityDeps['lookup']
  /**
   * The app's root YAML file: kv namespaces belong to the app it names (kvAppName), so apps sharing a data
   * directory never see each other's keys. Unset outside an app (`islet component test`): the app is `app`.
   */
  appFile?: string
  /**
   * What error locations (file:line:col of a component's own source) are relative to: the app's folder, or the cwd
   * for `islet component test`. Default: the folder of the YAML file that declares the component.
   */
  baseDir?: string
  /**
   * A component serves only after its own examples pass (default true), as on every reload; a failing one fails
   * start(). `islet component test` turns this off and runs every example itself (`examples()`).
   */
  examplesAtStart?: boolean
}

export interface TrialOptions {
  /** decl.file compiled already (by the caller's own compile step): not compiled again. */
  compiled?: CompiledComponent
  /** What error locations are relative to; default: the folder of decl.source.file. */
  baseDir?: string
}

/** A trial (ComponentHost.trial): the reload-shaped outcome, and what the definition declared when it loaded. */
export interface TrialResult extends ReloadResult {
  meta?: ComponentMetaDto
  /** The limits it ran under: decl's, lowered where the definition asks for less. */
  limits?: Record<LimitName, number>
}

export interface ComponentStatus {
  name: string
  /** The generation serving; 0 when none could be loaded (a component added by reconcile whose load failed). */
  generation: number
  sourceHash: string
  /** `failed-reload`: the last reload failed and the previous generation keeps serving; `failed`: none serves. */
  state: 'ready' | 'quarantined' | 'failed-reload' | 'failed'
  lastReload?: { at: string; ms: number; ok: boolean }
  /** Limit-breach incidents charged to the serving generation (what quarantine counts; calls lost as bystanders are not). */
  breaches: number
  /** `own`: it runs in a sandbox worker of its own (dedicated isolation, or since it once stalled or crashed a shared one). */
  worker: 'shared' | 'own'
  /** The latest error, of a call or of a reload (then with its phase, and for compile errors its diagnostics). */
  lastError?: { code: string; message: string; at: string; phase?: ReloadPhase; diagnostics?: Diagnostic[] }
  /** When granted kv: what its namespace holds (UTF-8 bytes of keys + JSON values, keys) against its quota. */
  kv?: { bytes: number; keys: number; maxBytes: number; maxKeys: number }
}

interface Health {
  /** Breach incidents in the current window: when, and which incident (a burst's failures share one). */
  breaches: { at: number; incident: string }[]
  /** The latest incidents counted, whatever the window: a second failure of one incident is not counted again. */
  incidents: string[]
  until: number
  /** When the latest quarantine began: failures of calls already in flight then are not counted again. */
  since: number
  backoffMs: number
  /** Incidents charged since the generation swapped in. */
  total: number
  lastError?: { code: string; message: string; at: string }
}

export interface ComponentHost {
  start(): Promise<void>
  has(name: string): boolean
  /**
   * Validates input, runs `execute` in the sandbox, validates output. Rejects with an IsletError with an ERR_ code,
   * or with a ComponentClientError (a 4xx StepError the component threw, with its own code).
   * `signal` cancels the call (ERR_SANDBOX_CANCELLED): the invocation is stopped and its host calls aborted.
   */
  invoke(name: string, input: unknown, options?: { signal?: AbortSignalLike }): Promise<unknown>
  generation(name: string): ComponentGeneration | undefined
  /**
   * Builds the component again from its sources aside while the live generation serves, runs its examples against
   * the new one, and swaps it in only if every step passed; calls already running finish on the old generation.
   * Never rejects: a failure is in the result (and the old generation keeps serving).
   */
  reload(name: string, options?: ReloadOptions): Promise<ReloadResult>
  /**
   * Serves `decl` under its name from now on (a deploy slot's promoted version), prepared aside and swapped in like a
   * reload, with no call failing; adds the name when nothing served it. Never rejects: a failure is in the result.
   */
  replace(decl: ComponentDecl): Promise<ReloadResult>
  /**
   * Runs every example of the live generation on a throwaway isolate of its code with throwaway capabilities
   * (examples.ts): nothing reaches the app's kv, bus or the isolate that serves. What `islet component test` prints.
   */
  examples(name: string): Promise<ExampleRun>
  /**
   * Tries `decl` aside, never serving it and never touching what serves: compiles it (or takes `options.compiled`),
   * loads it into a throwaway isolate of the examples worker under decl's limits, then runs its init and every
   * example there with throwaway capabilities (as examples() does), and disposes the isolate. Nothing reaches the
   * app's kv, bus or live isolates; the component's init never runs with real capabilities. What validating a
   * deployment into a slot runs. Never rejects: a failure is in the result (error.phase says where it stopped).
   */
  trial(decl: ComponentDecl, options?: TrialOptions): Promise<TrialResult>
  /**
   * Builds the next generation of `name` from its current sources aside, without serving it or reporting anything:
   * the next `reload` takes it when nothing changed since (watch mode calls this at a burst's first file event, so
   * the reload after the debounce is only the swap). Never rejects (its reload reports errors).
   */
  prepareAhead(name: string): Promise<void>
  /**
   * Starts the examples worker reloads run examples in, when it is not running yet (watch mode, once serving: the
   * first reload then need not wait for a process to start). Start-up runs its examples without it.
   */
  warmReloads(): void
  /**
   * Brings the components in line with `decls`: adds new names, reloads changed ones, removes the rest — all or
   * nothing: if one fails, nothing changes and the failures are returned.
   */
  reconcile(decls: readonly ComponentDecl[]): Promise<ReloadResult[]>
  /** Prepares what `decls` changes aside, for a config reload to commit with its modules or abort (see reload.ts). */
  transaction(decls: readonly ComponentDecl[]): Promise<ComponentTransaction>
  /**
   * Reload, add and remove events, in the order they happen; returns the unsubscribe. A typed view of the bus's
   * `islet.component.*` topics, where the host publishes them (delivered asynchronously, like every bus event).
   */
  onEvent(listener: (event: ComponentEvent) => void): () => void
  status(): ComponentStatus[]
  sandbox(): Sandbox
  /** Distinct builds the compile cache holds: one per entry file some generation uses, not per version ever built. */
  compiledHeld(): number
  /**
   * Keeps the examples worker running between reloads until the returned release is called (watch mode). Otherwise
   * it stops EXAMPLES_WORKER_IDLE_MS after its last examples ran and starts again for the next reload.
   */
  keepExamplesWorker(): () => void
  stop(): Promise<void>
}

/**
 * How long the examples worker stays up with nothing loaded. Long enough that the components of one start or reload,
 * whose examples run one after another, share one worker; short enough that a served app holds no second sandbox
 * process for long.
 */
export const EXAMPLES_WORKER_IDLE_MS = 1500

export function createComponentHost(options: ComponentHostOptions): ComponentHost {
  const { logger, sandbox: settings } = options
  const env = options.env ?? process.env
  const compiler = createCompileCache()
  let kv: KvStore | undefined
  const current = new Map<string, LiveGeneration>()
  const declared = new Map<string, ComponentDecl>()
  const byKey = new Map<string, LiveGeneration>()
  const health = new Map<string, Health>()
  let counter = 0
  let isStopped = false
  /** Each generation's compiled code: its examples run on a throwaway isolate of the very same code. */
  const codes = new WeakMap<ComponentGeneration, string>()
  /** Sandbox keys of throwaway example isolates (their log lines are marked as such), and the sandbox each is in. */
  const trials = new Map<string, Sandbox>()
  /** The throwaway isolate load() started alongside a generation, for that generation's first examples run. */
  const early = new WeakMap<ComponentGeneration, { key: string; loaded: Promise<unknown> }>()
  /** Whether each component's latest generation has examples; when not, load() loads no throwaway isolate alongside. */
  const hasExamples = new Map<string, boolean>()
  let trialSeq = 0
  let uncounted = 0
  const routes = {
    onHostCall(key: string, op: HostOp, args: unknown[], invocation: number, signal?: AbortSignal): Promise<unknown> {
      const gen = byKey.get(key)
      if (!gen) return Promise.reject(new IsletError('ERR_CAPABILITY_DENIED', 'this component generation is no longer loaded'))
      return gen.caps.handle(op, args, invocation, signal)
    },
    onLog(key: string, lines: GuestLogLineDto[], dropped: number): void {
      const gen = byKey.get(key)
      const log = logger.child({ component: gen?.decl.name ?? key, generation: gen?.number, ...(trials.has(key) ? { examples: true } : {}) })
      for (const line of lines) {
        let fields: Record<string, unknown> = {}
        if (line.fields) {
          try {
            const parsed = JSON.parse(gen ? gen.caps.redact(line.fields) : line.fields) as unknown
            fields = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? { fields: parsed } : { fields: parsed }
          } catch { fields = {} }
        }
        log[line.level](fields, gen ? gen.caps.redact(line.message) : line.message)
      }
      if (dropped > 0) log.warn({ dropped }, `${dropped} log line(s) dropped: the component logs faster than its limit`)
    },
  }
  const sandbox = createSandbox({
    workers: settings.workers, isolation: settings.isolation ?? 'shared', logger, ...routes,
    // A worker stalled or crashed in this generation's code: charged even when no call of it is still waiting.
    onIncident(key, error, startedAt) {
      const gen = byKey.get(key)
      if (gen && current.get(gen.decl.name) === gen) breach(gen.decl.name, error, startedAt)
    },
  })
  // Examples run in a sandbox worker of their own: a throwaway isolate that takes its worker down (V8 aborts on some
  // allocations) never takes live calls with it, and it is built on another core while the generation to serve loads.
  // Its isolates are throwaway, so between reloads it holds nothing: it stops once idle, unless watch mode keeps it
  // (keepExamplesWorker), where every save runs examples and must not wait for a process to start.
  const trialSandbox = createSandbox({ workers: 1, logger, ...routes, idleStopMs: EXAMPLES_WORKER_IDLE_MS })
  // Except at start: until the app serves there is no live call an example could take down with its worker, so the
  // examples of start-up run in the serving sandbox, and the examples worker is only started for the first reload
  // (or ahead of it: warmReloads). `islet run` never reloads, so it never starts one: one process, and its start-up
  // time and memory, less.
  let examplesSandbox: Sandbox = sandbox

  const trialSpec = (key: string, decl: ComponentDecl, number: number, code: string, limits: Record<LimitName, number>) => ({
    key, name: decl.name, generation: number, code, memoryMb: limits.memoryMb, loadTimeoutMs: Math.max(limits.timeoutMs, 1000), config: decl.config,
    // Not `dedicated` even for slot code: the examples worker holds only throwaway isolates, and a process per
    // promotion's examples would add ~0.7 s to every promote.
    granted: grantedOf(decl),
  })

  function dropTrial(key: string): void {
    const home = trials.get(key)
    trials.delete(key)
    byKey.delete(key)
    home?.unload(key)
  }

  /**
   * Loads and inits a generation. With `alongside` (unless its previous generation had no examples), a throwaway
   * isolate of the same code starts loading in the examples worker at the same time, for examples() to use.
   * `lazy` (start-up): a component without init is loaded into the isolate that serves it by its first call; the
   * throwaway isolate, of the same code, config and limits, tells what it declares and shows that it loads.
   */
  async function load(decl: ComponentDecl, compiled: CompiledComponent, timings?: ReloadTimings, alongside = true, lazy = false): Promise<LiveGeneration> {
    if (decl.grants.kv && !kv) {
      kv = openKvStore(join(options.dataDir, 'islet-kv.db'), {
        app: options.appFile === undefined ? 'app' : kvAppName(options.appFile, options.dataDir),
        onClaim: (component, usage) => logger.warn({ component, ...usage },
          `kv: component '${component}' takes over its ${usage.keys} key(s) stored before kv was kept per app`),
      })
    }
    const caps = createCapabilities(decl, { kv, bus: options.bus, env, logger, lookup: options.lookup })
    const number = ++counter
    const key = `${decl.name}@${number}`
    const spec = (limits: Record<LimitName, number>) => ({
      key, name: decl.name, generation: number, code: compiled.code, memoryMb: limits.memoryMb,
      loadTimeoutMs: Math.max(limits.timeoutMs, 1000), config: decl.config, granted: grantedOf(decl),
      ...(decl.dedicated ? { dedicated: true } : {}),
    })
    const started = performance.now()
    const locate = createLocator(compiled, options.baseDir ?? dirname(decl.source.file))
    let trial: { key: string; loaded: Promise<unknown> } | undefined
    const loadTrial = (limits: Record<LimitName, number>) => {
      if (trial) dropTrial(trial.key)
      const trialKey = `${key}:examples:${++trialSeq}`
      trials.set(trialKey, examplesSandbox)
      // A failure here is the examples phase's to report (it awaits this); nothing is lost meanwhile.
      const loaded = examplesSandbox.load(trialSpec(trialKey, decl, number, compiled.code, limits))
      loaded.catch(() => {})
      trial = { key: trialKey, loaded }
    }
    try {
      const appLimits = effectiveLimits(settings.limits, decl.limits, undefined)
      if (alongside && hasExamples.get(decl.name) !== false) loadTrial(appLimits)
      let meta: ComponentMetaDto
      // Lazy only where a throwaway isolate is loaded to learn from.
      const described = (limits: Record<LimitName, number>) => trial && lazy ? trial.loaded as Promise<ComponentMetaDto> : sandbox.load(spec(limits))
      try {
        meta = await described(appLimits)
      } catch (error) {
        // Module evaluation threw: where, in the component's own source.
        if (isIsletError(error) && error.details.frames !== undefined) throw located(error, locate, caps.redact)
        if (!isIsletError(error, 'ERR_COMPONENT_CONFIG_INVALID')) throw error
        const where = `${decl.configSource.file}:${decl.configSource.line}:${decl.configSource.col}`
        throw new IsletError('ERR_COMPONENT_CONFIG_INVALID', `${where} ${error.message}`, { details: { component: decl.name, ...decl.configSource, ...error.details } })
      }
      const limits = effectiveLimits(settings.limits, decl.limits, meta.limits)
      // The component asked for less memory than the app allows: it runs with what it asked for.
      if (limits.memoryMb < appLimits.memoryMb) {
        if (trial) loadTrial(limits)
        meta = await described(limits)
      }
      if (trial && lazy) {
        // init runs with the real capabilities before the generation serves: one with init is loaded now.
        if (meta.hasInit) meta = await sandbox.load(spec(limits))
        else sandbox.register(spec(limits))
      }
      hasExamples.set(decl.name, (meta.examples?.length ?? 0) > 0)
      if (trial && !hasExamples.get(decl.name)) {
        dropTrial(trial.key)
        trial = undefined
      }
      const gen: LiveGeneration = {
        decl, number, key, hash: compiled.hash, meta, limits, caps, files: compiled.files, inflight: 0, locate,
        invocation: { timeoutMs: limits.timeoutMs, cpuMs: limits.cpuMs, hostCalls: limits.hostCalls, outputBytes: limits.outputBytes },
      }
      byKey.set(key, gen)
      codes.set(gen, compiled.code)
      if (trial) early.set(gen, trial)
      const loaded = performance.now()
      if (timings) timings.loadMs = loaded - started
      if (meta.hasInit) {
        try {
          await sandbox.invoke(key, 'init', 'null', gen.invocation)
        } catch (raw) {
          const error = fromSandbox(gen, raw)
          throw new IsletError('ERR_COMPONENT_LOAD_FAILED', `component '${decl.name}': init failed: ${error.message}`,
            { cause: error, details: { component: decl.name, code: error.code, phase: 'init', ...(error.details.location ? { location: error.details.location } : {}) } })
        }
      }
      if (timings) timings.initMs = performance.now() - loaded
      return gen
    } catch (error) {
      // Nothing of a half-built generation stays: not its isolate, its host-call route or its capabilities.
      byKey.delete(key)
      sandbox.unload(key)
      if (trial) dropTrial(trial.key)
      void caps.close().catch(() => {})
      throw error
    }
  }

  /**
   * Runs `execute` on one generation, counting the call so a reload can drain it. Promise callbacks rather than an
   * async function: this runs on every sandboxed request, and each async frame costs the engine its own promise and
   * microtask hops.
   */
  function call(gen: LiveGeneration, input: unknown, signal?: AbortSignalLike, where: Sandbox = sandbox): Promise<unknown> {
    let json: string
    let tooLarge: boolean
    try {
      json = JSON.stringify(input ?? null)
      // A UTF-16 code unit is at most 3 UTF-8 bytes: most inputs are under the limit without counting them.
      tooLarge = json.length * 3 > gen.limits.inputBytes && Buffer.byteLength(json) > gen.limits.inputBytes
    } catch (error) {
      // Not JSON (a cycle, a BigInt): rejected as before, never thrown at the caller synchronously.
      return Promise.reject(error)
    }
    if (tooLarge) {
      return Promise.reject(new IsletError('ERR_SANDBOX_INPUT_LIMIT', `the input to component '${gen.decl.name}' is larger than ${gen.limits.inputBytes} bytes`))
    }
    gen.inflight++
    const done = () => { if (--gen.inflight === 0) gen.onIdle?.() }
    return where.invoke(gen.key, 'execute', json, gen.invocation, { signal }).then(
      (output) => {
        try {
          return JSON.parse(output) as unknown
        } catch (error) {
          throw fromSandbox(gen, error)
        } finally {
          done()
        }
      },
      (error: unknown) => {
        done()
        throw fromSandbox(gen, error)
      },
    )
  }

  /**
   * A sandbox error as the engine answers it: secrets redacted; a ERR_COMPONENT_THREW located in the component's own
   * source (message and details.location) and, when the component threw a StepError the engine accepts, that client
   * error instead (ComponentClientError). The worker-only details (frames, client) go no further.
   */
  function fromSandbox(gen: ComponentGeneration, error: unknown): IsletError | ComponentClientError {
    const e = isIsletError(error) ? error : new IsletError('ERR_SANDBOX_CRASHED', messageOf(error))
    const { frames, client, ...details } = e.details
    const context = { component: gen.decl.name, generation: gen.number }
    let message = gen.caps.redact(e.message)
    if (e.code !== 'ERR_COMPONENT_THREW') return new IsletError(e.code, message, { details: { ...details, ...context } })
    let refused: string | undefined
    if (client !== null && typeof client === 'object') {
      const claim = client as ClientClaim
      const accepted = acceptClientError({ ...claim, details: redactJson(claim.details, gen.caps.redact) }, message, context)
      if (typeof accepted !== 'string') return accepted
      refused = accepted
    }
    const location = gen.locate(frames)
    message = withLocation(message, location)
    if (refused) message += `; its StepError was not passed on: ${refused}`
    return new IsletError('ERR_COMPONENT_THREW', message, {
      details: { ...details, ...context, ...(location ? { location } : {}), ...(refused ? { clientErrorRefused: refused } : {}) },
    })
  }

  /**
   * A throwaway isolate of `gen`'s code, under its own sandbox key, for its examples: its host calls go to whatever
   * scratch capabilities are bound (none: refused), so neither the app's data nor the isolate that serves sees them.
   */
  async function trial(gen: LiveGeneration): Promise<TrialIsolate & { dispose(): void }> {
    const code = codes.get(gen)
    if (code === undefined) throw new IsletError('ERR_COMPONENT_NOT_FOUND', `component '${gen.decl.name}' generation ${gen.number} is not loaded`)
    // The isolate load() started alongside, if this is the generation's first examples run; else a fresh one.
    const pending = early.get(gen)
    early.delete(gen)
    const key = pending?.key ?? `${gen.key}:examples:${++trialSeq}`
    const home = (pending && trials.get(pending.key)) || examplesSandbox
    const rig = trialRig(gen, key, home)
    try {
      await (pending?.loaded ?? home.load(trialSpec(key, gen.decl, gen.number, code, gen.limits)))
    } catch (error) {
      dropTrial(key)
      throw error
    }
    return { ...rig, dispose: () => dropTrial(key) }
  }

  /**
   * Registers `key` on `home` as a trial isolate of `gen` (ComponentHost.trial's and the examples' alike): its host
   * calls go to whatever scratch capabilities are bound (none: refused), never to `gen`'s own.
   */
  function trialRig(gen: LiveGeneration, key: string, home: Sandbox): TrialIsolate {
    let bound: Capabilities | undefined
    const caps: Capabilities = {
      handle: (op, args, invocation, signal) => bound ? bound.handle(op, args, invocation, signal)
        : Promise.reject(new IsletError('ERR_CAPABILITY_DENIED', 'no example is running on this isolate')),
      redact: (text) => gen.caps.redact(text),
      close: async () => {},
    }
    const rig: LiveGeneration = { ...gen, key, caps, inflight: 0, onIdle: undefined }
    byKey.set(key, rig)
    trials.set(key, home)
    return {
      bind: (next) => { bound = next },
      async init() {
        if (!gen.meta.hasInit) return
        try {
          await home.invoke(key, 'init', 'null', gen.invocation)
        } catch (error) {
          // As any error out of a component's isolate: granted secret values redacted, located in its own source.
          throw fromSandbox(gen, error)
        }
      },
      call: (input) => call(rig, input, undefined, home),
    }
  }

  /** Runs `gen`'s examples on a throwaway isolate with throwaway capabilities; the isolate is gone when this settles. */
  async function examples(gen: LiveGeneration, stopAtFailure: boolean): Promise<ExampleRun> {
    const list = gen.meta.examples ?? []
    if (list.length === 0) return { results: [], initEmits: [] }
    const rig = await trial(gen)
    try {
      return await runExamplesOn(rig, list, gen.decl.name,
        (store, scratch) => createCapabilities(gen.decl, { kv: store, bus: options.bus, env, logger, lookup: options.lookup, scratch }), { stopAtFailure })
    } finally {
      rig.dispose()
    }
  }

  /** ComponentHost.trial: a throwaway isolate with throwaway capabilities from the first instruction on. */
  async function tryAside(decl: ComponentDecl, opts: TrialOptions): Promise<TrialResult> {
    const started = performance.now()
    const timings: ReloadTimings = { compileMs: 0, loadMs: 0, initMs: 0, examplesMs: 0, swapMs: 0 }
    const key = `${decl.name}@trial:${++trialSeq}`
    // For redaction only: its kv is none (a trial never reaches the app's store), and nothing calls its handlers.
    const caps = createCapabilities(decl, { kv: undefined, bus: options.bus, env, logger, lookup: options.lookup })
    let phase: ReloadPhase = 'compile'
    let meta: ComponentMetaDto | undefined
    let limits: Record<LimitName, number> | undefined
    const home = examplesSandbox
    try {
      if (isStopped) throw new IsletError('ERR_ENGINE_STATE', `component '${decl.name}' cannot be tried: the component host is stopped`)
      const compiled = opts.compiled ?? await compile(decl)
      timings.compileMs = performance.now() - started
      phase = 'load'
      const loadedAt = performance.now()
      const appLimits = effectiveLimits(settings.limits, decl.limits, undefined)
      trials.set(key, home)
      const locate = createLocator(compiled, opts.baseDir ?? dirname(decl.source.file))
      try {
        meta = await home.load(trialSpec(key, decl, 0, compiled.code, appLimits))
      } catch (error) {
        if (isIsletError(error) && error.details.frames !== undefined) throw located(error, locate, caps.redact)
        throw error
      }
      limits = effectiveLimits(settings.limits, decl.limits, meta.limits)
      timings.loadMs = performance.now() - loadedAt
      phase = 'examples'
      const gen: LiveGeneration = {
        decl, number: 0, key, hash: compiled.hash, meta, limits, caps, files: compiled.files, inflight: 0, locate,
        invocation: { timeoutMs: limits.timeoutMs, cpuMs: limits.cpuMs, hostCalls: limits.hostCalls, outputBytes: limits.outputBytes },
      }
      const rig = trialRig(gen, key, home)
      const examplesAt = performance.now()
      const run = await runExamplesOn(rig, meta.examples ?? [], decl.name,
        (store, scratch) => createCapabilities(decl, { kv: store, bus: options.bus, env, logger, lookup: options.lookup, scratch }), { stopAtFailure: false })
      timings.examplesMs = performance.now() - examplesAt
      // A reason quotes actual outputs, which may hold a granted secret's value: it goes back to whoever deployed.
      for (const r of run.results) if (r.reason !== undefined) r.reason = caps.redact(r.reason)
      const failed = run.results.find((r) => !r.ok)
      const ms = performance.now() - started
      if (!failed) return { name: decl.name, ok: true, ms, timings, examples: run, meta, limits }
      const error = exampleFailure(decl.name, compiled.files, failed, 'in the sandbox')
      return { name: decl.name, ok: false, ms, timings, examples: run, meta, limits, error: toReloadError(decl.name, error, 'examples') }
    } catch (error) {
      return { name: decl.name, ok: false, ms: performance.now() - started, timings, error: toReloadError(decl.name, error, phase), ...(meta ? { meta } : {}), ...(limits ? { limits } : {}) }
    } finally {
      dropTrial(key)
      void caps.close().catch(() => {})
    }
  }

  function dispose(gen: LiveGeneration): void {
    const pending = early.get(gen)
    if (pending) { early.delete(gen); dropTrial(pending.key) }
    if (!byKey.delete(gen.key)) return
    sandbox.unload(gen.key)
    gen.caps.close().catch((error: unknown) => logger.warn({ err: error, component: gen.decl.name }, 'closing the capabilities of a disposed generation failed'))
    // The compile cache keeps a build per entry file; a slot's versions are each a file of their own, so the build of
    // one no generation uses any more goes (test/slots-service.test.ts: many promotions).
    const file = gen.decl.file
    // `current`, not `declared`: a replace declares its decl only after the swap, and the old generation may be disposed
    // before that (no call to drain). Forgetting too early costs a re-read of the entry's record from the disk, no more.
    const inUse = [...current.values(), ...byKey.values()].some((g) => g.decl.file === file)
    if (!inUse) compiler.forget(file)
  }

  const compile = (decl: ComponentDecl): Promise<CompiledComponent> => compiler.compile(decl.file)

  const reloads = createReloads({
    logger, current, declared, compile, load, dispose,
    examples: (gen) => examples(gen, true),
    isStopped: () => isStopped,
    publish: (event) => publishEngineEvent(options.bus, event),
    swapped(name, gen) {
      if (!gen) return void health.delete(name)
      const h = health.get(name)
      if (h) Object.assign(h, { breaches: [], incidents: [], until: 0, since: 0, total: 0, backoffMs: settings.quarantine.baseMs })
    },
  })

  /**
   * Counts a failed call (started at `startedAt`) towards quarantine: one breach per incident, and nothing for calls
   * already in flight when the latest quarantine began (a burst escalates the back-off one step, not one per call).
   */
  function breach(name: string, error: IsletError, startedAt: number): void {
    const h = health.get(name) ?? { breaches: [], incidents: [], until: 0, since: 0, total: 0, backoffMs: settings.quarantine.baseMs }
    health.set(name, h)
    h.lastError = { code: error.code, message: error.message, at: new Date().toISOString() }
    if (!BREACHES.has(error.code) || startedAt < h.since) return
    const incident = typeof error.details.incident === 'string' ? error.details.incident : `host.${++uncounted}`
    if (h.incidents.includes(incident)) return
    h.incidents = [...h.incidents.slice(-63), incident]
    const now = Date.now()
    h.breaches = [...h.breaches.filter((b) => b.at > now - settings.quarantine.windowMs), { at: now, incident }]
    h.total++
    if (h.breaches.length < settings.quarantine.breaches) return
    h.until = now + h.backoffMs
    h.since = now
    logger.warn({ component: name, backoffMs: h.backoffMs, code: error.code }, `component '${name}' quarantined for ${h.backoffMs} ms after ${h.breaches.length} limit breaches`)
    h.backoffMs = Math.min(settings.quarantine.maxMs, h.backoffMs * 2)
    h.breaches = []
  }

  /** Startup's compile: a compile error becomes a load failure naming the component, with every diagnostic. */
  async function compileOrExplain(decl: ComponentDecl): Promise<CompiledComponent> {
    try {
      return await compile(decl)
    } catch (error) {
      if (!(error instanceof ComponentCompileError)) throw error
      throw new IsletError('ERR_COMPONENT_LOAD_FAILED', `component '${decl.name}' does not compile:\n${formatDiagnostics(error.diagnostics)}`,
        { cause: error, details: { component: decl.name, diagnostics: error.diagnostics } })
    }
  }

  return {
    async start() {
      const atStart = options.examplesAtStart !== false
      // Compiles (from the disk cache, else esbuild) run while the worker starts.
      const compiles = options.components.map((decl) => compileOrExplain(decl))
      for (const compiled of compiles) compiled.catch(() => {})
      await sandbox.start()
      for (const decl of options.components) declared.set(decl.name, decl)
      // Every component loads at once: the worker takes the loads in turn, with no round trip in between. Generation
      // numbers are still given in declaration order: each load begins (and numbers itself) after the previous one did.
      let previous: Promise<unknown> = Promise.resolve()
      const outcomes = options.components.map(async (decl, i): Promise<LiveGeneration | { error: unknown }> => {
        const begun = previous.then(() => compiles[i]).then((compiled) => ({ loading: load(decl, compiled, undefined, atStart, true) }))
        previous = begun.catch(() => {})
        try {
          const gen = await (await begun).loading
          // As on a reload: a generation serves only after its own examples pass (on a throwaway isolate).
          if (atStart) {
            const run = await examples(gen, true).catch((error: unknown) => { dispose(gen); throw error })
            const failed = run.results.find((r) => !r.ok)
            if (failed) {
              dispose(gen)
              throw exampleFailure(decl.name, gen.files, failed, 'at start (fix the code or the example; examples run on a throwaway isolate with throwaway capabilities)')
            }
          }
          return gen
        } catch (error) {
          return { error }
        }
      })
      const failures: string[] = []
      /** Each failed component and the code that classified its failure (ERR_SANDBOX_TIMEOUT, …), for callers to match. */
      const causes: { component: string; code: string }[] = []
      for (const [i, outcome] of (await Promise.all(outcomes)).entries()) {
        const decl = options.components[i]!
        if (!('error' in outcome)) {
          current.set(decl.name, outcome)
          logger.info({ component: decl.name, generation: outcome.number, hash: outcome.hash.slice(0, 12) }, `component '${decl.name}' loaded`)
          continue
        }
        const { error } = outcome
        const code = isIsletError(error) ? (typeof error.details.code === 'string' ? error.details.code : error.code) : 'ERR_COMPONENT_LOAD_FAILED'
        const message = messageOf(error)
        failures.push(message.includes(`'${decl.name}'`) ? message : `component '${decl.name}': ${message}`)
        causes.push({ component: decl.name, code })
      }
      examplesSandbox = trialSandbox
      if (failures.length > 0) {
        await Promise.all([sandbox.stop(), trialSandbox.stop()])
        throw new IsletError('ERR_COMPONENT_LOAD_FAILED', failures.join('\n'), { details: { failures, causes } })
      }
    },
    warmReloads() {
      // Best effort: a worker that fails to start now is started again by the reload that needs it.
      if (!isStopped) trialSandbox.start().catch(() => {})
    },
    // A component prepared by an open transaction counts: the reload's pipelines are compiled before it commits.
    has: (name) => current.has(name) || reloads.staged(name),
    generation: (name) => current.get(name),
    invoke(name, input, { signal } = {}) {
      const gen = current.get(name)
      if (!gen) return Promise.reject(new IsletError('ERR_COMPONENT_NOT_FOUND', `no component named '${name}' is loaded`))
      const h = health.get(name)
      if (h && h.until > Date.now()) {
        return Promise.reject(new IsletError('ERR_COMPONENT_QUARANTINED', `component '${name}' keeps breaching its limits and is refused for another ${Math.ceil((h.until - Date.now()) / 1000)} s`))
      }
      // `call` counts the call on `gen` before it returns: a swap after this line still drains it.
      const startedAt = Date.now()
      return call(gen, input, signal).catch((error: unknown) => {
        // A call finishing on a replaced generation does not count against the code now serving; nor does one its
        // caller cancelled (the component did nothing wrong: it is neither a breach nor its last error). A component's
        // own client error (ComponentClientError, not an IsletError) is an answer, never a breach.
        if (isIsletError(error) && error.code !== 'ERR_SANDBOX_INPUT_LIMIT' && error.code !== 'ERR_SANDBOX_CANCELLED' && current.get(name) === gen) breach(name, error, startedAt)
        throw error
      })
    },
    reload: (name, opts) => reloads.reload(name, opts),
    compiledHeld: () => compiler.size,
    replace: (decl) => reloads.replace(decl),
    trial: (decl, opts = {}) => tryAside(decl, opts),
    async examples(name) {
      const gen = current.get(name)
      if (!gen) throw new IsletError('ERR_COMPONENT_NOT_FOUND', `no component named '${name}' is loaded`)
      return examples(gen, false)
    },
    prepareAhead: (name) => reloads.prepareAhead(name).catch(() => {}),
    reconcile: (decls) => reloads.reconcile(decls),
    transaction: (decls) => reloads.transaction(decls),
    onEvent: (listener) => options.bus.subscribe('islet.component.*', (event) => listener(event.payload as ComponentEvent)),
    status: () => [...declared.keys()].map((name): ComponentStatus => {
      const gen = current.get(name)
      const h = health.get(name)
      const r = reloads.record(name)
      const lastError = [h?.lastError, r?.lastError].filter((e) => e !== undefined).sort((a, b) => (a.at < b.at ? 1 : -1))[0]
      const state = !gen ? 'failed' : h && h.until > Date.now() ? 'quarantined' : r?.isFailing ? 'failed-reload' : 'ready'
      // The quota of the generation serving (a config edit applies with the next one), else of the declaration.
      const quota = kvQuota((gen?.decl ?? declared.get(name))?.grants.kv)
      return {
        name, generation: gen?.number ?? 0, sourceHash: gen?.hash ?? '', state, breaches: h?.total ?? 0, worker: sandbox.placement(name),
        ...(r?.lastReload ? { lastReload: r.lastReload } : {}), ...(lastError ? { lastError } : {}),
        ...(quota && kv ? { kv: { ...kv.usage(name), ...quota } } : {}),
      }
    }),
    sandbox: () => sandbox,
    keepExamplesWorker: () => {
      keepCompilerWarm() // watch mode: every save compiles, so esbuild's service stays up between them (compile-build.ts)
      return trialSandbox.keepAlive()
    },
    async stop() {
      isStopped = true
      await reloads.stop()
      await Promise.all([sandbox.stop(), trialSandbox.stop(), compiler.close()])
      await Promise.allSettled([...byKey.values()].map((g) => g.caps.close()))
      byKey.clear()
      kv?.close()
      kv = undefined
    },
  }
}
