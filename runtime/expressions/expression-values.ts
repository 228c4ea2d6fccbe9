// How expressions read and print values: null-safe own-property lookup, text conversion, evaluation errors.
import { IsletError } from '../errors.ts'

/** Where in which expression an evaluation error happened; created once per node at compile time. */
export interface Site {
  /** The expression's text, without `${{ }}`. */
  readonly source: string
  /** Offset of the failing operator or call in `source`. */
  readonly offset: number
  /** The work done by the current evaluation of this expression (see expression-budget.ts); shared by its sites. */
  readonly meter: Meter
}

/** Units of work charged during one evaluation of one expression; reset when the evaluation starts. */
export interface Meter {
  used: number
}

/** What a lambda argument (`r => r.id`) becomes when the function runs: called with an element and its index. */
export type Lambda = (item: unknown, index: number) => unknown

/** A built-in function (expression-functions.ts, expression-arrays.ts). */
export interface BuiltinFunction {
  readonly min: number
  readonly max: number
  /** One line for the README and editor completion. */
  readonly doc: string
  /** The position of the argument that must be a lambda (map, filter, …); no other argument may be one. */
  readonly lambda?: number
  /** Every built-in takes at most three arguments, passed positionally so a call allocates nothing. */
  readonly fn: (site: Site, a: unknown, b: unknown, c: unknown) => unknown
}

/** Names that lead to prototypes and constructors: never readable, never usable as object keys. */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

export function evalError(site: Site, message: string, details: Record<string, unknown> = {}): IsletError {
  return new IsletError('ERR_EXPRESSION_EVAL', `${message} in \${{ ${site.source} }}`,
    { details: { expression: site.source, offset: site.offset, ...details } })
}

const PREVIEW = 60

/**
 * How an error message shows a value it got: text quoted, anything else as its type and its JSON, cut to about 60
 * characters. Built piece by piece and stopped at the cut, so a huge value costs no more than a small one.
 */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)'
  if (value === null) return 'null'
  if (typeof value === 'string') return `${JSON.stringify(value.slice(0, PREVIEW))}${value.length > PREVIEW ? '…' : ''}`
  const out: string[] = []
  let length = 0
  const put = (piece: string): boolean => {
    out.push(piece)
    length += piece.length
    return length < PREVIEW
  }
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') return put(JSON.stringify(v.length > PREVIEW ? v.slice(0, PREVIEW) : v))
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return put(String(v))
    if (Array.isArray(v)) {
      if (!put('[')) return false
      for (let i = 0; i < v.length; i++) if ((i > 0 && !put(',')) || !walk(v[i])) return false
      return put(']')
    }
    if (isPlainObject(v)) {
      if (!put('{')) return false
      let first = true
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue
        if ((!first && !put(',')) || !put(`${JSON.stringify(key.slice(0, PREVIEW))}:`) || !walk(v[key])) return false
        first = false
      }
      return put('}')
    }
    return put(`<${typeName(v)}>`)
  }
  walk(value)
  const text = out.join('')
  const cut = text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text
  return `${typeName(value)} ${cut}`
}

/** `null`, `array`, or the `typeof`; what error messages call a value's type. */
export function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

/**
 * Plain data objects: those whose prototype is a root of the prototype chain. That is Object.prototype (JSON.parse,
 * literals), null (`Object.create(null)`), or an empty null-prototype object, the fast "null object" pattern that
 * find-my-way route params and Node's parsed query strings use. Class instances, Maps and the like are opaque.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null
}

/**
 * `target[key]` as expressions see it: own properties of plain objects and arrays, `length` of strings and arrays,
 * and undefined for everything else (a missing member, a member of null, an inherited or forbidden name). Request
 * data is ragged, so a missing member is never an error; it can never reach a prototype, a getter or a function of
 * the object's class.
 */
export function member(target: unknown, key: unknown): unknown {
  if (typeof target === 'string') return key === 'length' ? target.length : undefined
  if (target === null || typeof target !== 'object') return undefined
  if (Array.isArray(target)) {
    if (typeof key === 'number') return Number.isInteger(key) && key >= 0 && key < target.length ? target[key] : undefined
    if (key === 'length') return target.length
    return typeof key === 'string' && Object.hasOwn(target, key) && !FORBIDDEN_NAMES.has(key) ? target[key as never] : undefined
  }
  const name = typeof key === 'string' ? key : typeof key === 'number' ? String(key) : undefined
  if (name === undefined || FORBIDDEN_NAMES.has(name) || !isPlainObject(target) || !Object.hasOwn(target, name)) return undefined
  return target[name]
}

/** Text of a value for interpolation and `+`: null and undefined are empty, objects and arrays are JSON. */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value) ?? ''
  return String(value)
}

/** A finite number from a number, numeric string or boolean; null when there is none (never NaN). */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value !== 'string' || value.trim() === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** A function's refusal of an argument: which function, what it needs, and what it got (shown, cut). */
export function needs(site: Site, name: string, what: string, value: unknown): IsletError {
  return evalError(site, `${name}() needs ${what}, got ${shown(value)}`, { function: name, type: typeName(value), value: shown(value) })
}
