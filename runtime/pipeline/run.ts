// Runs a compiled pipeline: a flat list of steps and jumps, walked by one loop per request.
import {
  isStepError, type AbortSignalLike, type Logger, type PipelineResponse, type PipelineRunOptions, type RunInput,
  type RunObserver, type RunScope, type StepRun, type Template,
} from '@islet/sdk'
import { codeOf, describeThrown, IsletError, isIsletError, messageOf } from '../errors.ts'

/**
 * One instruction. Branches compile to a conditional jump over their `then` block and a jump over their `else`
 * block, so running needs neither recursion nor a stack. Every op has the same shape to keep the loop monomorphic.
 */
export interface Op {
  readonly kind: 'step' | 'branch' | 'jump'
  /** The step's or branch's name, for `steps.<name>` and for blame. */
  readonly name: string
  readonly run: StepRun | null
  readonly condition: Template | null
  /** Where a branch goes when its condition is falsy, or where a jump goes. */
  target: number
}

const NEVER_ABORTED: AbortSignalLike = Object.freeze({
  aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {},
})

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null))

/** The state of one run; also the scope steps see. A block's run has one of its own (block.ts BlockState). */
export class RunState implements RunScope {
  readonly trigger: string
  readonly id: string
  readonly input: unknown
  readonly meta: Readonly<Record<string, unknown>>
  readonly locals: Readonly<Record<string, unknown>>
  readonly view: Readonly<Record<string, unknown>>
  readonly steps: Record<string, unknown> = Object.create(null)
  readonly signal: AbortSignalLike
  readonly #options: PipelineRunOptions
  #response: PipelineResponse | undefined = undefined
  constructor(input: RunInput, options: PipelineRunOptions) {
    this.#options = options
    this.trigger = input.trigger
    this.id = input.id
    this.input = input.input
    this.meta = input.meta
    this.locals = input.locals ?? EMPTY
    this.view = input.view ?? EMPTY
    this.signal = options.signal ?? NEVER_ABORTED
  }
  /** What the run was started with: a block's runs carry them on (block.ts). */
  get options(): PipelineRunOptions {
    return this.#options
  }
  /** Read from the options when a step logs: a caller may make its logger only then (HTTP: a child per request). */
  get logger(): Logger {
    return this.#options.logger
  }
  respond(response: PipelineResponse): void {
    this.#response = response
  }
  /** The response a step asked for, if any. */
  responded(): PipelineResponse | undefined {
    return this.#response
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

/** A step's error as its run reports it: coded errors as they are (saying which step evaluated an expression), others wrapped naming the step. */
export function blameStep(pipeline: string, step: string, error: unknown): unknown {
  if (isStepError(error)) return error
  if (isIsletError(error)) {
    // Expression errors are created per evaluation; saying which step evaluated them is all they lack.
    if (error.code === 'ERR_EXPRESSION_EVAL' && error.details.step === undefined) Object.assign(error.details, { pipeline, step })
    return error
  }
  return new IsletError('ERR_STEP_FAILED', `step '${step}' of pipeline '${pipeline}' failed: ${messageOf(error)}`,
    { cause: error, details: { pipeline, step } })
}

/**
 * The variables a trigger type declares for its runs' views, by trigger name; undefined for an unknown trigger. Called
 * on every run: it must answer from memory (see compile.ts triggerViews).
 */
export type TriggerViews = (trigger: string) => ReadonlySet<string> | undefined

/**
 * The `run` of a pipeline over `ops`. Sync steps never wait on the microtask queue: a step's result is awaited
 * only when it is a promise. One try/catch per run blames the step at `pc`. A run is refused before any step when
 * its trigger is unknown or its view carries a name that trigger does not declare (`views`).
 */
export function createRun(pipeline: string, ops: readonly Op[], views: TriggerViews): (input: RunInput, options: PipelineRunOptions) => Promise<PipelineResponse> {
  const end = ops.length

  function refuse(input: RunInput): void {
    const declared = views(input.trigger)
    if (!declared) {
      throw new IsletError('ERR_PIPELINE_UNKNOWN_TRIGGER',
        `pipeline '${pipeline}' was asked to run for trigger '${input.trigger}', which no registered plugin declares`,
        { details: { pipeline, trigger: input.trigger } })
    }
    for (const name in input.view) {
      if (declared.has(name)) continue
      throw new IsletError('ERR_PIPELINE_VIEW_UNDECLARED',
        `pipeline '${pipeline}' was asked to run for trigger '${input.trigger}' with view variable '${name}', which that trigger type does not declare` +
        ` (it declares ${declared.size ? [...declared].join(', ') : 'none'}); pass the value as input, meta or locals, or declare it in the trigger type's variables`,
        { details: { pipeline, trigger: input.trigger, variable: name, declared: [...declared] } })
    }
  }

  const blame = (error: unknown, op: Op): unknown => blameStep(pipeline, op.name, error)

  return async function run(input, options) {
    // A block's run (block.ts) arrives with its state made from the run around it: no trigger's, nothing to refuse.
    const state = input instanceof RunState ? input : (refuse(input), new RunState(input, options))
    // Read once: an unobserved run (every HTTP request) pays one undefined check per step and nothing else. A block's
    // run carries the options of the run around it, so its steps are observed too.
    const observer = options.observer
    let started = 0
    let last: unknown = undefined
    let pc = 0
    try {
      while (pc < end) {
        if (state.signal.aborted) break
        const op = ops[pc]!
        if (op.kind === 'step') {
          if (observer !== undefined) started = stepStarted(observer, op.name)
          let output = op.run!(state)
          if (isThenable(output)) output = await output
          if (observer !== undefined) stepEnded(observer, op.name, started, output, undefined)
          state.steps[op.name] = output
          last = output
          const response = state.responded()
          if (response !== undefined) return response
          pc++
        } else if (op.kind === 'branch') {
          pc = op.condition!(state) ? pc + 1 : op.target
        } else {
          pc = op.target
        }
      }
    } catch (error) {
      // A step that gave up because the run was cancelled (a delay, a block) passes on the cancellation: no step's fault.
      const blamed = state.signal.aborted && error === state.signal.reason ? error : blame(error, ops[pc]!)
      if (observer !== undefined && ops[pc]!.kind === 'step') stepEnded(observer, ops[pc]!.name, started, undefined, blamed)
      throw blamed
    }
    if (pc < end) throw state.signal.reason
    return last === undefined ? { status: 204, headers: {}, body: undefined } : { status: 200, headers: {}, body: last }
  }
}

export function stepStarted(observer: RunObserver, step: string): number {
  const at = Date.now()
  observer.stepStarted({ step, at })
  return at
}

/** Tells `observer` a step ended: with its output's JSON size, or with the error it threw (already blamed). */
export function stepEnded(observer: RunObserver, step: string, startedAt: number, output: unknown, error: unknown): void {
  const endedAt = Date.now()
  const timing = { step, startedAt, endedAt, durationMs: endedAt - startedAt }
  if (error !== undefined) {
    // A StepError's code is the app's own (the fail step takes any upper-case code), kept as it is.
    const code = isStepError(error) ? error.code : codeOf(error, 'ERR_STEP_FAILED')
    observer.stepEnded({ ...timing, error: { code, message: describeThrown(error) } })
    return
  }
  const bytes = jsonBytes(output)
  observer.stepEnded(bytes === undefined ? timing : { ...timing, outputBytes: bytes })
}

/** UTF-8 bytes of `value`'s JSON; 0 for no output, undefined for a value JSON cannot hold (a cycle, a BigInt). */
function jsonBytes(value: unknown): number | undefined {
  if (value === undefined) return 0
  try {
    const text = JSON.stringify(value)
    return text === undefined ? undefined : Buffer.byteLength(text)
  } catch {
    return undefined
  }
}
