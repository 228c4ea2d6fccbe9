// Array and object transforms: map, filter, find, some, every, sortBy (with a lambda), join, slice, flatten, keys,
// values. Each charges what it visits to the evaluation's budget (expression-budget.ts). null and undefined count as
// empty, as the other functions treat absent request fields; any other non-array is an error naming the value.
import { charge, chargeSize, textUnits } from './expression-budget.ts'
import { evalError, isPlainObject, needs, typeName, type BuiltinFunction, type Lambda, type Site } from './expression-values.ts'

/** The array argument, or null when absent; anything else is refused. */
function list(site: Site, name: string, x: unknown): readonly unknown[] | null {
  if (Array.isArray(x)) return x
  if (x === null || x === undefined) return null
  throw needs(site, name, 'an array', x)
}

/** A function whose first argument is an array (checked here) and whose second is a lambda. */
const withLambda = (name: string, doc: string, fn: (site: Site, xs: readonly unknown[] | null, f: Lambda, c: unknown) => unknown,
  max = 2): [string, BuiltinFunction] =>
  [name, { min: 2, max, doc, lambda: 1, fn: (site, a, b, c) => fn(site, list(site, name, a), b as Lambda, c) }]

function map(site: Site, xs: readonly unknown[] | null, f: Lambda): unknown[] {
  if (xs === null) return []
  charge(site, xs.length, 'map()')
  const out = new Array<unknown>(xs.length)
  for (let i = 0; i < xs.length; i++) {
    const result = f(xs[i], i)
    // A lambda result may share data (`x => { line: x, order: body }`): charged at its written-out size.
    if (typeof result === 'object' || typeof result === 'string') chargeSize(site, result, 'map()')
    out[i] = result
  }
  return out
}

function filter(site: Site, xs: readonly unknown[] | null, f: Lambda): unknown[] {
  if (xs === null) return []
  charge(site, xs.length, 'filter()')
  const out: unknown[] = []
  for (let i = 0; i < xs.length; i++) if (f(xs[i], i)) out.push(xs[i])
  return out
}

/** find, some and every stop early, so they charge per element visited. */
function scan(site: Site, name: string, xs: readonly unknown[] | null, f: Lambda, want: boolean): number {
  if (xs === null) return -1
  for (let i = 0; i < xs.length; i++) {
    charge(site, 1, name)
    if (Boolean(f(xs[i], i)) === want) return i
  }
  return -1
}

/**
 * Stable sort by the key a lambda gives each element: keys are all numbers or all strings (compared like `<`);
 * elements whose key is null or undefined go last, in their order. `'desc'` reverses the order of the keys.
 */
function sortBy(site: Site, xs: readonly unknown[] | null, f: Lambda, order: unknown): unknown[] {
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw needs(site, 'sortBy', "'asc' or 'desc' as its third argument", order)
  if (xs === null) return []
  const n = xs.length
  charge(site, n + Math.ceil(n * Math.log2(n + 1)), 'sortBy()')
  const keyed: { key: number | string; index: number }[] = []
  const absent: unknown[] = []
  let kind: 'number' | 'string' | undefined
  for (let i = 0; i < n; i++) {
    const key = f(xs[i], i)
    if (key === null || key === undefined) {
      absent.push(xs[i])
      continue
    }
    if ((typeof key !== 'number' && typeof key !== 'string') || (kind !== undefined && typeof key !== kind)) {
      throw evalError(site, `sortBy() needs keys that are all numbers or all strings, got ${kind ? `${kind}s and ` : ''}${typeName(key)} (element ${i})`,
        { function: 'sortBy', type: typeName(key) })
    }
    kind = typeof key as 'number' | 'string'
    keyed.push({ key, index: i })
  }
  const sign = order === 'desc' ? -1 : 1
  keyed.sort((a, b) => (a.key < b.key ? -sign : a.key > b.key ? sign : 0))
  const out = keyed.map((k) => xs[k.index])
  for (const x of absent) out.push(x)
  return out
}

