// The functions runtime expressions may call: a fixed whitelist, each pure apart from now() and uuid().
import { randomUUID } from 'node:crypto'
import { evalError, isPlainObject, toNumber, toText, typeName, type Site } from './expression-values.ts'

export interface ExpressionFunction {
  readonly min: number
  readonly max: number
  /** One line for the README and editor completion. */
  readonly doc: string
  /** Every function takes at most two arguments, passed positionally so a call allocates nothing. */
  readonly fn: (site: Site, a: unknown, b: unknown) => unknown
}

const needs = (site: Site, name: string, what: string, value: unknown) =>
  evalError(site, `${name}() needs ${what}, got ${typeName(value)}`, { function: name, type: typeName(value) })

// String functions let null and undefined through: optional text fields are the norm in request data.
const text = (name: string, doc: string, apply: (s: string) => string): ExpressionFunction => ({
  min: 1, max: 1, doc,
  fn: (site, x) => (typeof x === 'string' ? apply(x) : x === null || x === undefined ? x : fail(needs(site, name, 'a string', x))),
})

function fail(error: Error): never {
  throw error
}

function round(site: Site, x: unknown, digits: unknown): number {
  if (typeof x !== 'number') throw needs(site, 'round', 'a number', x)
  const d = digits === undefined ? 0 : digits
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 15) {
    throw evalError(site, `round() needs 0 to 15 digits, got ${typeof d === 'number' ? d : typeName(d)}`, { function: 'round' })
  }
  // Half away from zero, through the decimal exponent so 1.005 rounds to 1.01 rather than 1.
  if (!Number.isFinite(x) || Math.abs(x) >= 1e15) return x
  const sign = x < 0 ? -1 : 1
  return sign * Number(`${Math.round(Number(`${Math.abs(x)}e${d}`))}e-${d}`)
}

export const FUNCTIONS: ReadonlyMap<string, ExpressionFunction> = new Map<string, ExpressionFunction>([
  ['now', { min: 0, max: 0, doc: 'the current time as an ISO 8601 string', fn: () => new Date().toISOString() }],
  ['uuid', { min: 0, max: 0, doc: 'a random UUID v4', fn: () => randomUUID() }],
  ['length', {
    min: 1, max: 1, doc: 'length of a string or array, key count of an object, 0 for null',
    fn: (site, x) => typeof x === 'string' || Array.isArray(x) ? x.length : x === null || x === undefined ? 0
      : isPlainObject(x) ? Object.keys(x).length : fail(needs(site, 'length', 'a string, array or object', x)),
  }],
  ['lower', text('lower', 'lower-cased string (null stays null)', (s) => s.toLowerCase())],
  ['upper', text('upper', 'upper-cased string (null stays null)', (s) => s.toUpperCase())],
  ['trim', text('trim', 'string without surrounding whitespace (null stays null)', (s) => s.trim())],
  ['number', { min: 1, max: 1, doc: 'a number from a number, numeric string or boolean; null when not numeric', fn: (_, x) => toNumber(x) }],
  ['int', {
    min: 1, max: 1, doc: 'number(x) truncated to an integer; null when not numeric',
    fn: (_, x) => { const n = toNumber(x); return n === null ? null : Math.trunc(n) },
  }],
  ['string', { min: 1, max: 1, doc: "text of a value: '' for null, JSON for objects", fn: (_, x) => toText(x) }],
  ['round', { min: 1, max: 2, doc: 'round(x, digits = 0), half away from zero', fn: round }],
  ['json', { min: 1, max: 1, doc: 'JSON text of a value', fn: (_, x) => JSON.stringify(x) ?? 'null' }],
  ['parseJson', {
    min: 1, max: 1, doc: 'the value JSON text encodes (null stays null)',
    fn: (site, x) => {
      if (x === null || x === undefined) return x
      if (typeof x !== 'string') throw needs(site, 'parseJson', 'a string', x)
      try {
        return JSON.parse(x)
      } catch {
        throw evalError(site, 'parseJson() got text that is not JSON', { function: 'parseJson' })
      }
    },
  }],
  ['default', { min: 2, max: 2, doc: 'x unless it is null or undefined, else y', fn: (_, x, y) => x ?? y }],
  ['keys', {
    min: 1, max: 1, doc: 'own keys of an object ([] for null)',
    fn: (site, x) => isPlainObject(x) ? Object.keys(x) : x === null || x === undefined ? [] : fail(needs(site, 'keys', 'an object', x)),
  }],
  ['contains', {
    min: 2, max: 2, doc: 'whether a string contains a substring or an array an element (false for null)',
    fn: (site, haystack, needle) => {
      if (Array.isArray(haystack)) return haystack.includes(needle)
      if (haystack === null || haystack === undefined) return false
      if (typeof haystack !== 'string') throw needs(site, 'contains', 'a string or array', haystack)
      if (typeof needle !== 'string') throw needs(site, 'contains', 'a string to look for in a string', needle)
      return haystack.includes(needle)
    },
  }],
  ['sum', {
    min: 1, max: 1, doc: 'sum of an array of numbers (0 for null)',
    fn: (site, x) => {
      if (x === null || x === undefined) return 0
      if (!Array.isArray(x)) throw needs(site, 'sum', 'an array of numbers', x)
      let total = 0
      for (const n of x) {
        if (typeof n !== 'number') throw evalError(site, `sum() needs numbers, got an element of type ${typeName(n)}`, { function: 'sum', type: typeName(n) })
        total += n
      }
      return total
    },
  }],
])

/** Names people reach for from JavaScript or SQL, and the function that does it here. */
export const FUNCTION_ALIASES: ReadonlyMap<string, string> = new Map([
  ['uppercase', 'upper'], ['toUpperCase', 'upper'], ['lowercase', 'lower'], ['toLowerCase', 'lower'],
  ['len', 'length'], ['count', 'length'], ['stringify', 'json'], ['parse', 'parseJson'], ['includes', 'contains'],
  ['parseInt', 'int'], ['parseFloat', 'number'], ['toString', 'string'], ['coalesce', 'default'], ['toFixed', 'round'],
  ['indexOf', 'contains'], ['trimStart', 'trim'], ['trimEnd', 'trim'],
])
