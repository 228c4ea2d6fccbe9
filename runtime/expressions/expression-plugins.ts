// Expression functions plugins register (sdk/expression.ts): the table the loader and the compiler are handed, and
// the calling convention that holds a plugin's function to its contract (JSON-like frozen data in and out,
// synchronous, errors located, sizes charged to the expression's budget).
import type { ExpressionFunction } from '@islet/sdk'
import { messageOf } from '../errors.ts'
import { charge, textUnits } from './expression-budget.ts'
import { evalError, isPlainObject, shown, typeName, type Site } from './expression-values.ts'

/** Plugin functions by their dotted name: what `compileTemplate` and `checkTemplateString` resolve `area.name(…)` in. */
export type FunctionTable = ReadonlyMap<string, ExpressionFunction>

export const NO_FUNCTIONS: FunctionTable = new Map()

/** The table of what a registry holds (anything with `functions()`, so this folder needs no registry type). */
export function functionTable(registry: { functions(): readonly { definition: ExpressionFunction }[] }): FunctionTable {
  return new Map(registry.functions().map((r) => [r.definition.name, r.definition]))
}

/** Deeper than any JSON body the HTTP server accepts (256): a result nested deeper is refused, not a stack overflow. */
const MAX_DEPTH = 300

/** Calls a plugin's function on copies of `args`; its result comes back as a checked, frozen copy. */
export function callPluginFunction(site: Site, fn: ExpressionFunction, args: unknown[]): unknown {
  const label = `${fn.name}()`
  const frozen = args.map((arg, i) => frozenCopy(site, label, arg, `argument ${i + 1}`, 0))
  let result: unknown
  try {
    result = fn.call(...frozen)
  } catch (error) {
    const message = messageOf(error)
    throw evalError(site, `${label} failed: ${message.length > 200 ? `${message.slice(0, 200)}…` : message} (called with ${shown(args)})`,
      { function: fn.name, value: shown(args) })
  }
  if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') {
    // A promise would be evaluated as an object now and settle after the step used it: refused, not awaited.
    throw evalError(site, `${label} returned a promise: expression functions must be synchronous (do I/O in a step or a component)`,
      { function: fn.name })
  }
  return frozenCopy(site, label, result === undefined ? null : result, 'its result', 0)
}

/** A deep copy of JSON-like data, frozen; each node and each 16 characters of text charged to the budget. */
function frozenCopy(site: Site, label: string, value: unknown, what: string, depth: number): unknown {
  charge(site, 1, label)
  if (value === undefined) return null
  if (typeof value === 'string') {
    charge(site, textUnits(value.length), label)
    return value
  }
  if (value === null || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value
    throw notData(site, label, what, value)
  }
  if (depth >= MAX_DEPTH) throw evalError(site, `${label}: ${what} is nested deeper than ${MAX_DEPTH} levels`, { function: label })
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = frozenCopy(site, label, value[i], what, depth + 1)
    return Object.freeze(out)
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      // defineProperty: a '__proto__' key stays data, never a prototype.
      Object.defineProperty(out, key, { value: frozenCopy(site, label, value[key], what, depth + 1), enumerable: true })
    }
    return Object.freeze(out)
  }
  throw notData(site, label, what, value)
}

function notData(site: Site, label: string, what: string, value: unknown) {
  const kind = typeof value === 'number' ? String(value) : typeof value === 'object' ? `a ${value?.constructor?.name ?? 'non-plain'} object` : `a ${typeName(value)}`
  return evalError(site, `${label}: ${what} holds ${kind}, which is not JSON data (null, booleans, finite numbers, strings, arrays, plain objects)`,
    { function: label })
}