function join(site: Site, x: unknown, separator: unknown): string {
  const xs = list(site, 'join', x)
  const sep = separator === undefined ? ',' : separator
  if (typeof sep !== 'string') throw needs(site, 'join', 'a string separator', sep)
  if (xs === null) return ''
  charge(site, xs.length, 'join()')
  const parts = new Array<string>(xs.length)
  let chars = 0
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]
    if (typeof v === 'string') parts[i] = v
    else if (typeof v === 'number' || typeof v === 'boolean') parts[i] = String(v)
    else if (v === null || v === undefined) parts[i] = ''
    else throw needs(site, 'join', `text, numbers or booleans (element ${i}; map it to text first, e.g. map(xs, x => json(x)))`, v)
    chars += parts[i]!.length + sep.length
  }
  charge(site, textUnits(chars), 'join()')
  return parts.join(sep)
}

function index(site: Site, at: unknown, what: string): number | undefined {
  if (at === undefined || at === null) return undefined
  if (typeof at !== 'number' || !Number.isInteger(at)) throw needs(site, 'slice', `an integer ${what} (negative counts from the end)`, at)
  return at
}

/** Like JavaScript's slice, for arrays and strings; null stays null. */
function slice(site: Site, x: unknown, start: unknown, end: unknown): unknown {
  const from = index(site, start, 'start') ?? 0
  const to = index(site, end, 'end')
  if (x === null || x === undefined) return x
  if (typeof x === 'string') {
    const out = x.slice(from, to)
    charge(site, textUnits(out.length), 'slice()')
    return out
  }
  if (!Array.isArray(x)) throw needs(site, 'slice', 'an array or a string', x)
  const out = x.slice(from, to)
  charge(site, out.length, 'slice()')
  return out
}

/** One level: `[[1, 2], 3, [4]]` → `[1, 2, 3, 4]`. */
function flatten(site: Site, x: unknown): unknown[] {
  const xs = list(site, 'flatten', x)
  if (xs === null) return []
  charge(site, xs.length, 'flatten()')
  const out: unknown[] = []
  for (const item of xs) {
    if (!Array.isArray(item)) {
      out.push(item)
      continue
    }
    charge(site, item.length, 'flatten()')
    for (const inner of item) out.push(inner)
  }
  return out
}

function entriesOf(site: Site, name: 'keys' | 'values', x: unknown): unknown[] {
  if (x === null || x === undefined) return []
  if (!isPlainObject(x)) throw needs(site, name, 'an object', x)
  const keys = Object.keys(x)
  charge(site, keys.length, `${name}()`)
  return name === 'keys' ? keys : keys.map((k) => x[k])
}

export const ARRAY_FUNCTIONS: readonly [string, BuiltinFunction][] = [
  withLambda('map', 'map(xs, x => …): each element transformed ([] for null); the lambda may take the index too: (x, i) => …',
    (site, xs, f) => map(site, xs, f)),
  withLambda('filter', 'filter(xs, x => …): the elements for which the lambda is truthy', filter),
  withLambda('find', 'find(xs, x => …): the first element for which the lambda is truthy, else null',
    (site, xs, f) => { const i = scan(site, 'find()', xs, f, true); return i < 0 ? null : xs![i] }),
  withLambda('some', 'some(xs, x => …): whether the lambda is truthy for any element', (site, xs, f) => scan(site, 'some()', xs, f, true) >= 0),
  withLambda('every', 'every(xs, x => …): whether the lambda is truthy for every element (true for [])',
    (site, xs, f) => scan(site, 'every()', xs, f, false) < 0),
  withLambda('sortBy', "sortBy(xs, x => key, 'asc' | 'desc'): stable sort by a number or string key; null keys last", sortBy, 3),
  ['join', { min: 1, max: 2, doc: "join(xs, separator = ','): text, numbers and booleans joined; null elements are ''", fn: join }],
  ['slice', { min: 2, max: 3, doc: 'slice(xs, start, end?): part of an array or string; negative positions count from the end', fn: slice }],
  ['flatten', { min: 1, max: 1, doc: 'flatten(xs): arrays inside xs spliced in, one level', fn: flatten }],
  ['keys', { min: 1, max: 1, doc: 'own keys of an object ([] for null)', fn: (site, x) => entriesOf(site, 'keys', x) }],
  ['values', { min: 1, max: 1, doc: 'own values of an object, in key order ([] for null)', fn: (site, x) => entriesOf(site, 'values', x) }],
]
