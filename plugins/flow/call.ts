// The call step: runs another pipeline as a subroutine (trigger `call`), its input and output checked against JSON
// Schemas, nested calls bounded so a pipeline calling itself ends with a clear error rather than a stack overflow.
import type { ValidateFunction } from 'ajv'
import {
  StepError, defineStepType, defineTrigger, messageOf, pipelineRef, runOptionsNamed, runOptionsWith, type ConfigProblem, type RunScope,
} from '@islet/sdk'
import { createAjv } from '../core/ajv.ts'
import { problemsOf } from '../core/schema-problems.ts'
import { vetSchema } from '../core/schema-vet.ts'
import { FlowError } from './errors.ts'
import { stepLabel } from './outcome.ts'

export interface CallConfig {
  readonly pipeline: string
  /** A template; the caller's own input by default. */
  readonly input?: unknown
  readonly inputSchema?: Readonly<Record<string, unknown>>
  readonly outputSchema?: Readonly<Record<string, unknown>>
  readonly maxDepth?: number
}

/** The runs a call step starts: `meta` says who called and how deep the calls are nested. */
export const callTrigger = defineTrigger({
  name: 'call',
  description: 'a run started by a call step of another pipeline (or the same one)',
  meta: {
    type: 'object',
    properties: {
      caller: { type: 'string', description: 'the calling pipeline' },
      step: { type: 'string', description: 'the call step' },
      depth: { type: 'integer', description: '1 for a call from a run no call started, one more per nested call' },
      chain: { type: 'array', items: { type: 'string' }, description: 'the pipelines from the outermost run to this one' },
    },
  },
})

export const DEFAULT_MAX_DEPTH = 8

/** The call chain of the run `scope` belongs to: its meta's when a call started it, else just its own pipeline. */
function chainOf(scope: RunScope, pipeline: string): string[] {
  const chain = scope.trigger === 'call' ? scope.meta.chain : undefined
  return Array.isArray(chain) && chain.every((p) => typeof p === 'string') ? chain : [pipeline]
}

/** Compiles a schema the config loader vetted (again here: a pipeline built without the loader reaches create). */
function compileSchema(schema: Readonly<Record<string, unknown>>, what: string, label: string): ValidateFunction {
  const problems = vetSchema(schema)
  try {
    if (problems.length > 0) throw new Error(problems[0]!.message)
    return createAjv('step', { allErrors: true }).compile(schema)
  } catch (error) {
    throw new FlowError('ERR_FLOW_SCHEMA_INVALID', `${label}: ${what} is not a usable JSON Schema: ${messageOf(error)}`, { cause: error })
  }
}

/**
 * @example
 * - name: priced
 *   type: call
 *   config:
 *     pipeline: price-order
 *     input: '${{ steps.order }}'
 *     inputSchema: { type: object, required: [sku, qty] }
 *     outputSchema: { type: object, required: [total] }
 */
export default defineStepType<CallConfig>({
  type: 'call',
  description: 'Runs another pipeline with `input` (trigger call) and outputs its output (what it responds, else its last ' +
    'step\'s output); inputSchema mismatch → 400 ERR_FLOW_CALL_INPUT, outputSchema mismatch → ERR_FLOW_CALL_OUTPUT.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['pipeline'],
    properties: {
      pipeline: pipelineRef('the pipeline to run', { trigger: 'call' }),
      input: { default: '${{ input }}', description: 'its input, usually an expression; the caller\'s own input by default' },
      inputSchema: { type: 'object', description: 'JSON Schema the input must match before the pipeline runs' },
      outputSchema: { type: 'object', description: 'JSON Schema the pipeline\'s output must match' },
      maxDepth: { type: 'integer', minimum: 1, maximum: 64, default: DEFAULT_MAX_DEPTH,
        description: 'how deeply calls may nest below the first run (a pipeline calling itself, directly or not)' },
    },
  },
  check(config): ConfigProblem[] {
    return (['inputSchema', 'outputSchema'] as const).flatMap((key) => config[key] === undefined ? []
      : vetSchema(config[key]).map((p) => ({ ...p, path: [key, ...p.path] })))
  },
  create(config, ctx) {
    const label = stepLabel('call', ctx)
    if (!ctx.pipelineNamed) throw new Error(`${label}: pipelines can call each other only inside an engine`)
    const target = ctx.pipelineNamed(config.pipeline)
    const input = ctx.compile(config.input ?? '${{ input }}')
    const checkInput = config.inputSchema && compileSchema(config.inputSchema, 'inputSchema', label)
    const checkOutput = config.outputSchema && compileSchema(config.outputSchema, 'outputSchema', label)
    const maxDepth = config.maxDepth ?? DEFAULT_MAX_DEPTH
    const called = `pipeline '${config.pipeline}' (called by ${label})`
    return async (scope) => {
      const chain = [...chainOf(scope, ctx.pipeline), config.pipeline]
      const depth = chain.length - 1
      if (depth > maxDepth) {
        const shown = chain.length > 12 ? [...chain.slice(0, 5), '…', ...chain.slice(-5)] : chain
        throw new FlowError('ERR_FLOW_CALL_DEPTH',
          `${label}: calling ${config.pipeline} would nest calls ${depth} deep, more than maxDepth ${maxDepth} (${shown.join(' → ')}); ` +
          'a pipeline that calls itself needs a condition (if:) that ends the recursion', { details: { pipeline: ctx.pipeline, step: ctx.step, chain, maxDepth } })
      }
      const value = input(scope)
      if (checkInput && !checkInput(value)) {
        throw new StepError({ status: 400, code: 'ERR_FLOW_CALL_INPUT', message: `the input of ${called} does not match its inputSchema`,
          details: problemsOf(checkInput.errors) })
      }
      const response = await target.run({
        trigger: 'call', id: scope.id, input: value, meta: { caller: ctx.pipeline, step: ctx.step, depth, chain }, locals: scope.locals,
      }, runOptionsNamed(runOptionsWith(scope.options ?? { logger: scope.logger }, scope.signal), `${ctx.step}.`))
      const output = response.body
      if (checkOutput && !checkOutput(output)) {
        const problems = problemsOf(checkOutput.errors)
        throw new FlowError('ERR_FLOW_CALL_OUTPUT',
          `the output of ${called} does not match its outputSchema: ${problems.map((p) => `${p.path || '(root)'} ${p.message}`).join('; ')}`,
          { details: { pipeline: config.pipeline, caller: ctx.pipeline, step: ctx.step, problems } })
      }
      return output
    }
  },
})
