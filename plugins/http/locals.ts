// `HttpContext.locals`: what middleware attaches for the rest of the request, which pipelines read as
// `${{ locals.… }}`. The contract says JSON data; a Map or a Date would otherwise reach expressions as `{}` and a
// function vanish from a response, silently. Checked as it is assigned, so the error's stack points at the
// middleware's own line.
import { HttpError } from './errors.ts'

const MAX_DEPTH = 64

/** A locals object that refuses, as it is assigned, a value that is not JSON data. */
export function checkedLocals(): Record<string, unknown> {
  return new Proxy<Record<string, unknown>>({}, {
    set(target, key, value) {
      check(value, `locals.${String(key)}`, 0)
      target[key as string] = value
      return true
    },
    defineProperty(target, key, descriptor) {
      if ('value' in descriptor) check(descriptor.value, `locals.${String(key)}`, 0)
      return Reflect.defineProperty(target, key, descriptor)
    },
  })
}

function check(value: unknown, at: string, depth: number): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number' && Number.isFinite(value)) return
  if (depth < MAX_DEPTH && Array.isArray(value)) return value.forEach((v, i) => check(v, `${at}[${i}]`, depth + 1))
  if (depth < MAX_DEPTH && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      for (const key of Object.keys(value)) check((value as Record<string, unknown>)[key], `${at}.${key}`, depth + 1)
      return
    }
  }
  const kind = depth >= MAX_DEPTH ? `nesting deeper than ${MAX_DEPTH} levels`
    : typeof value === 'object' ? `a ${(value as object).constructor?.name ?? 'non-plain'} object`
    : typeof value === 'number' ? String(value) : `a ${typeof value}`
  throw new HttpError('ERR_HTTP_LOCALS_INVALID', `${at} holds ${kind}, which is not JSON data (null, booleans, finite ` +
    'numbers, strings, arrays, plain objects): locals are what pipelines read as ${{ locals.… }}; store the data itself ' +
    '(Object.fromEntries(map), date.toISOString()), not the object')
}
