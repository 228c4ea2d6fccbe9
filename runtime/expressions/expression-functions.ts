// The built-in functions runtime expressions may call: a fixed list, each pure apart from now() and uuid(). A bad
// argument is never answered with a silent null: it is ERR_EXPRESSION_EVAL naming the function and the value.
import { randomUUID } from 'node:crypto'
import { ARRAY_FUNCTIONS } from './expression-arrays.ts'
import { charge, textUnits } from './expression-budget.ts'
import { evalError, isPlainObject, needs, toText, typeName, type BuiltinFunction, type Site } from './expression-values.ts'
import { jsonNestsDeeper } from '../../plugins/core/json-depth.ts'

// String functions let null and undefined through: optional text fields are the norm in request data.
const text = (name: string, doc: string, apply: (s: string) => string): BuiltinFunction => ({
  min: 1, max: 1, doc,
  fn: (site, x) => {
    if (x === null || x === undefined) return x
    if (typeof x !== 'string') throw needs(site, name, 'a string', x)
    // Charged by the text's length: called per element of a large array on a large field, it is most of the work.
    charge(site, textUnits(x.length), `${name}()`)
    return apply(x)
  },
})

/**
 * A finite number from a number, numeric text (surrounding spaces allowed) or a boolean; null and undefined stay as
 * null (an absent field is not a bad one). Anything else, `''` included, is refused.
 */
function numeric(site: Site, name: string, x: unknown): number | null {
  if (typeof x === 'number' && Number.isFinite(x)) return x
  if (typeof x === 'boolean') return x ? 1 : 0
  if (x === null || x === undefined) return null
  if (typeof x === 'string' && x.trim() !== '') {
    charge(site, textUnits(x.length), `${name}()`)
    const n = Number(x)
    if (Number.isFinite(n)) return n
  }
  throw needs(site, name, 'a number, numeric text or a boolean', x)
}

function round(site: Site, x: unknown, digits: unknown): number {
  if (typeof x !== 'number') throw needs(site, 'round', 'a number', x)
  const d = digits === undefined ? 0 : digits
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 15) throw needs(site, 'round', '0 to 15 digits', d)
  // An integer is its own rounding: no text round trip (this is `round(total, 2)` on most requests of a pricing app).
  // (+ 0: -0 comes back as 0, as it did through the text.)
  if (Number.isInteger(x)) return x + 0
  if (!Number.isFinite(x) || Math.abs(x) >= 1e15) return x
  // Half away from zero, through the decimal exponent so 1.005 rounds to 1.01 rather than 1. The shortest digits come
  // from toExponential(): plain `${x}` prints below 1e-6 with an exponent already ('5e-7'), and 'e2' appended to that
  // made NaN.
  const text = Math.abs(x).toExponential()
  const e = text.indexOf('e')
  const scaled = Math.round(Number(`${text.slice(0, e)}e${Number(text.slice(e + 1)) + d}`))
  // From 1e21 on a number prints with an exponent too ('1e+21'); a value that large once scaled has no more than d
  // decimals (doubles carry 17 significant digits), so it is already rounded.
  if (scaled >= 1e21) return x
  const sign = x < 0 ? -1 : 1
  return sign * Number(`${scaled}e-${d}`)
}

function json(site: Site, x: unknown): string {
  let out: string | undefined
  try {
    out = JSON.stringify(x)
  } catch (error) {
    // A BigInt or a cycle: neither comes from JSON, but a step's output could hold one.
    throw evalError(site, `json() cannot encode ${typeName(x)}: ${(error as Error).message}`, { function: 'json' })
  }
  charge(site, textUnits(out?.length ?? 4), 'json()')
  return out ?? 'null'
}

/**
 * As deep as the HTTP server lets a JSON body nest (plugins/http/body.ts): a string field holds any nesting, and a
 * value 200 000 levels deep overflows the stack of whatever walks it next (a component's input, string(), a response).
 */
const MAX_PARSED_DEPTH = 256


function parseJson(site: Site, x: unknown): unknown {
  if (x === null || x === undefined) return x
  if (typeof x !== 'string') throw needs(site, 'parseJson', 'JSON text', x)
  charge(site, textUnits(x.length), 'parseJson()')
  if (jsonNestsDeeper(x, MAX_PARSED_DEPTH)) {
    throw evalError(site, `parseJson() got text nesting arrays and objects deeper than ${MAX_PARSED_DEPTH} levels, as a request body may not either`,
      { function: 'parseJson', maxDepth: MAX_PARSED_DEPTH })
  }
  try {
    return JSON.parse(x)
  } catch (error) {
    throw evalError(site, `parseJson() got text that is not JSON (${(error as Error).message}): ${JSON.stringify(x.length > 60 ? `${x.slice(0, 60)}…` : x)}`,
      { function: 'parseJson', value: x.slice(0, 60) })
  }
}

