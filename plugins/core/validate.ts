// The `validate` step: checks a value (the request body by default) against a JSON Schema compiled once.
import type { ErrorObject, ValidateFunction } from 'ajv'
import { StepError, defineStepType, messageOf, type Logger, type RunScope } from '@islet/sdk'
import { CoreError } from './errors.ts'
import { createAjv } from './ajv.ts'
import { MAX_PROBLEMS, problemOf, type ValidationProblem } from './schema-problems.ts'
import { clocked, DeadlineExceeded, nodesUpTo, ValidationClock, vetSchema } from './schema-vet.ts'
import { parameterAt, sent, validatedInput, valueAt, type ValidatedInput } from './validate-input.ts'

export interface ValidateConfig {
  readonly schema: Readonly<Record<string, unknown>>
  /** A template; the loader fills in `${{ input }}` (an HTTP run's body). */
  readonly value?: unknown
  /** How long checking one value may hold the event loop before it is refused. */
  readonly maxMs?: number
  /**
   * Convert strings to the schema's types and fill in `default`s. Unset: on for `${{ query }}`, `${{ params }}` and
   * their members (`${{ query.page }}`), which are always text; off for everything else (bodies stay strict).
   */
  readonly coerce?: boolean
}

export type { ValidationProblem } from './schema-problems.ts'

// A hostile body can fail a schema thousands of times over; the answer stays small.
/** Values with more nodes than this fail with their first problem only (see create). */
const MAX_LISTED_NODES = 10_000
/** Far above what a linear check of a 1 MB body takes (tens of ms), far below a stall every route would feel. */
const DEFAULT_MAX_MS = 250

/**
 * @example
 * - type: validate
 *   config:
 *     schema: { type: object, required: [sku, qty], properties: { qty: { type: integer, minimum: 1 } } }
 */
export default defineStepType<ValidateConfig>({
  type: 'validate',
  description: 'Checks a value (the request body unless `value` says otherwise) against a JSON Schema; ' +
    'answers 400 ERR_VALIDATION listing every mismatch. Outputs the value; for ${{ query }} and ${{ params }} ' +
    'converted to the schema\'s types, defaults filled in.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['schema'],
    properties: {
      schema: {
        type: 'object',
        description: 'the JSON Schema the value must match (draft-07; draft 2020-12 when its $schema says so)',
      },
      value: { default: '${{ input }}', description: "what to validate, a template; the run's input (an HTTP request's body) by default" },
      maxMs: {
        type: 'integer', minimum: 1, maximum: 5_000, default: DEFAULT_MAX_MS,
        description: 'how long checking one value may hold the engine\'s event loop; past it the value is refused (400 ERR_VALIDATION_TOO_COSTLY)',
      },
      coerce: {
        type: 'boolean',
        description: 'convert strings to the schema\'s types (?limit=5 → 5, ?flag=true → true, one ?tag=a → [\'a\']) and fill in ' +
          'defaults; default: on for ${{ query }}, ${{ params }} and their members, off for anything else (bodies stay strict)',
      },
    },
  },
  // Checked when the config loads, so a schema that could stall the engine is refused at the pattern's line.
  check: (config) => vetSchema(config.schema).map((p) => ({ ...p, path: ['schema', ...p.path] })),
  create(config, ctx) {
    const clock = new ValidationClock(config.maxMs ?? DEFAULT_MAX_MS)
    const source = config.value ?? '${{ input }}'
    // Decided once, from the template as written: query and route parameters are text whatever the schema says.
    const input = validatedInput(source, config.coerce)
    const { first, every } = compileSchema(config.schema, ctx.logger, clock, input.coerce)
    const value = ctx.compile(source)
    const whatOf = (scope: RunScope) => (input.runInput && scope.trigger === 'http' ? 'request body' : input.what)
    // ajv fills defaults of properties only; an absent parameter (`${{ query.page }}`) takes the schema's own.
    const rootDefault = config.schema.default
    /**
     * Runs one validator under the clock; past its deadline the value is refused, and the operator told why. The
     * value sits in a box ajv writes conversions back to (the root itself included: `${{ query.page }}` is a string).
     */
    const timed = (validate: ValidateFunction, box: { value: unknown }, what: string): boolean => {
      clock.start()
      try {
        // Only a converted value needs ajv to know its parent (to write the root's conversion back): a body is
        // checked as it is, with no context object per run.
        return (input.coerce
          ? validate(box.value, { instancePath: '', parentData: box, parentDataProperty: 'value', rootData: box, dynamicAnchors: {} })
          : validate(box.value)) as boolean
      } catch (error) {
        if (!(error instanceof DeadlineExceeded)) throw error
        ctx.logger.warn(`validate step '${ctx.step}' of pipeline '${ctx.pipeline}' gave up after ${clock.ms} ms on one value: ` +
          'its schema makes some values costly to check (e.g. a recursive $ref under anyOf/oneOf with overlapping branches)')
        throw new StepError({ status: 400, code: 'ERR_VALIDATION_TOO_COSTLY', message: `${what} could not be checked against the schema within ${clock.ms} ms` })
      }
    }
    return (scope) => {
      const data = value(scope)
      const what = whatOf(scope)
      // Converted on a copy (structuredClone: own data keys, a '__proto__' key included): the request's own query and
      // params stay as sent for every other step.
      const box = { value: input.coerce ? structuredClone(data ?? rootDefault) : data }
      if (timed(first, box, what)) return box.value
      // Listing every mismatch builds one error object per failing node: on a large value (300,000 failing items fit
      // in 1 MB) that alone holds the event loop for a second, so a large value gets its first problem only.
      const small = nodesUpTo(data, MAX_LISTED_NODES) <= MAX_LISTED_NODES
      const again = { value: input.coerce ? structuredClone(data ?? rootDefault) : data }
      const errors = (small && !timed(every, again, what) ? every.errors : first.errors) ?? []
      const shown = !small ? ' (the first problem; the value is too large to list them all)'
        : errors.length > MAX_PROBLEMS ? ` (${errors.length} problems, the first ${MAX_PROBLEMS} listed)` : ''
      const problems = errors.slice(0, MAX_PROBLEMS).map((e) => describe(e, input, data))
      throw new StepError({
        status: 400,
        code: 'ERR_VALIDATION',
        message: input.coerce && problems[0]?.parameter !== undefined ? `${parameterMessage(input, problems[0])}${shown}` : `${what} does not match the schema${shown}`,
        details: problems,
      })
    }
  },
})

