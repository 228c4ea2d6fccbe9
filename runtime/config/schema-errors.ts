// Turns ajv errors into findings a person can act on: what is wrong, where, and how to fix it, without anyOf noise.
import type { ErrorObject } from 'ajv'
import type { ErrorCode } from '../errors.ts'
import type { Diagnostic } from './diagnostics.ts'
import { isScalar } from 'yaml'
import { diagnosticAt, nodeAt, type PathSegment } from './locate.ts'
import type { ParsedFile } from './parse.ts'
import { didYouMean } from '../suggest.ts'
import { pointerPath } from './validate.ts'

/** One schema problem, located by path segments relative to the validated value. */
export interface Finding {
  path: string[]
  /** Point at the key rather than the value (unknown and invalid keys). */
  isKey?: boolean
  code: ErrorCode
  message: string
  hint?: string
}

type Schema = Record<string, unknown>

/** Readable, de-duplicated findings for one validation's errors. */
export function explain(errors: readonly ErrorObject[]): Finding[] {
  // `if` only says "must match then", `propertyNames` only "property name must be valid": the details follow anyway.
  const useful = errors.filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames')
  const seen = new Set<string>()
  return collapse(useful).filter((f) => {
    const id = `${f.path.join('/')}\0${f.message}`
    return seen.has(id) ? false : (seen.add(id), true)
  })
}

const isAlternatives = (e: ErrorObject) =>
  e.keyword === 'anyOf' || (e.keyword === 'oneOf' && e.params.passingSchemas == null)

/** ajv reports an anyOf's branch errors just before the anyOf error itself; walk backwards to fold them in. */
function collapse(errors: readonly ErrorObject[]): Finding[] {
  const out: Finding[][] = []
  for (let i = errors.length - 1; i >= 0; i--) {
    const e = errors[i]!
    if (!isAlternatives(e)) { out.unshift([finding(e)]); continue }
    let j = i
    while (j > 0 && branchOf(errors[j - 1]!, e) !== undefined) j--
    out.unshift(alternatives(e, errors.slice(j, i)))
    i = j
  }
  return out.flat()
}

/** Which branch of alternatives error `alt` the error `e` came from, or undefined when it is not one of them. */
function branchOf(e: ErrorObject, alt: ErrorObject): number | undefined {
  if (e.instancePath !== alt.instancePath && !e.instancePath.startsWith(`${alt.instancePath}/`)) return undefined
  if (e.schemaPath.startsWith(`${alt.schemaPath}/`)) return Number(e.schemaPath.slice(alt.schemaPath.length + 1).split('/')[0])
  // Errors inside a `$ref`'d branch carry the referenced schema's path instead.
  const branches = Array.isArray(alt.schema) ? alt.schema as Schema[] : []
  const i = branches.findIndex((b) => typeof b?.$ref === 'string' && e.schemaPath.startsWith(`${b.$ref}/`))
  return i < 0 ? undefined : i
}

/** The path an error is really about: the key for required / unknown keys, the value otherwise. */
function subject(e: ErrorObject): string {
  const key = e.params.missingProperty ?? e.params.additionalProperty ?? e.propertyName
  return key === undefined ? e.instancePath : `${e.instancePath}/${key}`
}

/**
 * A branch whose errors all lie below the alternatives' own value matched its shape: report just that one (the
 * fewest errors, preferring branches whose discriminating const/enum held). Otherwise say what would be accepted.
 */
function alternatives(alt: ErrorObject, branchErrors: ErrorObject[]): Finding[] {
  const groups = new Map<number, ErrorObject[]>()
  for (const e of branchErrors) {
    const i = branchOf(e, alt)!
    groups.set(i, [...(groups.get(i) ?? []), e])
  }
  const below = `${alt.instancePath}/`
  const score = (g: ErrorObject[]) => g.length + (g.some((e) => e.keyword === 'const' || e.keyword === 'enum') ? 1e6 : 0)
  const matched = [...groups.values()].filter((g) => g.every((e) => subject(e).startsWith(below)))
    .sort((a, b) => score(a) - score(b))
  if (matched.length) return collapse(matched[0]!)
  const branches = Array.isArray(alt.schema) ? alt.schema as Schema[] : []
  const accepted = [...new Set(branches.map(describe))]
  return [{ path: pointerPath(alt.instancePath), code: 'ERR_CONFIG_SCHEMA',
    message: `must be ${accepted.join(' or ')}, got ${got(alt.data)}` }]
}

