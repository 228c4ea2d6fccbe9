// Config validators kept on disk as ajv standalone code, so a command that loads a config (`islet validate`, `run`,
// `dev`) does not compile the engine's file schema and every used type's schema again on each call: compiling them
// was most of `islet validate`'s time (~150 ms, plus ~35 ms to load ajv at all), loading the stored code takes a few.
//
// A stored validator is named by a sha256 of everything its code depends on: the schema's JSON, the versions of ajv
// and ajv-formats, and the source of the ajv set-up (plugins/core/ajv.ts, and validate.ts with the x-islet-*
// keywords). A changed schema, upgrade or keyword is a different name, so a stale validator is never found; the
// folder can be deleted at any time. Where it lives: runtime/cache-dir.ts, inside this package's node_modules, so the
// stored code's `require("ajv/dist/runtime/…")` resolves to this install's ajv.
// A read-only install just compiles every time.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Ajv, ValidateFunction } from 'ajv'
import { CACHE_DIR, PACKAGE_ROOT as ROOT, storeCachedSync } from '../cache-dir.ts'

const require = createRequire(import.meta.url)
export const VALIDATOR_CACHE_DIR = join(CACHE_DIR, 'config-validators')

/** What the generated code depends on besides the schema. */
const SET_UP_SOURCES = ['plugins/core/ajv.ts', 'runtime/config/validate.ts']

let salt: string | undefined

function saltOf(): string {
  salt ??= [
    ...['ajv', 'ajv-formats'].map((name) => `${name}@${(require(`${name}/package.json`) as { version: string }).version}`),
    ...SET_UP_SOURCES.map((file) => readFileSync(join(ROOT, file), 'utf8')),
  ].join('\0')
  return salt
}

/**
 * The cache key of `schema`, or undefined when it must not be stored: a value JSON cannot carry (a function, a
 * RegExp, undefined, NaN), so two schemas could share one text; or an `$id` or a `$ref` to another document, which
 * tie it to other schemas registered in the shared ajv instance (a stored validator is on its own).
 */
export function storableKey(schema: object): string | undefined {
  if (!isStorable(schema)) return undefined
  return createHash('sha256').update(saltOf()).update('\0').update(JSON.stringify(schema)).digest('hex')
}

/** Plain JSON all the way down, with no `$id` and only local `$ref`s (erring on the safe side: a property merely
 * named $id or $ref makes a schema unstorable too). A loop, not a JSON.stringify replacer: several times faster. */
function isStorable(value: unknown): boolean {
  switch (typeof value) {
    case 'string': case 'boolean': return true
    case 'number': return Number.isFinite(value)
    case 'object': break
    default: return false
  }
  if (value === null) return true
  if (Array.isArray(value)) return value.every(isStorable)
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  for (const [key, child] of Object.entries(value)) {
    if (key === '$id' || key === '$ref' && (typeof child !== 'string' || !child.startsWith('#')) || !isStorable(child)) return false
  }
  return true
}

const fileOf = (key: string) => join(VALIDATOR_CACHE_DIR, `${key}.cjs`)

/** The stored validator named `key`, or undefined (not stored yet, or unreadable: it is compiled and stored again). */
export function loadValidator(key: string): ValidateFunction | undefined {
  try {
    const loaded = require(fileOf(key)) as unknown
    return typeof loaded === 'function' ? loaded as ValidateFunction : undefined
  } catch {
    return undefined
  }
}

/**
 * Stores `validate`'s standalone code under `key`: written to a temporary file and renamed, so a concurrent reader
 * (another `islet` call, a test worker) finds the whole file or none. Best effort: a failure only means no cache.
 */
export function storeValidator(key: string, ajv: Ajv, validate: ValidateFunction): void {
  let code: string
  try {
    const standalone = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone/index.js')).default
    code = standalone(ajv, validate)
  } catch {
    return
  }
  storeCachedSync(fileOf(key), code)
}
