// The worker half of the output rules (the guest half is guest-output.ts): what a refused value is called and how to
// fix it, and whether the component's output schema allows a conversion the guest serialiser made.
//
// The rule for conversions: a value JSON would rewrite is refused unless the output schema *explicitly* allows what it
// becomes, at that path, reached from the root through `properties`, `items` (one schema for every item) and
// `additionalProperties` only ($ref, allOf/anyOf/oneOf, tuples and conditionals are not followed: not explicit):
//   - a Date becomes its ISO string where the schema there says `type: 'string'` (or a type list with 'string');
//   - an object property whose value is undefined is left out where the parent schema lists the property under
//     `properties` and not under `required` (absent is what it explicitly allows).
// Everything else that is not plain JSON (Map, Set, class instances, NaN, BigInt, functions, …) is always refused.
import { isRecord } from '@islet/sdk'
import type { ErrorDto } from './protocol.ts'

export type PathSegment = string | number

/** `output.items[2].when`; keys that are not identifiers are quoted: `output["a b"]`. */
export function formatPath(root: string, segments: readonly PathSegment[]): string {
  let path = root
  for (const s of segments) {
    path += typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`
    // A path is as long as the guest makes its keys and nesting: it goes into messages, details and logs, so cut it.
    if (path.length > MAX_PATH) return `${path.slice(0, MAX_PATH)}…`
  }
  return path
}

/** Longest path a refusal quotes (characters). */
const MAX_PATH = 300

const HINTS: Record<string, [found: string, hint: string]> = {
  undefined: ['undefined', 'return null, or an object'],
  'undefined-item': ['undefined (or an empty slot) in an array', 'use null, or filter it out (items.filter((x) => x !== undefined))'],
  absent: ['a property whose value is undefined', "leave the key out, or use null (or list it as optional under the output schema's properties)"],
  date: ['a Date', "return date.toISOString() (or declare type: 'string' at this path in the output schema)"],
  'invalid-date': ['an invalid Date', 'check how the date is computed; return an ISO string or null'],
  NaN: ['NaN', 'check the computation; return null or a number'],
  Infinity: ['Infinity', 'check the computation; return null, a finite number or a string'],
  BigInt: ['a BigInt', 'return String(n), or Number(n) when it is small enough'],
  symbol: ['a symbol', 'return a string (symbol.description)'],
  function: ['a function', 'return data, not functions (call it, or leave it out)'],
  cycle: ['a cycle (an object that contains itself)', 'return a copy without the back-reference'],
  Map: ['a Map', 'return Object.fromEntries(map), or [...map] for non-string keys'],
  Set: ['a Set', 'return [...set]'],
  WeakMap: ['a WeakMap', 'return plain data'],
  WeakSet: ['a WeakSet', 'return plain data'],
  RegExp: ['a RegExp', 'return regex.source'],
  Error: ['an Error', 'return { message: error.message }, or throw it'],
  ArrayBuffer: ['an ArrayBuffer', 'return Array.from(new Uint8Array(buffer)), or a base64 string'],
  Promise: ['a Promise inside the output', 'await it first'],
  String: ['a String object', 'return the primitive: value.valueOf()'],
  Number: ['a Number object', 'return the primitive: value.valueOf()'],
  Boolean: ['a Boolean object', 'return the primitive: value.valueOf()'],
}

/** What a refused value is, in words, and how to fix it. */
export function describeRefusal(kind: string): { found: string; hint: string } {
  const known = HINTS[kind]
  if (known) return { found: known[0], hint: known[1] }
  if (/Array$/.test(kind)) return { found: `a ${kind}`, hint: 'return Array.from(values), or a base64 string for bytes' }
  if (kind.startsWith('class ')) return { found: `an instance of ${kind}`, hint: 'return a plain object with the fields you need ({ ...value }, or build one)' }
  if (kind === 'class') return { found: 'an object with a non-plain prototype', hint: 'return a plain object with the fields you need' }
  return { found: `a ${kind.slice(0, 100)}`, hint: 'return plain JSON data: objects, arrays, strings, finite numbers, booleans, null' }
}

/** The ERR_COMPONENT_OUTPUT_INVALID error for a value at `segments` that JSON cannot carry. */
export function refusedOutput(component: string, kind: string, segments: readonly PathSegment[], root = 'output'): ErrorDto {
  const path = formatPath(root, segments)
  const { found, hint } = describeRefusal(kind)
  return {
    code: 'ERR_COMPONENT_OUTPUT_INVALID',
    message: `component '${component}' returned ${found} at ${path}, which JSON cannot carry: ${hint}`,
    details: { path, found, hint },
  }
}

type Schema = Record<string, unknown>

/** The subschema at `segments` through properties / items / additionalProperties, or undefined. */
function schemaAt(schema: unknown, segments: readonly PathSegment[]): Schema | undefined {
  let at: unknown = schema
  for (const s of segments) {
    if (!isRecord(at)) return undefined
    if (typeof s === 'number') at = at.items
    else {
      const props = at.properties
      at = isRecord(props) && Object.hasOwn(props, s) ? props[s] : at.additionalProperties
    }
  }
  return isRecord(at) ? at : undefined
}

/** Whether the output schema explicitly allows what the guest serialiser turned the value at `segments` into. */
export function isAllowedConversion(schema: unknown, kind: string, segments: readonly PathSegment[]): boolean {
  if (kind === 'date') {
    const type = schemaAt(schema, segments)?.type
    return type === 'string' || (Array.isArray(type) && type.includes('string'))
  }
  if (kind === 'absent' && segments.length > 0) {
    const key = segments.at(-1)
    const parent = schemaAt(schema, segments.slice(0, -1))
    if (!parent || typeof key !== 'string' || !isRecord(parent.properties) || !Object.hasOwn(parent.properties, key)) return false
    return !(Array.isArray(parent.required) && parent.required.includes(key))
  }
  return false
}

/** The first conversion the output schema does not allow, as the error to answer; undefined when all are allowed. */
export function checkConversions(component: string, schema: unknown, conversionsJson: string): ErrorDto | undefined {
  const conversions = JSON.parse(conversionsJson) as [string, PathSegment[]][]
  for (const [kind, segments] of conversions) {
    if (!isAllowedConversion(schema, kind, segments)) return refusedOutput(component, kind, segments)
  }
  return undefined
}
