// Pipelines and step types: the ordered steps a trigger (HTTP route, later events and schedules) runs.
import type { Logger } from './logger.ts'
import type { JsonSchema } from './schema.ts'
import type { Contract } from './contract.ts'
import type { ServiceName, Services } from './services.ts'

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
