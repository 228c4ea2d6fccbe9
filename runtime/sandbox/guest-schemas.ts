// Validators for a component's own input, output and config schemas, run in the sandbox WORKER (never in the engine:
// ajv cannot be interrupted, and a crafted schema can take exponential time; a stuck worker is killed by the
// supervisor's backup deadline). They are also vetted first: size, depth, and regular expressions that could
// backtrack catastrophically on request data.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import safeRegex from 'safe-regex2'
import { IsletError } from '../errors.ts'

const MAX_SCHEMA_BYTES = 65_536
const MAX_DEPTH = 32

export interface ValidationIssue {
  path: string
  message: string
}

function vet(schema: unknown, where: string): void {
  if (Buffer.byteLength(JSON.stringify(schema)) > MAX_SCHEMA_BYTES) throw new Error(`the ${where} schema is larger than ${MAX_SCHEMA_BYTES} bytes`)
  const walk = (node: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) throw new Error(`the ${where} schema nests deeper than ${MAX_DEPTH} levels`)
    if (Array.isArray(node)) return node.forEach((n) => walk(n, depth + 1))
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      const patterns = key === 'pattern' ? [value] : key === 'patternProperties' && value && typeof value === 'object' ? Object.keys(value) : []
      for (const p of patterns) {
        if (typeof p !== 'string' || !safeRegex(p)) {
          throw new Error(`the ${where} schema has a pattern that could backtrack catastrophically: ${String(p).slice(0, 80)}`)
        }
      }
      walk(value, depth + 1)
    }
  }
  walk(schema, 0)
}

// Checking a schema against the draft-07 meta-schema first compiles the meta-schema, ~6 ms per ajv instance: paid by
// every guest schema when each had its own instance. These two only check (what ajv.compile does with validateSchema:
// true, options alike, so useDefaults fills the same meta-schema defaults in); no guest schema is ever added to them.
const metaCheck = {
  plain: new Ajv({ allErrors: true, strict: false }),
  defaults: new Ajv({ allErrors: true, strict: false, useDefaults: true }),
}

/** Compiles a guest schema, or undefined when the component declared none. Throws ERR_COMPONENT_LOAD_FAILED. */
/**
 * Compiled validators by schema text: a validator is a pure function of its schema, so a reload with unchanged
 * schemas, or an isolate re-created after a breach, reuses it. Bounded; the oldest entry goes first.
 */
const compiled = new Map<string, ValidateFunction>()
const MAX_COMPILED = 256

export function compileGuestSchema(component: string, where: 'input' | 'output' | 'config', schema: unknown, useDefaults = false): ValidateFunction | undefined {
  if (schema === undefined || schema === null) return undefined
  const key = typeof schema === 'object' ? `${useDefaults ? 'd' : 'p'}${JSON.stringify(schema)}` : undefined
  const hit = key === undefined ? undefined : compiled.get(key)
  if (hit) return hit
  const validate = compileFresh(component, where, schema, useDefaults)
  if (key !== undefined) {
    compiled.set(key, validate)
    if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!)
  }
  return validate
}

function compileFresh(component: string, where: 'input' | 'output' | 'config', schema: NonNullable<unknown>, useDefaults: boolean): ValidateFunction {
  try {
    if (typeof schema !== 'object' || Array.isArray(schema)) throw new Error(`the ${where} schema is not an object`)
    vet(schema, where)
    // A schema naming its own $schema is checked by its own instance: a shared one would cache what that names.
    const shared = !('$schema' in schema)
    if (shared) metaCheck[useDefaults ? 'defaults' : 'plain'].validateSchema(schema, true)
    // One ajv per schema: guest $ids must not collide across components or generations.
    const ajv = new Ajv({ allErrors: true, strict: false, useDefaults, validateSchema: !shared })
    addFormats.default(ajv)
    return ajv.compile(schema)
  } catch (error) {
    throw new IsletError('ERR_COMPONENT_LOAD_FAILED', `component '${component}': ${(error as Error).message}`, { details: { component, schema: where } })
  }
}

export function issues(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).slice(0, 20).map((e) => ({
    path: e.keyword === 'required' ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}` : e.instancePath || '/',
    message: e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties'
      ? `has unexpected property '${(e.params as { additionalProperty: string }).additionalProperty}'` : e.message ?? 'is invalid',
  }))
}
