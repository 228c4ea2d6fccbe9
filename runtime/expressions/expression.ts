// Compiles a parsed runtime expression into closures over a RunScope: parsed once, no eval, no per-run parsing.
import type { RunScope } from '@islet/sdk'
import { charge, textUnits } from './expression-budget.ts'
import { suggest } from '../suggest.ts'
import { expressionError } from './expression-lex.ts'
import { parseExpression, type Node, type Parsed } from './expression-parse.ts'
import { FUNCTIONS, FUNCTION_ALIASES } from './expression-functions.ts'
import { callPluginFunction } from './expression-plugins.ts'
import { NEUTRAL_LANGUAGE, type Language } from './language.ts'
import type { Variables } from './variables.ts'
import {
  FORBIDDEN_NAMES, evalError, member, toText, typeName, type BuiltinFunction, type Lambda, type Meter, type Site,
} from './expression-values.ts'

/** A compiled expression: evaluates against one run. */
export type Evaluate = (scope: RunScope) => unknown

/**
 * The variables every run has, mapped straight onto the run scope (no lookup table at run time). A trigger's own
 * variables (HTTP: body, params, query, headers, request) are read from the run's view: see `viewVariable`.
 */
const RUN: ReadonlyMap<string, Evaluate> = new Map<string, Evaluate>([
  ['input', (s) => s.input],
  ['meta', (s) => s.meta],
  ['locals', (s) => s.locals],
  ['steps', (s) => s.steps],
])

/** The names every run has, for documentation and editor completion (triggers add theirs). */
export const EXPRESSION_VARIABLES: readonly string[] = [...RUN.keys()]
export const EXPRESSION_FUNCTIONS: readonly string[] = [...FUNCTIONS.keys()]
const LAMBDA_TAKERS = [...FUNCTIONS].filter(([, f]) => f.lambda !== undefined).map(([name]) => name)

/**
 * One reader per view variable name, shared by every expression that reads it. V8 keeps type feedback per function
 * literal, so readers made by one literal would see every name at one property load and slow each other down: the
 * first names each get a literal of their own (a trigger has a handful of variables), the rest share the last one.
 */
const READER_SITES: readonly ((name: string) => Evaluate)[] = [
  (n) => (s) => s.view[n], (n) => (s) => s.view[n], (n) => (s) => s.view[n], (n) => (s) => s.view[n],
  (n) => (s) => s.view[n], (n) => (s) => s.view[n], (n) => (s) => s.view[n], (n) => (s) => s.view[n],
  (n) => (s) => s.view[n], (n) => (s) => s.view[n], (n) => (s) => s.view[n], (n) => (s) => s.view[n],
]
const VIEW_READERS = new Map<string, Evaluate>()
function viewVariable(name: string): Evaluate {
  let read = VIEW_READERS.get(name)
  if (!read) VIEW_READERS.set(name, read = READER_SITES[Math.min(VIEW_READERS.size, READER_SITES.length - 1)]!(name))
  return read
}

/** Reads `field` of a trigger's fixed-fields record; anything but an object reads as undefined, like `member`. */
function fieldReader(record: Evaluate, field: string): Evaluate {
  return (s) => {
    const value = record(s) as Record<string, unknown> | null
    return typeof value === 'object' && value !== null ? value[field] : undefined
  }
}

const isVariable = (name: string, variables: Variables) => RUN.has(name) || variables.view.has(name)
const variableNames = (variables: Variables) => [...RUN.keys(), ...variables.view.keys()]

/**
 * Compiles `source`, the whole of which is one expression (no `${{ }}`), knowing what `language` adds: the
 * registered trigger types' view variables and the plugins' functions (dotted names). Throws ERR_CONFIG_EXPRESSION.
 */
export function compileExpression(source: string, language: Language = NEUTRAL_LANGUAGE): Evaluate {
  return compileParsed(parseExpression(source), language)
}

/** Compiles the expression that starts at `start` (just after a `${{`) in `text`; `next` is the offset after `}}`. */
export function compileEmbedded(text: string, start: number, language: Language = NEUTRAL_LANGUAGE): { evaluate: Evaluate; source: string; next: number } {
  const parsed = parseExpression(text, start, true)
  return { evaluate: compileParsed(parsed, language), source: parsed.source, next: parsed.next }
}