/** What one alternative accepts, in a few words. */
function describe(schema: Schema | boolean, index: number): string {
  if (schema === true) return 'anything'
  if (schema === false) return 'nothing'
  if ('const' in schema) return JSON.stringify(schema.const)
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`
  if (typeof schema.description === 'string') return schema.description
  if (typeof schema.$ref === 'string') return `a ${schema.$ref.split('/').pop()}`
  if (schema.type === undefined) return `alternative ${index + 1}`
  const type = [schema.type].flat().join(' or ')
  const { minimum: min, maximum: max, format } = schema
  if (min !== undefined && max !== undefined) return `${type} from ${min} to ${max}`
  if (min !== undefined) return `${type} >= ${min}`
  if (max !== undefined) return `${type} <= ${max}`
  return format ? `${type} in ${format} format` : type
}

function finding(e: ErrorObject): Finding {
  const path = pointerPath(e.instancePath)
  const parent = (e.parentSchema ?? {}) as Schema
  const p = e.params
  const base = { path, code: 'ERR_CONFIG_SCHEMA' as ErrorCode }
  if (e.propertyName !== undefined) {
    return { ...base, path: [...path, e.propertyName], isKey: true,
      message: `invalid key '${e.propertyName}': ${finding({ ...e, propertyName: undefined }).message.replace(/, got .*$/, '')}`,
      ...(typeof parent.description === 'string' ? { hint: parent.description } : {}) }
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((parent.properties ?? {}) as Schema)
      const mean = didYouMean(p.additionalProperty, allowed)
      const list = allowed.length ? `allowed keys: ${allowed.join(', ')}` : 'no keys are allowed here'
      return { ...base, path: [...path, p.additionalProperty], isKey: true, code: 'ERR_CONFIG_UNKNOWN_KEY',
        message: `unknown key '${p.additionalProperty}'`, hint: mean ? `${mean} ${list}` : list }
    }
    case 'required': {
      const described = ((parent.properties ?? {}) as Record<string, Schema>)[p.missingProperty]?.description
      return { ...base, message: `missing required key '${p.missingProperty}'`,
        ...(typeof described === 'string' ? { hint: `${p.missingProperty}: ${described}` } : {}) }
    }
    case 'type':
      return { ...base, message: `must be ${String(p.type).replace(/,/g, ' or ')}, got ${got(e.data)}` }
    case 'enum': {
      const mean = typeof e.data === 'string' ? didYouMean(e.data, (p.allowedValues as unknown[]).map(String)) : undefined
      return { ...base, message: `must be one of: ${(p.allowedValues as unknown[]).map(show).join(', ')}; got ${got(e.data)}`,
        ...(mean ? { hint: mean } : {}) }
    }
    case 'const':
      return { ...base, message: `must be ${show(p.allowedValue)}, got ${got(e.data)}` }
    case 'pattern':
    case 'format':
      return { ...base, message: `${e.keyword === 'pattern' ? `must match the pattern ${p.pattern}` : `must be a valid ${p.format}`}, got ${got(e.data)}`,
        ...(typeof parent.description === 'string' ? { hint: parent.description } : {}) }
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return { ...base, message: `must be ${p.comparison} ${p.limit}, got ${show(e.data)}` }
    case 'minLength':
      return { ...base, message: p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long` }
    case 'maxLength':
      return { ...base, message: `must be at most ${p.limit} characters long, got ${(e.data as string).length}` }
    case 'minItems':
      return { ...base, message: `must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}` }
    case 'uniqueItems':
      return { ...base, message: `must not repeat items (items ${p.j} and ${p.i} are equal)` }
    case 'false schema':
      return { ...base, isKey: path.length > 0, message: `'${path.at(-1) ?? 'value'}' is not allowed here` }
    case 'oneOf':
      return { ...base, message: 'matches more than one of the allowed forms; it must match exactly one' }
    default:
      return { ...base, message: e.message ?? `fails '${e.keyword}'` }
  }
}

const MAX_SHOWN = 40

/** A value as it would be written, shortened. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text
}

/** What a value is, for "got …": `string "abc"`, `number 5`, `an array`. */
export function got(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value)}`
  return `${typeof value} ${String(value)}`
}

/** Diagnostics for ajv errors of a value found at `base` in a parsed file. */
export function schemaDiagnostics(parsed: ParsedFile, base: readonly PathSegment[], errors: readonly ErrorObject[]):
  Diagnostic[] {
  return explain(errors).map((f) => {
    const path = [...base, ...f.path]
    const hint = f.hint ?? (/^must be .*\b(integer|number|boolean)\b.*, got string /.test(f.message) ? quotedReference(parsed, path) : undefined)
    return diagnosticAt(parsed, path, f.code, f.message, hint, { key: f.isKey })
  })
}

/**
 * A string where a number or boolean belongs is, most often, `'${PORT:-8080}'` written in quotes: interpolation keeps
 * a quoted value a string (by design: quotes are how one asks for text), which the bare type error does not say.
 */
function quotedReference(parsed: ParsedFile, path: readonly PathSegment[]): string | undefined {
  const { node, exact } = nodeAt(parsed, path)
  if (!exact || !isScalar(node) || (node.type !== 'QUOTE_DOUBLE' && node.type !== 'QUOTE_SINGLE') || !node.range) return undefined
  const written = parsed.text.slice(node.range[0] + 1, node.range[1]).replace(/['"]\s*$/, '')
  if (!/\$\{(?!\{)/.test(written)) return undefined
  const key = typeof path.at(-1) === 'string' ? `${String(path.at(-1))}: ` : ''
  return `quotes keep ${written} a string: write ${key}${written} without them (inside { }, on a line of its own)`
}