function stringOf(site: Site, x: unknown): string {
  const out = toText(x)
  if (typeof x === 'object' && x !== null) charge(site, textUnits(out.length), 'string()')
  return out
}

export const FUNCTIONS: ReadonlyMap<string, BuiltinFunction> = new Map<string, BuiltinFunction>([
  ['now', { min: 0, max: 0, doc: 'the current time as an ISO 8601 string', fn: () => new Date().toISOString() }],
  ['uuid', { min: 0, max: 0, doc: 'a random UUID v4', fn: () => randomUUID() }],
  ['length', {
    min: 1, max: 1, doc: 'length of a string or array, key count of an object, 0 for null',
    fn: (site, x) => {
      if (typeof x === 'string' || Array.isArray(x)) return x.length
      if (x === null || x === undefined) return 0
      if (!isPlainObject(x)) throw needs(site, 'length', 'a string, array or object', x)
      const n = Object.keys(x).length
      charge(site, n, 'length()')
      return n
    },
  }],
  ['lower', text('lower', 'lower-cased string (null stays null)', (s) => s.toLowerCase())],
  ['upper', text('upper', 'upper-cased string (null stays null)', (s) => s.toUpperCase())],
  ['trim', text('trim', 'string without surrounding whitespace (null stays null)', (s) => s.trim())],
  ['number', {
    min: 1, max: 1, doc: 'a number from a number, numeric text or boolean (null stays null); anything else is an error',
    fn: (site, x) => numeric(site, 'number', x),
  }],
  ['int', {
    min: 1, max: 1, doc: 'number(x) truncated to an integer (null stays null); anything else is an error',
    fn: (site, x) => { const n = numeric(site, 'int', x); return typeof n === 'number' ? Math.trunc(n) : n },
  }],
  ['string', { min: 1, max: 1, doc: "text of a value: '' for null, JSON for objects", fn: stringOf }],
  ['round', { min: 1, max: 2, doc: 'round(x, digits = 0), half away from zero', fn: round }],
  ['json', { min: 1, max: 1, doc: 'JSON text of a value', fn: json }],
  ['parseJson', { min: 1, max: 1, doc: 'the value JSON text encodes (null stays null); text that is not JSON is an error', fn: parseJson }],
  ['default', { min: 2, max: 2, doc: 'x unless it is null or undefined, else y', fn: (_, x, y) => x ?? y }],
  ['contains', {
    min: 2, max: 2, doc: 'whether a string contains a substring or an array an element (false for null)',
    fn: (site, haystack, needle) => {
      if (Array.isArray(haystack)) {
        charge(site, haystack.length, 'contains()')
        return haystack.includes(needle)
      }
      if (haystack === null || haystack === undefined) return false
      if (typeof haystack !== 'string') throw needs(site, 'contains', 'a string or array', haystack)
      if (typeof needle !== 'string') throw needs(site, 'contains', 'a string to look for in a string', needle)
      charge(site, textUnits(haystack.length), 'contains()')
      return haystack.includes(needle)
    },
  }],
  ['sum', {
    min: 1, max: 1, doc: 'sum of an array of numbers (0 for null)',
    fn: (site, x) => {
      if (x === null || x === undefined) return 0
      if (!Array.isArray(x)) throw needs(site, 'sum', 'an array of numbers', x)
      charge(site, x.length, 'sum()')
      let total = 0
      for (let i = 0; i < x.length; i++) {
        const n = x[i]
        if (typeof n !== 'number') throw needs(site, 'sum', `numbers (element ${i})`, n)
        total += n
      }
      return total
    },
  }],
  ...ARRAY_FUNCTIONS,
])

/** Names people reach for from JavaScript or SQL, and the function that does it here. */
export const FUNCTION_ALIASES: ReadonlyMap<string, string> = new Map([
  ['uppercase', 'upper'], ['toUpperCase', 'upper'], ['lowercase', 'lower'], ['toLowerCase', 'lower'],
  ['len', 'length'], ['count', 'length'], ['stringify', 'json'], ['parse', 'parseJson'], ['includes', 'contains'],
  ['parseInt', 'int'], ['parseFloat', 'number'], ['toString', 'string'], ['coalesce', 'default'], ['toFixed', 'round'],
  ['indexOf', 'contains'], ['trimStart', 'trim'], ['trimEnd', 'trim'], ['sort', 'sortBy'], ['orderBy', 'sortBy'],
  ['flat', 'flatten'], ['any', 'some'], ['all', 'every'], ['select', 'map'], ['where', 'filter'], ['substring', 'slice'],
  ['substr', 'slice'],
])