/**
 * Validators run on the engine's event loop, on request data: the schema is vetted (again: a config built without
 * the loader, e.g. a test pipeline, reaches create directly) and every superlinear part of ajv is replaced by a
 * linear one (see schema-vet.ts), so a body within bodyLimit costs time in proportion to its size.
 */
function compileSchema(schema: Readonly<Record<string, unknown>>, logger: Logger, clock: ValidationClock, coerce: boolean): { first: ValidateFunction; every: ValidateFunction } {
  const problems = vetSchema(schema)
  if (problems.length > 0) {
    const [first] = problems
    const at = first.path.length ? ` at schema.${first.path.join('.')}` : ''
    throw new CoreError('ERR_CORE_SCHEMA_UNSAFE', `${first.message}${at}${first.hint ? ` (${first.hint})` : ''}`,
      { details: { path: ['schema', ...first.path] } })
  }
  const draft = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12') ? '2020-12' : '07'
  const log = { log: (m: unknown) => logger.debug(String(m)), warn: (m: unknown) => logger.warn(String(m)), error: (m: unknown) => logger.error(String(m)) }
  // A root `default` is the step's to fill (ajv fills properties' only, and strict mode refuses one at the root).
  const rootless = coerce ? Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'default')) : schema
  const compile = (allErrors: boolean) => {
    const ajv = createAjv('step', { allErrors, draft, logger: log, coerce })
    try {
      // Each step gets its own ajv: two schemas with the same $id, or a reload bringing a changed one, cannot clash.
      return ajv.compile(clocked(ajv, rootless, clock))
    } catch (error) {
      throw new CoreError('ERR_CORE_SCHEMA_INVALID', `invalid JSON Schema: ${messageOf(error)}`, { cause: error })
    }
  }
  // `first` stops at the first mismatch (every request runs it); `every` lists them all, for small failing values.
  return { first: compile(false), every: compile(true) }
}


/** The problem where callers look for it, plus, for query and route parameters, which one and what was sent. */
function describe(error: ErrorObject, input: ValidatedInput, data: unknown): ValidationProblem {
  const problem = problemOf(error)
  if (!input.coerce) return problem
  const parameter = input.parameter ?? parameterAt(problem.path)
  if (parameter === undefined) return problem
  const got = valueAt(data, problem.path)
  return got === undefined || error.keyword === 'required' ? { ...problem, parameter } : { ...problem, parameter, got: sent(got) }
}

/** `query parameter 'limit' must be integer (got "abc")`: which parameter, what was expected, what came. */
function parameterMessage(input: ValidatedInput, problem: ValidationProblem): string {
  return `${input.what} '${problem.parameter}' ${problem.message}${problem.got === undefined ? '' : ` (got ${problem.got})`}`
}
