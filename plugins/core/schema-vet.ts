// JSON Schemas the engine evaluates on its own event loop (the `validate` step) against request data: vetted when
// the config loads, and evaluated with linear-time parts only. ajv's own pieces are superlinear in several places a
// hostile body can reach: `pattern`/`patternProperties` on a backtracking engine (exponential on 27 characters),
// `uniqueItems` over objects (a pairwise deep comparison, O(n²)), `enum` (every value compared with every allowed
// one, O(n·m)), and several ajv-formats regexes that are quadratic on long strings (date-time, iso-date-time, email,
// uri-reference, regex). Here they are replaced by: patterns on RE2 (re2js, linear in the input), uniqueness and
// enum membership through a canonical key in a Set, and formats refused above a length no valid value reaches.
// Lives in plugins/ (not runtime/) so both the core plugin and the runtime's sandbox can use it: runtime depends on
// plugins, never the reverse.
import { createRequire } from 'node:module'
import type { Ajv, KeywordCxt } from 'ajv'
import type { RegExpEngine } from 'ajv/dist/types/index.js'
import { RE2JS } from 're2js'
import { isRecord } from '@islet/sdk'

/**
 * ajv's code builders, required when an Ajv is being extended (it is loaded by then, see ajv.ts): vetting a schema,
 * which the config loader does, needs only re2js.
 */
function codegen(): Pick<typeof import('ajv'), '_' | 'str'> {
  return createRequire(import.meta.url)('ajv') as typeof import('ajv')
}

export const MAX_SCHEMA_BYTES = 65_536
export const MAX_SCHEMA_DEPTH = 32

/** One reason a schema is refused: where inside it (property names and indexes), what, and how to fix it. */
export interface SchemaProblem {
  path: (string | number)[]
  /** The problem is the property name at `path` (a patternProperties key), not its value. */
  key?: boolean
  message: string
  hint?: string
}

/** Keywords whose value is data, not schema: a `pattern` inside an `enum` value is just a string. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples'])

/**
 * Every reason `schema` cannot be evaluated in bounded time per byte of data: too large, too deep, or a pattern the
 * linear-time engine cannot run (lookaround, backreferences). Empty when it can.
 */
export function vetSchema(schema: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = []
  const bytes = new TextEncoder().encode(JSON.stringify(schema) ?? '').length
  if (bytes > MAX_SCHEMA_BYTES) {
    problems.push({ path: [], message: `the schema is ${bytes} bytes, more than the ${MAX_SCHEMA_BYTES} allowed`,
      hint: 'split the check into several validate steps, or validate in a component' })
    return problems
  }
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (path.length > MAX_SCHEMA_DEPTH) {
      problems.push({ path, message: `the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`, hint: 'flatten it with $defs and $ref' })
      return
    }
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, [...path, i]))
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (DATA_KEYWORDS.has(key)) continue
      if (key === 'pattern' && typeof value === 'string') {
        const problem = patternProblem(value)
        if (problem) problems.push({ path: [...path, key], ...problem })
      }
      if (key === 'patternProperties' && isRecord(value)) {
        for (const p of Object.keys(value)) {
          const problem = patternProblem(p)
          if (problem) problems.push({ path: [...path, key, p], key: true, ...problem })
        }
      }
      walk(value, [...path, key])
    }
  }
  walk(schema, [])
  return problems
}

function patternProblem(pattern: string): Omit<SchemaProblem, 'path'> | undefined {
  try {
    compileLinear(pattern)
    return undefined
  } catch (error) {
    return {
      message: `pattern '${pattern.slice(0, 80)}' cannot run on the linear-time regular expression engine (RE2): ${(error as Error).message}`,
      hint: 'patterns run on RE2 so no input can make them backtrack; rewrite it without lookahead, lookbehind or backreferences',
    }
  }
}

function compileLinear(pattern: string): RE2JS {
  return RE2JS.compile(RE2JS.translateRegExp(pattern))
}

/**
 * ajv's `code.regExp` option: every `pattern`, `patternProperties` key and `propertyNames` pattern runs on RE2, in
 * time linear in the string (ECMAScript's engine backtracks: `^([A-Za-z]+ ?)*$` took 3.7 s on 27 characters).
 */
