// Blocks: the compiled `do:` / `branches:` of a block step, run inside the run around them through createRun's loop.
import { runOptionsNamed, runOptionsWith, type Block, type BlockRunOptions, type PipelineResponse, type PipelineRunOptions, type RunInput, type RunScope } from '@islet/sdk'
import { IsletError } from '../errors.ts'
import { blameStep, isThenable, RunState, stepEnded, stepStarted, type Op } from './run.ts'

/**
 * The state of one block run: the enclosing run's variables, its steps' outputs so far (copied: what the block's
 * steps add stays inside it), the block's variables in its view, and the enclosing run's options with the block's
 * own signal. A `respond` inside ends the block and, once the block step returns, the pipeline.
 */
class BlockState extends RunState {
  readonly #parent: RunScope
  constructor(parent: RunScope, options: PipelineRunOptions, vars: Readonly<Record<string, unknown>> | undefined) {
    super({
      trigger: parent.trigger, id: parent.id, input: parent.input, meta: parent.meta, locals: parent.locals,
      view: vars === undefined ? parent.view : viewWith(parent.view, vars),
    }, options)
    this.#parent = parent
    Object.assign(this.steps, parent.steps)
  }
  override respond(response: PipelineResponse): void {
    super.respond(response)
    this.#parent.respond(response)
  }
}

/**
 * The enclosing view with the block's variables on top: the view is the prototype (a trigger's view may compute its
 * values in getters, which a copy would lose; nothing is copied per item), the variables own properties.
 */
function viewWith(view: Readonly<Record<string, unknown>>, vars: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = Object.create(view) as Record<string, unknown>
  for (const name of Object.keys(vars)) Object.defineProperty(out, name, { value: vars[name], enumerable: true })
  return out
}

/**
 * The options of the run around `scope` (a hand-made scope has only its logger and signal), with `signal` in place,
 * and, when the run is observed, an observer that names the block's steps by the path to them (`each[3].charge`):
 * concurrent runs of one block (foreach items, parallel branches) would otherwise report the same step name.
 */
function optionsOf(scope: RunScope, owner: string, block: BlockRunOptions | undefined): PipelineRunOptions {
  const outer: PipelineRunOptions = scope instanceof RunState ? scope.options : { logger: scope.logger, signal: scope.signal }
  const options = block?.signal === undefined ? outer : runOptionsWith(outer, block.signal)
  return runOptionsNamed(options, block?.label === undefined ? `${owner}.` : `${owner}[${block.label}].`)
}

type RunFn = (input: RunInput, options: PipelineRunOptions) => Promise<PipelineResponse>

/**
 * The Block over `ops` of the block step `owner`, whose async runs go through `run` (createRun over the same ops:
 * one loop for every run).
 */
export function createBlock(pipeline: string, owner: string, ops: readonly Op[], run: RunFn): Block {
  return Object.freeze({
    async run(scope: RunScope, options?: BlockRunOptions): Promise<unknown> {
      const runOptions = optionsOf(scope, owner, options)
      const response = await run(new BlockState(scope, runOptions, options?.vars), runOptions)
      return response.body
    },
    runSync(scope: RunScope, options?: BlockRunOptions): unknown {
      const runOptions = optionsOf(scope, owner, options)
      return walkSync(pipeline, ops, new BlockState(scope, runOptions, options?.vars))
    },
  })
}

/**
 * createRun's walk without an `await` anywhere: every step runs before this returns, so nothing else on the event
 * loop runs in between (another run's statement inside a SQLite transaction on the shared connection, say).
 */
function walkSync(pipeline: string, ops: readonly Op[], state: BlockState): unknown {
  let last: unknown = undefined
  let pc = 0
  // Observed like createRun's walk (an execution records the steps inside a transaction too).
  const observer = state.options.observer
  while (pc < ops.length) {
    if (state.signal.aborted) throw state.signal.reason
    const op = ops[pc]!
    if (op.kind === 'step') {
      const started = observer !== undefined ? stepStarted(observer, op.name) : 0
      let output: unknown
      try {
        output = op.run!(state)
        if (isThenable(output)) {
          // Its work goes on unawaited; the block fails (a transaction rolls back) rather than interleave with other runs.
          Promise.resolve(output).catch(() => {})
          throw new IsletError('ERR_PIPELINE_BLOCK_ASYNC',
            `step '${op.name}' of pipeline '${pipeline}' returned a promise inside a block that runs without yielding (sql.transaction): ` +
            'only steps that finish at once (sql.query, sql.exec, if, fail) may stand there', { details: { pipeline, step: op.name } })
        }
      } catch (error) {
        const blamed = blameStep(pipeline, op.name, error)
        if (observer !== undefined) stepEnded(observer, op.name, started, undefined, blamed)
        throw blamed
      }
      if (observer !== undefined) stepEnded(observer, op.name, started, output, undefined)
      state.steps[op.name] = output
      last = output
      if (state.responded() !== undefined) return last
      pc++
    } else if (op.kind === 'branch') {
      let taken: unknown
      try {
        taken = op.condition!(state)
      } catch (error) {
        throw blameStep(pipeline, op.name, error)
      }
      pc = taken ? pc + 1 : op.target
    } else {
      pc = op.target
    }
  }
  return last
}
