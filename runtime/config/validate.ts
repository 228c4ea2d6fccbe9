// JSON Schema validation of config values: the config ajv, compiled validators (per schema object in memory, by
// content on disk: validator-cache.ts) and the capture of the references and paths a value holds.
import { createRequire } from 'node:module'
import type { Ajv, ErrorObject, KeywordCxt, ValidateFunction } from 'ajv'
import { PATH_KEYWORD, PROVIDES_KEYWORD, REF_KEYWORD, TRIGGER_KEYWORD, type JsonSchema } from '@islet/sdk'
import { createAjv } from '../../plugins/core/ajv.ts'
import { loadValidator, storableKey, storeValidator } from './validator-cache.ts'

/** What an `x-islet-ref` property may name. */
export const REF_KINDS = ['module', 'pipeline', 'component'] as const
export type RefKind = (typeof REF_KINDS)[number]

/** A config string that names a module, pipeline or component, found through an `x-islet-ref` schema property. */
export interface RefUse {
  kind: RefKind
  name: string
  /** JSON pointer inside the validated value, e.g. `/routes/0/pipeline`. */
  pointer: string
  /** For a module: the contract its type must provide (`moduleRef(…, contract)` → `x-islet-provides`). */
  contract?: string
  /** For a pipeline: the trigger type of the runs the referencing module starts (`pipelineRef(…, { trigger })`). */
  trigger?: string
}

/** What an `x-islet-path` property is relative to, and must stay inside. */
export const PATH_KINDS = ['app', 'data'] as const
export type PathKind = (typeof PATH_KINDS)[number]

/** A config string that is a file or folder path, found through an `x-islet-path` schema property. */
export interface PathUse {
  kind: PathKind
  path: string
  /** JSON pointer inside the validated value. */
  pointer: string
}

export interface CheckResult {
  isValid: boolean
  errors: ErrorObject[]
  refs: RefUse[]
  paths: PathUse[]
}

/** What the `x-islet-ref` and `x-islet-path` keywords push into during one validation: the validator's `this`. */
interface Found {
  refs: RefUse[]
  paths: PathUse[]
}

/**
 * The ajv the engine validates config with: the `config` rules of the one ajv set-up (every error at once, defaults
 * filled, strict schemas, formats, verbose errors for readable messages), plus the `x-islet-ref` and `x-islet-path`
 * keywords. They are generated code that pushes what they find into the object the validator is called with
 * (`validate.call(found, data)`, ajv's passContext), not callbacks: a validator is then its code alone, which
 * validator-cache.ts can store and load without ajv.
 */
export function createConfigAjv(): Ajv {
  const ajv = createAjv('config')
  // Loaded by createAjv just now.
  const { _, stringify, Name } = createRequire(import.meta.url)('ajv') as typeof import('ajv')
  // Where the value is: the generated function's own `instancePath` argument plus the path inside it (as in ajv's errors).
  const pointer = (cxt: KeywordCxt) => _`${new Name('instancePath')} + ${cxt.it.errorPath}`
  ajv.addKeyword({
    keyword: REF_KEYWORD,
    type: 'string',
    schemaType: 'string',
    metaSchema: { enum: [...REF_KINDS] },
    code(cxt: KeywordCxt) {
      const parent = cxt.parentSchema as Record<string, unknown>
      const contract = parent[PROVIDES_KEYWORD]
      const trigger = parent[TRIGGER_KEYWORD]
      const fixed = { kind: cxt.schema as RefKind, ...(typeof contract === 'string' ? { contract } : {}),
        ...(typeof trigger === 'string' ? { trigger } : {}) }
      cxt.gen.if(_`this && this.refs`, () => cxt.gen.code(
        _`this.refs.push(Object.assign({name: ${cxt.data}, pointer: ${pointer(cxt)}}, ${stringify(fixed)}))`))
    },
  })
  // Read by the x-islet-ref keyword beside them; declared so strict mode accepts them.
  ajv.addKeyword({ keyword: PROVIDES_KEYWORD, schemaType: 'string', metaSchema: { type: 'string', pattern: '^[a-z0-9-]+(\\.[a-z0-9-]+)*$' } })
  ajv.addKeyword({ keyword: TRIGGER_KEYWORD, schemaType: 'string' })
  ajv.addKeyword({
    keyword: PATH_KEYWORD,
    type: 'string',
    schemaType: 'string',
    metaSchema: { enum: [...PATH_KINDS] },
    code(cxt: KeywordCxt) {
      cxt.gen.if(_`this && this.paths`, () => cxt.gen.code(
        _`this.paths.push({kind: ${stringify(cxt.schema)}, path: ${cxt.data}, pointer: ${pointer(cxt)}})`))
    },
  })
  return ajv
}

let shared: Ajv | undefined
const compiled = new WeakMap<object, ValidateFunction>()

/**
 * The validator of `schema`: once per schema object (i.e. per module or step type definition) in memory; from the
 * disk cache when this schema's code is stored there; else compiled in the shared instance (and stored). Throws
 * ajv's error when the schema itself is invalid under strict mode (an invalid schema is never stored).
 */
export function compileSchema(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema)
  if (!validate) {
    const key = storableKey(schema)
    validate = (key === undefined ? undefined : loadValidator(key)) ?? compileNow(schema, key)
    compiled.set(schema, validate)
  }
  return validate
}

function compileNow(schema: JsonSchema, key: string | undefined): ValidateFunction {
  shared ??= createConfigAjv()
  // A reloaded plugin brings a new schema object with the same $id; the old registration must give way.
  const id = schema.$id
  if (typeof id === 'string' && shared.getSchema(id)) shared.removeSchema(id)
  const validate = shared.compile(schema)
  if (key !== undefined) storeValidator(key, shared, validate)
  return validate
}

/** Validates `data` in place (defaults are filled into it) and returns the errors and the references it holds. */
export function check(schema: JsonSchema, data: unknown): CheckResult {
  const validate = compileSchema(schema)
  const found: Found = { refs: [], paths: [] }
  const isValid = validate.call(found, data) as boolean
  return { isValid, errors: isValid ? [] : [...(validate.errors ?? [])], ...found }
}

/** Splits a JSON pointer into path segments. */
export function pointerPath(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}
