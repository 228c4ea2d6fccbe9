// JSON Schema validation of config values: the shared ajv instance, compiled-validator cache and reference capture.
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv'
import { PATH_KEYWORD, PROVIDES_KEYWORD, REF_KEYWORD, TRIGGER_KEYWORD, type JsonSchema } from '@islet/sdk'
import { createAjv } from '../../plugins/core/ajv.ts'

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

/** Where the `x-islet-ref` and `x-islet-path` keywords report during one (synchronous) validation run. */
let collecting: RefUse[] | undefined
let collectingPaths: PathUse[] | undefined

/**
 * The ajv the engine validates config with: the `config` rules of the one ajv set-up (every error at once, defaults
 * filled, strict schemas, formats, verbose errors for readable messages), plus the `x-islet-ref` and `x-islet-path`
 * keywords, which report into this file's collectors.
 */
export function createConfigAjv(): Ajv {
  const ajv = createAjv('config')
  ajv.addKeyword({
    keyword: REF_KEYWORD,
    type: 'string',
    schemaType: 'string',
    metaSchema: { enum: [...REF_KINDS] },
    errors: false,
    validate(kind: RefUse['kind'], name: string, parent?: Record<string, unknown>, cxt?: { instancePath: string }) {
      const contract = parent?.[PROVIDES_KEYWORD]
      const trigger = parent?.[TRIGGER_KEYWORD]
      collecting?.push({
        kind, name, pointer: cxt?.instancePath ?? '', ...(typeof contract === 'string' ? { contract } : {}),
        ...(typeof trigger === 'string' ? { trigger } : {}),
      })
      return true
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
    errors: false,
    validate(kind: PathKind, path: string, _parent?: unknown, cxt?: { instancePath: string }) {
      collectingPaths?.push({ kind, path, pointer: cxt?.instancePath ?? '' })
      return true
    },
  })
  return ajv
}

let shared: Ajv | undefined
const compiled = new WeakMap<object, ValidateFunction>()

/**
 * Compiles `schema` once (cached per schema object, i.e. per module or step type definition) in the shared
 * instance. Throws ajv's error when the schema itself is invalid under strict mode.
 */
export function compileSchema(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema)
  if (!validate) {
    shared ??= createConfigAjv()
    // A reloaded plugin brings a new schema object with the same $id; the old registration must give way.
    const id = schema.$id
    if (typeof id === 'string' && shared.getSchema(id)) shared.removeSchema(id)
    validate = shared.compile(schema)
    compiled.set(schema, validate)
  }
  return validate
}

/** Validates `data` in place (defaults are filled into it) and returns the errors and the references it holds. */
export function check(schema: JsonSchema, data: unknown): CheckResult {
  const validate = compileSchema(schema)
  const refs: RefUse[] = []
  const paths: PathUse[] = []
  collecting = refs
  collectingPaths = paths
  try {
    const isValid = validate(data) as boolean
    return { isValid, errors: isValid ? [] : [...(validate.errors ?? [])], refs, paths }
  } finally {
    collecting = undefined
    collectingPaths = undefined
  }
}

/** Splits a JSON pointer into path segments. */
export function pointerPath(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}
