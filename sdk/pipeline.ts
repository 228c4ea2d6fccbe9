// Pipelines and step types: the ordered steps a trigger (HTTP route, later events and schedules) runs.
import type { Logger } from './logger.ts'
import type { JsonSchema } from './schema.ts'
import type { Contract } from './contract.ts'
import type { ServiceName, Services } from './services.ts'
import type { AppStep, AppView } from './app-check.ts'

/**
 * The subset of `AbortSignal` a step can rely on; declared here because the sdk sees no DOM or Node types.
 * A real `AbortSignal` satisfies it.
 */
export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/** The view of an HTTP-triggered run: the variables its expressions see beyond `input`, `meta`, `locals`, `steps`. */
export type HttpRunView = {
  /** The parsed body (also the run's `input`): JSON value, text, or undefined when there is none. */
  readonly body: unknown
  readonly params: Readonly<Record<string, string>>
  readonly query: Readonly<Record<string, string | string[]>>
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The request id (`X-Request-Id`, propagated or generated), method and path. */
  readonly request: { readonly id: string; readonly method: string; readonly path: string }
}

/**
 * What a trigger hands a pipeline run. Every run has `input`, `meta` and `locals`, whatever started it; a trigger
 * adds its own variables through `view` (HTTP: `body`, `params`, `query`, `headers`, `request`).
 */
export interface RunInput {
  /** The trigger type's name: `http`, `event`, `schedule`, … (see TriggerType). */
  readonly trigger: string
  /** The run's id: the request id, the event's id, … Logged with every line of the run. */
  readonly id: string
  /** The run's main value: an HTTP body, an event's payload, a queue message. */
  readonly input: unknown
  /** Facts from the trigger: HTTP method and path, an event's topic and source, a schedule's time. */
  readonly meta: Readonly<Record<string, unknown>>
  /** Values attached before the run (HTTP middleware: e.g. the authenticated principal). */
  readonly locals?: Readonly<Record<string, unknown>>
  /** The trigger's own variables, by name (only those its TriggerType declares). */
  readonly view?: Readonly<Record<string, unknown>>
}

/** What a pipeline answers. */
export interface PipelineResponse {
  status: number
  headers: Record<string, string>
  body: unknown
}

export interface PipelineRunOptions {
  logger: Logger
  /** Aborted when the caller gives up (request timeout, client gone, shutdown deadline). */
  signal?: AbortSignalLike
  /**
   * Told when each step starts and ends (recorded executions use it). Absent on ordinary runs, which then pay
   * nothing for it. Block steps pass the run's options on, so their inner steps are observed too.
   */
  observer?: RunObserver
}

/** A step as it started: its name (`steps.<name>`) and when (epoch ms). */
export interface StepStart {
  readonly step: string
  readonly at: number
}

/** A step as it ended. `error` when it threw (its `ERR_*` code, or the code of the StepError it raised). */
export interface StepEnd {
  readonly step: string
  /** Epoch ms. */
  readonly startedAt: number
  readonly endedAt: number
  readonly durationMs: number
  /** Bytes of the output's JSON (UTF-8); absent when the step threw or its output is not JSON. */
  readonly outputBytes?: number
  readonly error?: { readonly code: string; readonly message: string }
}

/** What a run tells an observer. Must not throw: an observer's failure would be charged to the step. */
export interface RunObserver {
  stepStarted(step: StepStart): void
  stepEnded(step: StepEnd): void
}

/**
 * `options` with another signal, for a run inside a run (a block, a called pipeline). The result inherits from
 * `options` rather than copying it: a caller's options may compute members in getters (HTTP makes a request's
 * logger only when something logs), which a spread would drop.
 */
export function runOptionsWith(options: PipelineRunOptions, signal: AbortSignalLike): PipelineRunOptions {
  return Object.create(options, { signal: { value: signal, enumerable: true } }) as PipelineRunOptions
}

/**
 * `options` whose observer (when there is one) reports every step under `prefix` (`each[3].`, `price.`): what runs
 * inside a step — a block's run, a called pipeline — is recorded by its path, never under a bare name another step
 * or another concurrent run may share.
 */
