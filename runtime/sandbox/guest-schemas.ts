// Validators for a component's own input, output and config schemas, run in the sandbox WORKER (never in the engine).
// A worker is shared by components, and its input is any HTTP client's request body, so a guest schema gets the
// same cost bounds as an operator's `validate` schema (plugins/core/schema-vet.ts): vetted for size and depth,
// patterns on RE2 (linear; a pattern RE2 cannot run is refused at load), `uniqueItems`/`enum` by hashing, formats
// capped in length, and a deadline ajv's generated code checks as it goes. Without them a 550 KB body against
// `uniqueItems` (ajv's O(n²)) or 29 characters against `^(a|a)*$` held the worker until the supervisor killed it,
// and the innocent component was charged for it.
import type { ValidateFunction } from 'ajv'
import { createAjv } from '../../plugins/core/ajv.ts'
import { problemsOf, type ValidationProblem } from '../../plugins/core/schema-problems.ts'
import { clocked, DeadlineExceeded, nodesUpTo, ValidationClock, vetSchema } from '../../plugins/core/schema-vet.ts'
import { IsletError } from '../errors.ts'

/**
 * How long one check may hold the worker: far above what a linear check of a 1 MiB value takes (tens of ms), far
 * below the supervisor's backup deadline (the call's timeout plus a second), so a check never stalls a worker.
 */
export const GUEST_CHECK_MS = 250
/** Failing values with more nodes than this get their first issue only (listing all costs an object per node). */
const MAX_LISTED_NODES = 10_000

/** One check's outcome. `costly`: the budget ran out (or the value was too deep to walk) before an answer. */
export type GuestCheck =
  | { valid: true; issues?: undefined; costly?: undefined }
  | { valid: false; issues: ValidationProblem[]; costly?: undefined }
  | { valid: false; costly: string; issues?: undefined }

export interface GuestValidator {
  /** Checks `data` (filling defaults into it for a config schema) within GUEST_CHECK_MS; never throws. */
  check(data: unknown): GuestCheck
}

// The worker is single-threaded and checks never nest: one clock serves every guest validator, started per check.
const clock = new ValidationClock(GUEST_CHECK_MS)

// Checking a schema against the draft-07 meta-schema first compiles the meta-schema, ~6 ms per ajv instance: paid by
// every guest schema when each had its own instance. These two only check (what ajv.compile does with validateSchema:
// true, options alike, so useDefaults fills the same meta-schema defaults in); no guest schema is ever added to them.
const metaCheck = {
  plain: createAjv('meta'),
  defaults: createAjv('meta', { useDefaults: true }),
}

/**
 * Compiled validators by schema text: a validator is a pure function of its schema, so a reload with unchanged
 * schemas, or an isolate re-created after a breach, reuses it. Bounded; the oldest entry goes first.
 */
const compiled = new Map<string, GuestValidator>()
const MAX_COMPILED = 256

/** Compiles a guest schema, or undefined when the component declared none. Throws ERR_COMPONENT_LOAD_FAILED. */
export function compileGuestSchema(component: string, where: 'input' | 'output' | 'config', schema: unknown, useDefaults = false): GuestValidator | undefined {
  if (schema === undefined || schema === null) return undefined
  const key = typeof schema === 'object' ? `${useDefaults ? 'd' : 'p'}${JSON.stringify(schema)}` : undefined
  const hit = key === undefined ? undefined : compiled.get(key)
  if (hit) return hit
  const validator = compileFresh(component, where, schema, useDefaults)
  if (key !== undefined) {
    compiled.set(key, validator)
    if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!)
  }
  return validator
}

function compileFresh(component: string, where: 'input' | 'output' | 'config', schema: NonNullable<unknown>, useDefaults: boolean): GuestValidator {
  try {
    if (typeof schema !== 'object' || Array.isArray(schema)) throw new Error(`the ${where} schema is not an object`)
    const [problem] = vetSchema(schema)
    if (problem) {
      const at = [where, ...problem.path].join('.')
      throw new Error(`the ${where} schema is refused at ${at}: ${problem.message}${problem.hint ? ` (${problem.hint})` : ''}`)
    }
    // A schema naming its own $schema is checked by its own instance: a shared one would cache what that names.
    const shared = !('$schema' in schema)
    if (shared) metaCheck[useDefaults ? 'defaults' : 'plain'].validateSchema(schema, true)
    // One ajv per schema: guest $ids must not collide across components or generations.
    const build = (allErrors: boolean): ValidateFunction => {
      const ajv = createAjv('guest', { allErrors, useDefaults, validateSchema: !shared })
      return ajv.compile(clocked(ajv, schema as Record<string, unknown>, clock))
    }
    // `first` stops at the first mismatch (every call runs it); `every` lists them all, built the first time a small
    // value fails.
    const first = build(false)
    let every: ValidateFunction | undefined
    return {
      check(data) {
        const valid = timed(first, data)
        if (valid !== false) return valid === true ? { valid } : { valid: false, costly: valid }
        if (nodesUpTo(data, MAX_LISTED_NODES) > MAX_LISTED_NODES) return { valid: false, issues: problemsOf(first.errors) }
        every ??= build(true)
        return timed(every, data) === false ? { valid: false, issues: problemsOf(every.errors) } : { valid: false, issues: problemsOf(first.errors) }
      },
    }
  } catch (error) {
    throw new IsletError('ERR_COMPONENT_LOAD_FAILED', `component '${component}': ${(error as Error).message}`, { details: { component, schema: where } })
  }
}

/** true, false, or why the check gave up: out of time, or a value nested deeper than the stack (canonical keys recurse). */
function timed(validate: ValidateFunction, data: unknown): boolean | string {
  clock.start()
  try {
    return validate(data) as boolean
  } catch (error) {
    if (error instanceof DeadlineExceeded) return error.message
    if (error instanceof RangeError) return 'the value is nested too deeply to be checked against the schema'
    throw error
  }
}