export const linearRegExp: RegExpEngine = Object.assign((pattern: string, flags: string) => {
  const re = compileLinear(pattern)
  return {
    // `test` searches without tracking submatches: ten times faster than a matcher's `find` on long inputs.
    test: (s: string) => re.test(s),
    // ajv keys its cache of compiled patterns by `toString()`, as a RegExp's `/source/flags`: without it every
    // pattern of a schema is '[object Object]', and all of them run the first one's expression.
    toString: () => `/${pattern}/${flags}`,
  }
}, { code: 're2js' })

/**
 * The longest string each ajv-formats format is checked on; longer ones fail it. Each bound is well above any valid
 * value (an RFC 5321 address is at most 254 characters, a date-time about 35), and below the length at which the
 * format's regex gets slow (date-time and iso-date-time are quadratic: 0.4–0.6 s on a 1 MB string). Formats not
 * listed are linear (byte, binary, password) or apply to numbers.
 */
const FORMAT_MAX_LENGTH: Record<string, number> = {
  'date': 64, 'time': 64, 'date-time': 128, 'iso-time': 64, 'iso-date-time': 128, 'duration': 128,
  'email': 320, 'hostname': 255, 'ipv4': 64, 'ipv6': 128, 'uuid': 64,
  'uri': 8_192, 'uri-reference': 8_192, 'url': 8_192, 'uri-template': 8_192, 'iri': 8_192, 'iri-reference': 8_192,
  'json-pointer': 8_192, 'json-pointer-uri-fragment': 8_192, 'relative-json-pointer': 8_192, 'regex': 1_024,
}

type FormatCheck = (value: string) => boolean
type AnyFormat = RegExp | FormatCheck | { type?: string; validate: RegExp | FormatCheck; compare?: unknown; async?: boolean }

/**
 * Makes an ajv instance (with ajv-formats added, created with `code: { regExp: linearRegExp }`) linear in its data:
 * `uniqueItems` and `enum` by canonical key, formats capped in length. Keeps ajv's error keywords, params and messages.
 */
export function makeLinear(ajv: Ajv): void {
  const { _, str } = codegen()
  // Generated code, not validate functions: ajv concatenates a function keyword's errors into the list one array at a
  // time, which is itself O(n²) when every item of a large array fails.
  ajv.removeKeyword('uniqueItems')
  ajv.addKeyword({
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    error: {
      message: ({ params }) => str`must NOT have duplicate items (items ## ${params.j} and ${params.i} are identical)`,
      params: ({ params }) => _`{i: ${params.i}, j: ${params.j}}`,
    },
    code(cxt: KeywordCxt) {
      if (cxt.schema !== true) return
      const find = cxt.gen.scopeValue('func', { ref: firstDuplicate })
      const pair = cxt.gen.const('duplicate', _`${find}(${cxt.data})`)
      cxt.setParams({ i: _`${pair}[1]`, j: _`${pair}[0]` })
      cxt.fail(_`${pair} !== undefined`)
    },
  })
  ajv.removeKeyword('enum')
  ajv.addKeyword({
    keyword: 'enum',
    schemaType: 'array',
    error: { message: 'must be equal to one of the allowed values', params: ({ schemaCode }) => _`{allowedValues: ${schemaCode}}` },
    code(cxt: KeywordCxt) {
      const allowed = cxt.gen.scopeValue('obj', { ref: new Set((cxt.schema as unknown[]).map(canonicalKey)) })
      const key = cxt.gen.scopeValue('func', { ref: canonicalKey })
      cxt.fail(_`!${allowed}.has(${key}(${cxt.data}))`)
    },
  })
  const formats = ajv.formats as Record<string, AnyFormat | undefined>
  for (const [name, max] of Object.entries(FORMAT_MAX_LENGTH)) {
    const format = formats[name]
    if (format === undefined) continue
    const inner = typeof format === 'function' || format instanceof RegExp ? format : format.validate
    const test: FormatCheck = inner instanceof RegExp ? (s) => inner.test(s) : inner
    const compare = typeof format === 'object' && !(format instanceof RegExp) ? format.compare : undefined
    ajv.addFormat(name, { type: 'string', validate: (s: string) => s.length <= max && test(s),
      ...(compare ? { compare: compare as (a: string, b: string) => number } : {}) })
  }
}

