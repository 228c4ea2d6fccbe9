// `HttpContext.locals`: what middleware attaches for the rest of the request, which pipelines read as
// `${{ locals.… }}`. The contract says JSON data; a Map or a Date would otherwise reach expressions as `{}`, a function
// vanish from a response, a cycle or a BigInt fail as an internal error. Checked twice: as each member is assigned
// (so the error's stack points at the middleware's own line), and as a middleware calls `next()` (what was changed
// inside a member after it was assigned).
import { HttpError } from './errors.ts'

const MAX_DEPTH = 64

/** A locals object that refuses, as it is assigned, a value that is not JSON data. */
export function checkedLocals(): Record<string, unknown> {
  return new Proxy<Record<string, unknown>>({}, {
    set(target, key, value) {
      check(value, `locals.${String(key)}`)
      target[key as string] = value
      return true
    },
    defineProperty(target, key, descriptor) {
      if ('value' in descriptor) check(descriptor.value, `locals.${String(key)}`)
      return Reflect.defineProperty(target, key, descriptor)
    },
  })
}

/**
 * Where `value` stops being JSON (`locals.user.since: a Date`), or undefined. Plain objects, arrays, strings, finite
 * numbers, booleans, null; an undefined member of an object is absent, as in JSON.
 */
export function jsonProblem(value: unknown, path: string, seen: Set<object> = new Set()): { at: string; what: string } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { at: path, what: String(value) }
  if (typeof value !== 'object') return { at: path, what: `a ${typeof value}` }
  const proto = Object.getPrototypeOf(value) as unknown
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return { at: path, what: `a ${(value as object).constructor?.name ?? 'non-plain'} object` }
  }
  if (seen.has(value)) return { at: path, what: 'a cycle' }
  if (seen.size >= MAX_DEPTH) return { at: path, what: `nesting deeper than ${MAX_DEPTH} levels` }
  seen.add(value)
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined && !Array.isArray(value)) continue
    const problem = jsonProblem(member, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen)
    if (problem) return problem
  }
  seen.delete(value)
  return undefined
}

function check(value: unknown, at: string): void {
  const problem = jsonProblem(value, at)
  if (!problem) return
  throw new HttpError('ERR_HTTP_LOCALS_INVALID', `${problem.at} holds ${problem.what}, which is not JSON data (null, booleans, finite numbers, ` +
    'strings, arrays, plain objects): locals are what pipelines read as ${{ locals.… }}; store the data itself ' +
    '(Object.fromEntries(map), date.toISOString()), not the object')
}