/** The variables the expression starting at `start` in `text` reads, with their offsets into `text`. */
export function embeddedVariables(text: string, start: number): { names: { name: string; offset: number }[]; next: number } {
  const parsed = parseExpression(text, start, true)
  const names: { name: string; offset: number }[] = []
  const walk = (node: Node): void => {
    switch (node.type) {
      case 'name': names.push({ name: node.name, offset: node.start }); return
      case 'array': node.items.forEach(walk); return
      case 'object': node.entries.forEach((e) => walk(e.value)); return
      case 'member': walk(node.object); walk(node.property); return
      case 'call': if (node.callee.type !== 'name') walk(node.callee); node.args.forEach(walk); return
      case 'unary': walk(node.operand); return
      case 'binary': walk(node.left); walk(node.right); return
      case 'conditional': walk(node.test); walk(node.then); walk(node.else); return
      case 'lambda': {
        const before = names.length
        walk(node.body)
        const own = new Set(node.params.map((p) => p.name))
        names.splice(before, names.length - before, ...names.slice(before).filter((n) => !own.has(n.name)))
        return
      }
      case 'literal': return
    }
  }
  walk(parsed.node)
  return { names, next: parsed.next }
}

/** A lambda parameter while its body is compiled: the body reads `value`, which the calling function sets. */
interface Local {
  value: unknown
}