/** The indexes of the first two equal items, or undefined. */
function firstDuplicate(items: unknown[]): [number, number] | undefined {
  const seen = new Map<string, number>()
  for (let j = 0; j < items.length; j++) {
    const key = canonicalKey(items[j])
    const i = seen.get(key)
    if (i !== undefined) return [i, j]
    seen.set(key, j)
  }
  return undefined
}

/**
 * A string equal for two JSON values exactly when JSON Schema calls them equal (object key order does not matter,
 * 1 and 1.0 are one number): uniqueness and membership become Set lookups, linear in the data's size.
 */
export function canonicalKey(value: unknown): string {
  switch (typeof value) {
    case 'string': return JSON.stringify(value)
    case 'number': case 'boolean': return String(value)
    case 'undefined': return 'u'
  }
  if (value === null) return 'null'
  // Plain loops and string concatenation: this runs once per item of a request's arrays.
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalKey(value[i])
    return `${out}]`
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length > 1) keys.sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) out += `${i ? ',' : ''}${JSON.stringify(keys[i])}:${canonicalKey(record[keys[i]!])}`
  return `${out}}`
}

/**
 * A deadline ajv's generated code checks as it goes. Vetting and the linear keywords above cannot rule out every
 * blow-up an operator schema allows: a recursive `$ref` under an `anyOf` whose branches overlap evaluates the same
 * data 2^depth times (28 s at depth 22, in a 50-byte body). ajv cannot be interrupted, so every subschema ticks this
 * clock, and past the deadline the validation throws `DeadlineExceeded` instead of holding the event loop.
 */
export class ValidationClock {
  #ticks = 0
  #deadline = Infinity
  readonly ms: number
  constructor(ms: number) {
    this.ms = ms
  }
  /** Starts the clock for one validation. */
  start(): void {
    this.#ticks = 0
    this.#deadline = performance.now() + this.ms
  }
  /** Called by the generated code on entering any subschema; reads the time every 256 ticks only. */
  tick(): void {
    if ((++this.#ticks & 0xff) === 0 && performance.now() > this.#deadline) throw new DeadlineExceeded(this.ms)
  }
}

export class DeadlineExceeded extends Error {
  constructor(ms: number) {
    super(`the value could not be checked against the schema within ${ms} ms`)
  }
}

const CLOCK_KEYWORD = 'x-islet-clock'
/** Keywords whose value is one schema (or, for draft-07 `items`, a list of them). */
const ONE_SCHEMA = new Set(['items', 'additionalItems', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains',
  'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema'])
const SCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])
const SCHEMA_MAP = new Set(['$defs', 'definitions', 'properties', 'patternProperties', 'dependentSchemas'])

/** Registers the clock keyword on `ajv` and returns a copy of `schema` in which every subschema ticks `clock`. */
export function clocked(ajv: Ajv, schema: Readonly<Record<string, unknown>>, clock: ValidationClock): Record<string, unknown> {
  const { _ } = codegen()
  ajv.addKeyword({
    keyword: CLOCK_KEYWORD,
    schemaType: 'boolean',
    errors: false,
    code(cxt: KeywordCxt) {
      const ref = cxt.gen.scopeValue('obj', { ref: clock })
      cxt.gen.code(_`${ref}.tick()`)
    },
  })
  const visit = (node: unknown): unknown => {
    if (!isRecord(node)) return node
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(node)) {
      if (ONE_SCHEMA.has(key)) out[key] = Array.isArray(value) ? value.map(visit) : visit(value)
      else if (SCHEMA_LIST.has(key) && Array.isArray(value)) out[key] = value.map(visit)
      else if (SCHEMA_MAP.has(key) && isRecord(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]))
      else if (key === 'dependencies' && isRecord(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v : visit(v)]))
      } else out[key] = value
    }
    out[CLOCK_KEYWORD] = true
    return out
  }
  return visit(schema) as Record<string, unknown>
}

/** How many values (arrays, objects, scalars) `data` holds, counting no further than just past `max`. */
export function nodesUpTo(data: unknown, max: number): number {
  let count = 0
  const stack: unknown[] = [data]
  while (stack.length > 0 && count <= max) {
    const node = stack.pop()
    count++
    if (node !== null && typeof node === 'object') {
      for (const child of Array.isArray(node) ? node : Object.values(node)) {
        stack.push(child)
        if (stack.length + count > max) return max + 1
      }
    }
  }
  return count
}