export function runOptionsNamed(options: PipelineRunOptions, prefix: string): PipelineRunOptions {
  const observer = options.observer
  if (observer === undefined) return options
  const named: RunObserver = {
    stepStarted: (start) => observer.stepStarted({ ...start, step: prefix + start.step }),
    stepEnded: (end) => observer.stepEnded({ ...end, step: prefix + end.step }),
  }
  return Object.create(options, { observer: { value: named, enumerable: true } }) as PipelineRunOptions
}

/**
 * A compiled pipeline. `run` resolves with the response a `respond` step built (or 200 with the last step's output,
 * 204 when it has none) and rejects with a `StepError` (or any error, which callers report as a 500).
 */
export interface Pipeline {
  readonly name: string
  run(input: RunInput, options: PipelineRunOptions): Promise<PipelineResponse>
}

/** The state of one pipeline run, as a step sees it. */
export interface RunScope {
  readonly trigger: string
  readonly id: string
  readonly input: unknown
  readonly meta: Readonly<Record<string, unknown>>
  readonly locals: Readonly<Record<string, unknown>>
  /** The trigger's own variables (HTTP: body, params, query, headers, request). */
  readonly view: Readonly<Record<string, unknown>>
  /** Outputs of the named steps that already ran. */
  readonly steps: Readonly<Record<string, unknown>>
  readonly logger: Logger
  readonly signal: AbortSignalLike
  /**
   * The options the run was started with (its logger, signal and whatever else the caller observes it by), for a
   * step that starts a run of another pipeline (flow's `call`) to pass on. Absent in a hand-made scope.
   */
  readonly options?: PipelineRunOptions
  /** Ends the pipeline after this step with this response. */
  respond(response: PipelineResponse): void
}

/** A compiled template: evaluates every `${{ … }}` inside a config value against a run. */
export type Template<T = unknown> = (scope: RunScope) => T

/** What the engine hands a step type's `create`, once per pipeline per config generation. */
export interface StepContext {
  readonly pipeline: string
  /** The step's name (its `name:` in YAML, or `<type>#<n>` for an unnamed step, n its 1-based position in its block). */
  readonly step: string
  readonly logger: Logger
  readonly dataDir: string
  /** Resolves a path relative to the YAML file that declared the pipeline. */
  resolvePath(path: string): string
  /**
   * A module this step references through a `moduleRef` property of its config, as the contract it provides
   * (checked: a module whose type does not declare `contract` in `provides` is refused).
   */
  module<T extends object>(name: string, contract: Contract<T>): T
  /** An engine service this step's plugin declared in `definePlugin({ services })`; any other is refused. */
  service<K extends ServiceName>(name: K): Services[K]
  /**
   * Compiles a config value for evaluation per run: strings that are exactly one `${{ expr }}` yield the
   * expression's value; strings that contain some interpolate them as text; arrays and objects are walked.
   */
  compile<T = unknown>(value: unknown): Template<T>
  /**
   * The step's `do:` block, compiled, when its type declares `block: 'steps'` (foreach, retry, timeout,
   * sql.transaction). Undefined for any other step.
   */
  readonly block?: Block
  /** The step's `branches:`, each compiled, by branch name, when its type declares `block: 'branches'` (parallel). */
  readonly blocks?: Readonly<Record<string, Block>>
  /**
   * Another pipeline this step references through a `pipelineRef` property of its config (any other is refused),
   * resolved on its first run, so a pipeline may reference itself. Absent outside an engine.
   */
  pipelineNamed?(name: string): Pipeline
}

/** How a block step runs its block once (one item, one attempt, one branch). */
export interface BlockRunOptions {
  /**
   * Values for the variables the step type declared in `blockVariables` (foreach: `item`, `index`), which the
   * block's expressions read by name. A name the type did not declare is ignored by the loader's checks: do not.
   */
  vars?: Readonly<Record<string, unknown>>
  /**
   * Aborts this block run only (a timeout, a failed sibling): a child of the run's signal, which the block step
   * makes. Defaults to the run's own signal. Steps of the block see it as `scope.signal`.
   */
  signal?: AbortSignalLike
  /**
   * Names this run of the block in step events (foreach: the item's index; parallel: the branch; retry: the
   * attempt), so a recorded execution tells concurrent runs of one block apart: its steps are reported as
   * `<block step>[<label>].<step>` (`<block step>.<step>` without a label).
   */
  label?: string | number
}

