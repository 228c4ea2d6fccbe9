// The `validate` step: checks a value (the request body by default) against a JSON Schema compiled once.
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import formats from 'ajv-formats'
import { StepError, defineStepType, messageOf, type Logger, type RunScope } from '@islet/sdk'
import { CoreError } from './errors.ts'
import { clocked, DeadlineExceeded, linearRegExp, makeLinear, nodesUpTo, ValidationClock, vetSchema } from './schema-vet.ts'

export interface ValidateConfig {
  readonly schema: Readonly<Record<string, unknown>>
  /** A template; the loader fills in `${{ input }}` (an HTTP run's body). */
  readonly value?: unknown
  /** How long checking one value may hold the event loop before it is refused. */
  readonly maxMs?: number
}

/** One mismatch as callers see it: a JSON Pointer into the value ('' is the value itself) and what is wrong. */
export interface ValidationProblem {
  path: string
  message: string
}

// A hostile body can fail a schema thousands of times over; the answer stays small.
const MAX_PROBLEMS = 20
/** Values with more nodes than this fail with their first problem only (see create). */
const MAX_LISTED_NODES = 10_000
/** Far above what a linear check of a 1 MB body takes (tens of ms), far below a stall every route would feel. */
const DEFAULT_MAX_MS = 250
/** A value that is the run's main value: named in messages as the request body (HTTP) or the input (any other trigger). */
const RUN_INPUT = /^\s*\$\{\{\s*(body|input)\s*\}\}\s*$/

/**
 * @example
 * - type: validate
 *   config:
 *     schema: { type: object, required: [sku, qty], properties: { qty: { type: integer, minimum: 1 } } }
 */
export default defineStepType<ValidateConfig>({
  type: 'validate',
  description: 'Checks a value (the request body unless `value` says otherwise) against a JSON Schema; ' +
    'answers 400 ERR_VALIDATION listing every mismatch. Outputs the value.',
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
    },
  },
  // Checked when the config loads, so a schema that could stall the engine is refused at the pattern's line.
  check: (config) => vetSchema(config.schema).map((p) => ({ ...p, path: ['schema', ...p.path] })),
  create(config, ctx) {
    const clock = new ValidationClock(config.maxMs ?? DEFAULT_MAX_MS)
    const { first, every } = compileSchema(config.schema, ctx.logger, clock)
    const source = config.value ?? '${{ input }}'
    const value = ctx.compile(source)
    const isInput = typeof source === 'string' && RUN_INPUT.test(source)
    const whatOf = (scope: RunScope) => (!isInput ? 'value' : scope.trigger === 'http' ? 'request body' : 'input')
    /** Runs one validator under the clock; past its deadline the value is refused, and the operator told why. */
    const timed = (validate: ValidateFunction, data: unknown, what: string): boolean => {
      clock.start()
      try {
        return validate(data) as boolean
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
      if (timed(first, data, what)) return data
      // Listing every mismatch builds one error object per failing node: on a large value (300,000 failing items fit
      // in 1 MB) that alone holds the event loop for a second, so a large value gets its first problem only.
      const small = nodesUpTo(data, MAX_LISTED_NODES) <= MAX_LISTED_NODES
      const errors = (small && !timed(every, data, what) ? every.errors : first.errors) ?? []
      const shown = !small ? ' (the first problem; the value is too large to list them all)'
        : errors.length > MAX_PROBLEMS ? ` (${errors.length} problems, the first ${MAX_PROBLEMS} listed)` : ''
      throw new StepError({
        status: 400,
        code: 'ERR_VALIDATION',
        message: `${what} does not match the schema${shown}`,
        details: errors.slice(0, MAX_PROBLEMS).map(describe),
      })
    }
  },
})

/**
 * Validators run on the engine's event loop, on request data: the schema is vetted (again: a config built without
 * the loader, e.g. a test pipeline, reaches create directly) and every superlinear part of ajv is replaced by a
 * linear one (see schema-vet.ts), so a body within bodyLimit costs time in proportion to its size.
 */
function compileSchema(schema: Readonly<Record<string, unknown>>, logger: Logger, clock: ValidationClock): { first: ValidateFunction; every: ValidateFunction } {
  const problems = vetSchema(schema)
  if (problems.length > 0) {
    const [first] = problems
    const at = first.path.length ? ` at schema.${first.path.join('.')}` : ''
    throw new CoreError('ERR_CORE_SCHEMA_UNSAFE', `${first.message}${at}${first.hint ? ` (${first.hint})` : ''}`,
      { details: { path: ['schema', ...first.path] } })
  }
  const options: Options = {
    code: { regExp: linearRegExp },
    // Unknown keywords and formats fail create (a typo such as `minimun` must not silently accept everything);
    // the type-strictness checks would also reject schemas that are merely loose, so they stay off.
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: { log: (m: unknown) => logger.debug(String(m)), warn: (m: unknown) => logger.warn(String(m)), error: (m: unknown) => logger.error(String(m)) },
  }
  const is2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12')
  const compile = (allErrors: boolean) => {
    const ajv = is2020 ? new Ajv2020({ ...options, allErrors }) : new Ajv({ ...options, allErrors })
    formats.default(ajv)
    makeLinear(ajv)
    try {
      // Each step gets its own ajv: two schemas with the same $id, or a reload bringing a changed one, cannot clash.
      return ajv.compile(clocked(ajv, schema, clock))
    } catch (error) {
      throw new CoreError('ERR_CORE_SCHEMA_INVALID', `invalid JSON Schema: ${messageOf(error)}`, { cause: error })
    }
  }
  // `first` stops at the first mismatch (every request runs it); `every` lists them all, for small failing values.
  return { first: compile(false), every: compile(true) }
}

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')

/** Required and unexpected properties are reported at the property's own path, which is where callers look. */
function describe(error: ErrorObject): ValidationProblem {
  if (error.keyword === 'required') {
    return { path: `${error.instancePath}/${escape(String(error.params.missingProperty))}`, message: 'is required' }
  }
  if (error.keyword === 'additionalProperties') {
    return { path: `${error.instancePath}/${escape(String(error.params.additionalProperty))}`, message: 'is not allowed' }
  }
  return { path: error.instancePath, message: error.message ?? `fails '${error.keyword}'` }
}
