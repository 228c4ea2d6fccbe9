// The registry's package schema (registry/manifest-check.ts) as a stored validator. The runtime checks every locked
// package's package.json on each start, and compiling that schema was the largest single cost of a locked start
// (more than verifying ten tarballs: integrity, signature, folder). Kept as ajv standalone code by the config
// validators' cache (validator-cache.ts), under a key naming the schema and the ajv options.
import { Ajv, type ValidateFunction } from 'ajv'
import { MANIFEST_AJV_OPTIONS, PACKAGE_SCHEMA } from '../../registry/manifest-check.ts'
import { loadValidator, storableKey, storeValidator } from './validator-cache.ts'

let validator: ValidateFunction | undefined

/** PACKAGE_SCHEMA's validator: loaded from the cache, else compiled (with the registry's options) and stored. */
export function manifestValidator(): ValidateFunction {
  if (validator) return validator
  const key = storableKey({ registryPackageSchema: PACKAGE_SCHEMA, ajvOptions: MANIFEST_AJV_OPTIONS })
  const stored = key === undefined ? undefined : loadValidator(key)
  if (stored) return (validator = stored)
  const ajv = new Ajv({ ...MANIFEST_AJV_OPTIONS, code: { source: true } })
  validator = ajv.compile(PACKAGE_SCHEMA)
  if (key !== undefined) storeValidator(key, ajv, validator)
  return validator
}