/**
 * A compiled block of steps. Each run starts from the enclosing run's state: its expressions see the run's
 * variables, the outputs of the steps that ran before the block step (`steps.<name>`) and the block's own steps as
 * they run; those stay inside the block (the block step's output is what it makes of its block's results).
 * The run's logger and options (signal, observers) carry on into the block's steps.
 */
export interface Block {
  /** Runs the block's steps in order; resolves with the last step's output (undefined when there is none). */
  run(scope: RunScope, options?: BlockRunOptions): Promise<unknown>
  /**
   * Runs the block without ever yielding to the event loop, for work that must not interleave with other runs (a
   * SQLite transaction on a shared connection); a step that returns a promise fails the block with ERR_PIPELINE_BLOCK_ASYNC.
   */
  runSync(scope: RunScope, options?: BlockRunOptions): unknown
}

/** A step inside a block as the loader declared it, for `StepType.checkBlock`. */
export interface BlockStepDecl {
  /** Where it stands, from the block step itself: `['do', 0]`, `['branches', 'fast', 1, 'then', 0]`. */
  readonly path: readonly (string | number)[]
  readonly name: string
  /** Its step type, or `if` for a branch. */
  readonly type: string
  /** Its config as validated (defaults filled); undefined for an `if`. */
  readonly config: unknown
}

/** One step's work per run: receives the run's scope, returns the step's output (kept as `steps.<name>`). */
export type StepRun = (scope: RunScope) => unknown

/**
 * A step type: name, config schema and a factory that compiles the step once per generation.
 * @example
 * export default defineStepType<{ message: string }>({
 *   type: 'log',
 *   configSchema: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
 *   create(config, ctx) { const message = ctx.compile<string>(config.message); return (run) => run.logger.info(message(run)) },
 * })
 */
export interface StepType<C = any> {
  readonly type: string
  readonly description?: string
  readonly configSchema: JsonSchema
  /**
   * Checks a config the schema accepted for what a schema cannot say (e.g. a JSON Schema inside it that could not
   * be evaluated in bounded time), when the config loads: each problem is reported at its place in the YAML, as
   * `file:line:col`. `path` is inside the step's `config`.
   */
  check?(config: C): ConfigProblem[]
  /**
   * The type takes a block of steps: `steps` — a `do:` list (`ctx.block`); `branches` — a `branches:` map of named
   * lists (`ctx.blocks`). The loader declares those steps with every check a pipeline's own steps get.
   */
  readonly block?: 'steps' | 'branches'
  /** Variables the block's expressions may read by name (foreach: `item`, `index`), set per run by `Block.run`'s `vars`. */
  readonly blockVariables?: readonly string[]
  /**
   * Checks the block's steps (at any depth, `if` branches included) when the config loads, e.g. that they all use
   * one database. A problem's `path` is from the block step itself (`['do', 0, 'config', 'db']`).
   */
  checkBlock?(config: C, steps: readonly BlockStepDecl[]): ConfigProblem[]
  /**
   * Checks this step against the rest of the app once every declaration was checked on its own (e.g. a transition's
   * event the named machine does not have): `app.report` each problem, by default at a path inside this step's
   * `config`; a warning does not fail the load. Runs only for a step whose config is valid. Must be pure and cheap.
   */
  checkApp?(config: C, app: AppView, self: AppStep): void
  create(config: C, ctx: StepContext): StepRun | Promise<StepRun>
}

/** A problem `StepType.check` found: where inside the config (property names, indexes), what, and how to fix it. */
export interface ConfigProblem {
  path: (string | number)[]
  /** The problem is the property name at `path`, not its value. */
  key?: boolean
  message: string
  hint?: string
  /** `warning`: reported, but the config still loads (e.g. an unreachable state). Default `error`. */
  severity?: 'error' | 'warning'
}

/** Identity helper: returns its argument, typed. */
export function defineStepType<C = any>(stepType: StepType<C>): StepType<C> {
  return stepType
}
