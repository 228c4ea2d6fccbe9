// Module types: what a plugin registers so YAML can declare modules of that type.
import type { Logger } from './logger.ts'
import type { JsonSchema } from './schema.ts'
import type { ConfigProblem, Pipeline, Template } from './pipeline.ts'
import type { Contract } from './contract.ts'
import type { ServiceName, Services } from './services.ts'
import type { AppModule, AppView } from './app-check.ts'

/** Where the engine is in its lifecycle; `/readyz` answers 200 only in `ready`. */
export type EngineState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed'

/** One of the app's engine processes, when `islet run --processes <n>` serves it from several. */
export interface EngineProcessView {
  /** 0 … count-1; a replacement after a crash keeps the index of the process it replaces. */
  readonly index: number
  readonly count: number
  /**
   * How servers share a port between the processes. `cluster`: listen as usual; the primary holds the socket and
   * hands each new connection to the next process. `reuseport`: each process listens itself with SO_REUSEPORT
   * (Linux) and the kernel spreads new connections over their sockets.
   */
  readonly balance: 'cluster' | 'reuseport'
}

/** What a module may observe of the engine that hosts it. */
export interface EngineView {
  readonly state: EngineState
  /** Semver of the running engine. */
  readonly version: string
  /** Set when this engine is one of several processes serving the app; absent when it runs alone. */
  readonly process?: EngineProcessView
}

/** What the engine hands a module type's `create`: the module's identity and the capabilities granted to it. */
export interface ModuleContext {
  /** The module's name as declared in YAML. */
  readonly name: string
  /** The module type, e.g. `http.server`. */
  readonly type: string
  /** A logger whose every line carries `module: <name>`. */
  readonly logger: Logger
  /** Absolute path of the engine's data directory (created on demand); durable state belongs here. */
  readonly dataDir: string
  /** Resolves a path relative to the YAML file that declared this module. */
  resolvePath(path: string): string
  /**
   * Another module's instance, as the contract its type provides. Only modules this one depends on (through
   * `dependsOn` or a `moduleRef` property) may be reached, they are always started first, and a module whose type
   * does not declare `contract` in `provides` is refused at startup.
   * @example const db = ctx.module(config.database, sqlDatabase)
   */
  module<T extends object>(name: string, contract: Contract<T>): T
  /** A pipeline by name, compiled once per config generation. Only pipelines referenced by a `pipelineRef`. */
  pipeline(name: string): Pipeline
  /** An engine service this module's plugin declared in `definePlugin({ services })`; any other is refused. */
  service<K extends ServiceName>(name: K): Services[K]
  readonly engine: EngineView
  /**
   * On a config reload that replaces this module: the instance of the same-named module from the generation still
   * serving, as `contract`, when that instance's type provides it (else undefined), for handing over what must not
   * be dropped (a listening socket, a warm pool). It keeps serving until every module and component of the new
   * generation is ready; then this module's `commit` runs and the previous instance is stopped. Take things over from
   * it in `commit`, never in `start`: if the reload is rolled back, `commit` never runs, this module is stopped, and
   * the previous instance serves on untouched. Undefined on a first start and for new modules.
   * @example
   * commit() { socket = ctx.previous(handover)?.release(config.port) ?? socket }
   */
  previous<T extends object>(contract: Contract<T>): T | undefined
  /**
   * Compiles a config value for evaluation later, as StepContext.compile does for steps: strings that are exactly one
   * `${{ expr }}` yield the expression's value; strings that contain some interpolate them as text; arrays and
   * objects are walked. The module evaluates the result against a RunScope it builds (e.g. a state machine's guard
   * over the instance's data). Expressions may name what the registered trigger types declare.
   */
  compile<T = unknown>(value: unknown): Template<T>
}

/** What a module type's `inputs` receives to turn config paths into absolute ones. */
export interface InputsContext {
  /** Resolves a path relative to the YAML file that declared the module. */
  resolvePath(path: string): string
}

/** A created module. Every method is optional; each lifecycle phase runs under a deadline. */
export interface ModuleInstance {
  /** Called in dependency order once every dependency has started. */
  start?(): void | Promise<void>
  /**
   * Called when the config generation this module belongs to becomes the one serving: at startup once every module
   * has started, on a reload once every new module has started and every component is ready. All commits of a
   * generation run in one synchronous step, so no request sees half of a generation: make things visible here
   * (serve routes, take a socket over from `ctx.previous`), not in `start`. It must not throw (a throw is logged).
   */
  commit?(): void
  /** Called in reverse dependency order; must release everything `create` and `start` acquired. */
  stop?(): void | Promise<void>
  /**
   * What an operator should see of this module in `GET /admin/status` (`modules[].detail`): a small JSON value, e.g. a
   * schedule's next run times or a queue's depth. Called on every status request while the module is started: answer
   * from memory or a cheap query. A throw shows as `detail: { error }`, never fails the status.
   */
  status?(): unknown
}

/**
 * A module type: name, config schema and constructor in one object.
 * @example
 * export default defineModuleType<{ perMinute: number }>({
 *   type: 'http.ratelimit',
 *   configSchema: { type: 'object', additionalProperties: false, required: ['perMinute'],
 *                   properties: { perMinute: { type: 'integer', minimum: 1 } } },
 *   create(config, ctx) { return { middleware: async (kctx, next) => next() } },
 * })
 */
/**
 * `I` is what `create` returns: any object; its optional `start`/`stop` (see ModuleInstance) are the lifecycle hooks,
 * everything else is the contract other modules use through `ctx.module()`.
 */
export interface ModuleType<C = any, I extends object = ModuleInstance> {
  /** Dotted, lower-case name used as `type:` in YAML; the part before the first dot names the plugin's area. */
  readonly type: string
  readonly description?: string
  /** JSON Schema of `config`; it arrives validated, with defaults filled, and deep-frozen. */
  readonly configSchema: JsonSchema
  /**
   * The contracts its instances provide: other modules reach them only as one of these (`ctx.module(ref, contract)`),
   * and the engine checks each instance has the contract's members when it is created.
   */
  readonly provides?: readonly Contract<any>[]
  create(config: C, ctx: ModuleContext): I | Promise<I>
  /**
   * Checks a config the schema accepted for what a schema cannot say (e.g. a state machine's transitions naming
   * states it does not declare), when the config loads: each problem is reported at its place in the YAML, as
   * `file:line:col`; a problem with `severity: 'warning'` is reported without failing the load. `path` is inside the
   * module's `config`.
   */
  check?(config: C): ConfigProblem[]
  /**
   * Checks this module against the rest of the app once every declaration was checked on its own (e.g. a queue
   * nobody consumes, named by an enqueue step): `app.report` each problem, by default at a path inside this module's
   * `config`; a warning does not fail the load. Runs only for a module whose config is valid. Must be pure and cheap.
   */
  checkApp?(config: C, app: AppView, self: AppModule): void
  /**
   * Files or folders a module of this type reads when it starts, beyond its config (e.g. a migrations folder). Their
   * content is part of the config's identity: a change restarts the module on the next config reload, and watch
   * mode reloads when they change. Must be cheap and pure: it runs while the config loads.
   * @example inputs: (config, ctx) => (config.migrations ? [ctx.resolvePath(config.migrations)] : [])
   */
  inputs?(config: C, ctx: InputsContext): string[]
}

/** Identity helper: returns its argument, typed. */
export function defineModuleType<C = any, I extends object = ModuleInstance>(
  moduleType: ModuleType<C, I>,
): ModuleType<C, I> {
  return moduleType
}