function compileParsed(parsed: Parsed, language: Language): Evaluate {
  const { variables, functions } = language
  // One meter per compiled expression: evaluation is synchronous and cannot re-enter itself (lambdas have no names,
  // plugin functions see data only), so resetting it when an evaluation starts makes the budget per evaluation.
  const meter: Meter = { used: 0 }
  const siteOf = (node: Node): Site => ({ source: parsed.source, offset: node.start - parsed.start, meter })
  /** The lambda parameters in scope where the compiler is. */
  const locals = new Map<string, Local>()
  const root = compile(parsed.node)
  return (s) => {
    meter.used = 0
    return root(s)
  }

  function compile(node: Node): Evaluate {
    switch (node.type) {
      case 'literal': {
        const value = node.value
        return () => value
      }
      case 'name': {
        const local = locals.get(node.name)
        if (local) return () => local.value
        return variable(node.name, node.start, variables)
      }
      case 'lambda':
        throw expressionError(`a lambda can only be an argument of ${LAMBDA_TAKERS.join(', ')}`, node.start,
          'e.g. map(steps.q.rows, r => r.id)')
      case 'array': {
        const items = node.items.map(compile)
        return (s) => {
          const out = new Array<unknown>(items.length)
          for (let i = 0; i < items.length; i++) out[i] = items[i]!(s)
          return out
        }
      }
      case 'object': {
        for (const e of node.entries) {
          if (FORBIDDEN_NAMES.has(e.key)) throw expressionError(`'${e.key}' cannot be used as a key`, e.start)
        }
        const keys = node.entries.map((e) => e.key)
        const values = node.entries.map((e) => compile(e.value))
        return (s) => {
          const out: Record<string, unknown> = {}
          for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]!(s)
          return out
        }
      }
      case 'member':
        return compileMember(node.object, node.property)
      case 'call':
        return compileCall(node.callee, node.args, siteOf(node.callee))
      case 'unary':
        return compileUnary(node.op, compile(node.operand), siteOf(node))
      case 'binary':
        return compileBinary(node.op, compile(node.left), compile(node.right), siteOf(node))
      case 'conditional': {
        const test = compile(node.test), then = compile(node.then), otherwise = compile(node.else)
        return (s) => (test(s) ? then(s) : otherwise(s))
      }
    }
  }

  function compileMember(objectNode: Node, property: Node): Evaluate {
    if (property.type === 'literal' && (typeof property.value === 'string' || typeof property.value === 'number')) {
      const key = property.value
      if (typeof key === 'string' && FORBIDDEN_NAMES.has(key)) {
        throw expressionError(`'${key}' cannot be read`, property.start, 'expressions see data only, never prototypes or constructors')
      }
      const fields = objectNode.type === 'name' ? variables.view.get(objectNode.name) : undefined
      if (fields && objectNode.type === 'name' && !locals.has(objectNode.name) && !fields.includes(String(key))) {
        const near = suggest(String(key), fields)
        const hint = isVariable(String(key), variables) ? `use '${key}' on its own` : near ? `did you mean '${near}'?` : undefined
        throw expressionError(`${objectNode.name} has no '${key}' (only ${listOf(fields)})`, property.start, hint)
      }
      // A declared field of a record the trigger builds (HTTP's request.id): read it directly, as it is on every
      // request's path. Names Object.prototype has go through `member`, which reads own properties only.
      if (fields && !(String(key) in Object.prototype)) return fieldReader(compile(objectNode), String(key))
      const object = compile(objectNode)
      return (s) => member(object(s), key)
    }
    const object = compile(objectNode)
    const computed = compile(property)
    return (s) => member(object(s), computed(s))
  }

  function compileCall(callee: Node, args: Node[], site: Site): Evaluate {
    if (callee.type === 'member') {
      const dotted = dottedName(callee)
      const plugin = dotted === undefined ? undefined : functions.get(dotted)
      if (plugin) return compilePluginCall(dotted!, args, site, rootOf(callee).start)
      const rootName = dotted?.slice(0, dotted.indexOf('.'))
      const method = callee.property.type === 'literal' ? String(callee.property.value) : undefined
      const builtin = method !== undefined && (FUNCTION_ALIASES.has(method) || FUNCTIONS.has(method))
      const area = [...functions.keys()].some((f) => f.startsWith(`${rootName}.`))
      // `area.name(…)` whose area is no variable: a plugin function that is not registered (or misspelt); unless it
      // reads as a JavaScript habit (`JSON.stringify(x)`) outside any plugin's area, answered below.
      if (rootName !== undefined && !locals.has(rootName) && !isVariable(rootName, variables) && (area || !builtin)) {
        const near = suggest(dotted!, functions.keys())
        throw expressionError(`unknown function '${dotted}'`, rootOf(callee).start,
          near ? `did you mean '${near}'?` : functions.size
            ? `the plugin functions are ${[...functions.keys()].join(', ')}` : 'no plugin registers functions; is the plugin listed?')
      }
      if (method !== undefined && FORBIDDEN_NAMES.has(method)) compile(callee)
      const instead = method === undefined ? undefined : FUNCTION_ALIASES.get(method) ?? (FUNCTIONS.has(method) ? method : undefined)
      throw expressionError('methods cannot be called', callee.start,
        instead ? `use ${instead}(x)` : `call one of the functions instead: ${EXPRESSION_FUNCTIONS.join(', ')}`)
    }
    if (callee.type !== 'name') {
      compile(callee) // its own problems (a method call, a forbidden name) are the root cause
      throw expressionError('only functions can be called', callee.start)
    }
    const name = callee.name
    const spec = FUNCTIONS.get(name)
    if (!spec) {
      if (locals.has(name)) throw expressionError(`'${name}' is a lambda parameter, not a function`, callee.start, 'lambdas cannot be called by name')
      if (isVariable(name, variables)) throw expressionError(`'${name}' is a variable, not a function`, callee.start)
      const plugin = [...functions.keys()].find((f) => f.endsWith(`.${name}`))
      const suggestion = FUNCTION_ALIASES.get(name) ?? suggest(name, FUNCTIONS.keys()) ?? plugin
      throw expressionError(`unknown function '${name}'`, callee.start,
        suggestion ? `did you mean '${suggestion}'?` : `the functions are ${[...EXPRESSION_FUNCTIONS, ...functions.keys()].join(', ')}`)
    }
    if (args.length < spec.min || args.length > spec.max) {
      const takes = spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`
      throw expressionError(`${name}() takes ${takes} argument${spec.max === 1 ? '' : 's'}, got ${args.length}`, callee.start)
    }
    // sortBy's order is nearly always written as a literal: a typo there is a load error, not a 500 per request.
    const order = name === 'sortBy' ? args[2] : undefined
    if (order?.type === 'literal' && order.value !== 'asc' && order.value !== 'desc') {
      throw expressionError(`sortBy() takes 'asc' or 'desc' as its argument 3, got ${JSON.stringify(order.value)}`, order.start,
        "e.g. sortBy(steps.q.rows, r => r.total, 'desc')")
    }
    const compiled = args.map((arg, i) => compileArgument(name, spec, arg, i))
    const fn = spec.fn
    const [a, b, c] = compiled
    if (c) return (s) => fn(site, a!(s), b!(s), c(s))
    if (b) return (s) => fn(site, a!(s), b(s), undefined)
    if (a) return (s) => fn(site, a(s), undefined, undefined)
    return () => fn(site, undefined, undefined, undefined)
  }

  /** An argument; the one a function takes a lambda at must be one, and no other may be. */
  function compileArgument(name: string, spec: BuiltinFunction, arg: Node, i: number): Evaluate {
    if (spec.lambda !== i && arg.type === 'lambda' && spec.lambda !== undefined) {
      throw expressionError(`${name}() takes its lambda as argument ${spec.lambda + 1}`, arg.start, `e.g. ${name}(steps.q.rows, r => r.id)`)
    }
    if (spec.lambda !== i) return compile(arg)
    if (arg.type !== 'lambda') {
      throw expressionError(`${name}() takes a lambda as its argument ${i + 1}`, arg.start, `e.g. ${name}(steps.q.rows, r => r.id)`)
    }
    const params = arg.params.map((p) => {
      if (isVariable(p.name, variables) || locals.has(p.name)) {
        throw expressionError(`the lambda parameter '${p.name}' would hide the ${locals.has(p.name) ? 'outer parameter' : 'variable'} of that name`,
          p.start, 'pick another name, e.g. r or row')
      }
      const local: Local = { value: undefined }
      locals.set(p.name, local)
      return local
    })
    const body = compile(arg.body)
    for (const p of arg.params) locals.delete(p.name)
    const [item, index] = params as [Local, Local | undefined]
    if (index) {
      return (s): Lambda => (x, i) => {
        item.value = x
        index.value = i
        return body(s)
      }
    }
    return (s): Lambda => (x) => {
      item.value = x
      return body(s)
    }
  }

  function compilePluginCall(name: string, args: Node[], site: Site, start: number): Evaluate {
    const fn = functions.get(name)!
    const min = fn.minArgs
    const max = fn.maxArgs ?? fn.minArgs
    if (args.length < min || args.length > max) {
      const takes = min === max ? `${min}` : `${min} to ${max}`
      throw expressionError(`${name}() takes ${takes} argument${max === 1 ? '' : 's'}, got ${args.length}`, start)
    }
    const compiled = args.map((arg) => {
      if (arg.type === 'lambda') throw expressionError(`${name}() is a plugin function: it takes data, not a lambda`, arg.start)
      return compile(arg)
    })
    return (s) => {
      const values = new Array<unknown>(compiled.length)
      for (let i = 0; i < compiled.length; i++) values[i] = compiled[i]!(s)
      return callPluginFunction(site, fn, values)
    }
  }
}

/** The name a chain of members starts from. */
function rootOf(node: Node): Node {
  return node.type === 'member' ? rootOf(node.object) : node
}

/** `a.b.c` as 'a.b.c' when every part is a plain name; undefined for computed members (`a[x]`). */
function dottedName(node: Node): string | undefined {
  if (node.type === 'name') return node.name
  if (node.type !== 'member' || node.property.type !== 'literal' || typeof node.property.value !== 'string') return undefined
  const object = dottedName(node.object)
  return object === undefined ? undefined : `${object}.${node.property.value}`
}

function variable(name: string, offset: number, variables: Variables): Evaluate {
  const root = RUN.get(name)
  if (root) return root
  if (variables.view.has(name)) return viewVariable(name)
  if (FUNCTIONS.has(name)) throw expressionError(`'${name}' is a function`, offset, `call it: ${name}(…)`)
  const names = variableNames(variables)
  const match = suggest(name, names)
  const owners = variables.blocks?.get(name)
  const hint = name === 'undefined' ? 'use null'
    : owners ? `'${name}' is visible only inside the block of a ${owners.join(' or ')} step (its do:)`
    : match ? `did you mean '${match}'?` : `the variables are ${names.join(', ')}`
  throw expressionError(`unknown variable '${name}'`, offset, hint)
}

/** `a, b and c`. */
function listOf(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
}

function operandError(site: Site, op: string, wants: string, ...values: unknown[]) {
  const types = values.map(typeName)
  return evalError(site, `'${op}' needs ${wants}, got ${types.join(' and ')}`, { operator: op, types })
}

function compileUnary(op: string, operand: Evaluate, site: Site): Evaluate {
  if (op === '!') return (s) => !operand(s)
  const negate = op === '-'
  return (s) => {
    const v = operand(s)
    if (typeof v === 'number') return negate ? -v : v
    throw operandError(site, op, 'a number', v)
  }
}

/** Numbers-only arithmetic; the closures are written out so each operator's fast path is one typeof test. */
function compileBinary(op: string, l: Evaluate, r: Evaluate, site: Site): Evaluate {
  switch (op) {
    case '&&': return (s) => l(s) && r(s)
    case '||': return (s) => l(s) || r(s)
    case '??': return (s) => l(s) ?? r(s)
    // Strict, except that null and undefined are equal: a missing member is undefined and there is no `undefined`
    // literal, so `body.note == null` must be how one asks whether a field is absent.
    case '==': return (s) => {
      const a = l(s), b = r(s)
      if (typeof a === 'string' && typeof b === 'string') chargeCompare(site, op, a, b)
      return a === b || (a == null && b == null)
    }
    case '!=': return (s) => {
      const a = l(s), b = r(s)
      if (typeof a === 'string' && typeof b === 'string') chargeCompare(site, op, a, b)
      return a !== b && !(a == null && b == null)
    }
    case '+': return (s) => {
      const a = l(s), b = r(s)
      if (typeof a === 'number' && typeof b === 'number') return a + b
      if (typeof a === 'string' || typeof b === 'string') {
        const out = toText(a) + toText(b)
        // Charged: inside a lambda, `+` repeated per element is how text grows.
        charge(site, textUnits(out.length), "'+'")
        return out
      }
      throw operandError(site, op, 'two numbers, or a string on either side', a, b)
    }
    case '-': return (s) => {
      const a = l(s), b = r(s)
      if (typeof a === 'number' && typeof b === 'number') return a - b
      throw operandError(site, op, 'two numbers', a, b)
    }
    case '*': return (s) => {
      const a = l(s), b = r(s)
      if (typeof a === 'number' && typeof b === 'number') return a * b
      throw operandError(site, op, 'two numbers', a, b)
    }
    case '/':
    case '%': {
      const divide = op === '/'
      return (s) => {
        const a = l(s), b = r(s)
        if (typeof a !== 'number' || typeof b !== 'number') throw operandError(site, op, 'two numbers', a, b)
        if (b === 0) throw evalError(site, 'division by zero', { operator: op })
        return divide ? a / b : a % b
      }
    }
    default: return compileComparison(op, l, r, site)
  }
}

/**
 * Comparing two texts reads up to the shorter one: free for short text (a filter on a name costs what it did), one
 * unit per 16 characters beyond, so comparing two large fields once per element of a large array is charged.
 */
function chargeCompare(site: Site, op: string, a: string, b: string): void {
  const chars = Math.min(a.length, b.length)
  if (chars >= 16) charge(site, chars >>> 4, `'${op}'`)
}

function compileComparison(op: string, l: Evaluate, r: Evaluate, site: Site): Evaluate {
  const compare = op === '<' ? (a: number | string, b: number | string) => a < b
    : op === '<=' ? (a: number | string, b: number | string) => a <= b
    : op === '>' ? (a: number | string, b: number | string) => a > b
    : (a: number | string, b: number | string) => a >= b
  return (s) => {
    const a = l(s), b = r(s)
    if (typeof a === 'number' && typeof b === 'number') return compare(a, b)
    if (typeof a === 'string' && typeof b === 'string') {
      chargeCompare(site, op, a, b)
      return compare(a, b)
    }
    throw operandError(site, op, 'two numbers or two strings', a, b)
  }
}
