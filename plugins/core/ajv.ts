// The one ajv set-up: every JSON Schema the engine or a sandbox worker evaluates is compiled by an Ajv made here,
// under one of four named rule sets, so a format, a keyword or a cost bound is added in one place:
//   config  operator config (engine, module and step configs) against plugin schemas: strict (a plugin schema with a
//           typo fails to compile), verbose (each error keeps its data and schema: runtime/config/schema-errors.ts
//           turns them into located diagnostics), every error, defaults filled.
//   step    a `validate` step's schema, run on request data on the engine's event loop: linear-time parts
//           (schema-vet.ts), unknown keywords and formats refused, loose types allowed; draft 2020-12 on request.
//   guest   a component's input, output and config schemas, run in a sandbox worker: linear-time parts, not strict
//           (the author's schema is vetted and checked against the meta-schema; ajv's strict mode would refuse merely
//           loose ones).
//   meta    checks guest schemas against the draft-07 meta-schema (validateSchema) and compiles none: shared, so the
//           meta-schema is compiled once per worker, not once per guest schema.
// Lives in plugins/core so the core plugin, the runtime and the sandbox worker (which may read only this folder's
// schema files, see runtime/sandbox/worker-process.ts) share it: runtime depends on plugins, never the reverse.
//
// ajv and ajv-formats are required when the first Ajv is made, not imported with this file: they are some seventy
// modules (~35 ms), and `islet validate` on an app whose config validators are cached (runtime/config/
// validator-cache.ts) makes none. Required, not `await import`ed, so that making an Ajv stays synchronous.
import { createRequire } from 'node:module'
import type { Ajv, Options } from 'ajv'
import type formatsPlugin from 'ajv-formats'
import { linearRegExp, makeLinear } from './schema-vet.ts'

const require = createRequire(import.meta.url)
let loaded: { Ajv: typeof Ajv; formats: typeof formatsPlugin.default } | undefined

function ajvPackages(): { Ajv: typeof Ajv; formats: typeof formatsPlugin.default } {
  loaded ??= { Ajv: (require('ajv') as typeof import('ajv')).Ajv, formats: (require('ajv-formats') as typeof formatsPlugin).default }
  return loaded
}

export type AjvRules = 'config' | 'step' | 'guest' | 'meta'

export interface AjvOptions {
  /** Every error (for a listing), or stop at the first (the check every value runs). Default true. */
  allErrors?: boolean
  /** Fill `default`s into the validated value. `config` always does. */
  useDefaults?: boolean
  /** `step`: the draft the schema's `$schema` names; 2020-12 needs ajv's other class. Default draft-07. */
  draft?: '07' | '2020-12'
  /** `step`: where ajv's strict-mode warnings go. */
  logger?: Options['logger']
  /** `step`: convert text to the schema's types (a lone value to a one-element array) and fill defaults: query and
   * route parameters are text whatever the schema says. */
  coerce?: boolean
  /** `guest`: false when the schema was checked against the meta-schema already (by a `meta` instance). */
  validateSchema?: boolean
}

/** A new Ajv for `rules`. One per schema where $ids must not collide (steps, guests); `config` shares one. */
export function createAjv(rules: AjvRules, options: AjvOptions = {}): Ajv {
  const allErrors = options.allErrors ?? true
  const { Ajv, formats } = ajvPackages()
  switch (rules) {
    case 'config': {
      // passContext: the x-islet-* keywords report into the object a check calls the validator with (`this`).
      // code.source: the generated code is kept, so runtime/config/validator-cache.ts can store it.
      const ajv = new Ajv({ allErrors, useDefaults: true, strict: true, verbose: true, passContext: true, code: { source: true } })
      formats(ajv)
      return ajv
    }
    case 'meta':
      return new Ajv({ allErrors, strict: false, useDefaults: options.useDefaults ?? false })
    case 'guest':
      return linear(new Ajv({ allErrors, strict: false, useDefaults: options.useDefaults ?? false,
        validateSchema: options.validateSchema ?? true, code: { regExp: linearRegExp } }))
    case 'step': {
      const settings: Options = {
        allErrors,
        code: { regExp: linearRegExp },
        // Unknown keywords and formats fail (a typo such as `minimun` must not silently accept everything); the
        // type-strictness checks would also reject schemas that are merely loose, so they stay off.
        strict: true,
        strictTypes: false,
        strictTuples: false,
        strictRequired: false,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.coerce ? { coerceTypes: 'array' as const, useDefaults: true } : {}),
      }
      return linear(options.draft === '2020-12' ? new (ajv2020())(settings) : new Ajv(settings))
    }
  }
}

/** Formats, then the linear-time replacements of ajv's superlinear parts (which wrap those formats). */
function linear(ajv: Ajv): Ajv {
  ajvPackages().formats(ajv)
  makeLinear(ajv)
  return ajv
}

let Ajv2020: typeof Ajv | undefined

/**
 * ajv's 2020-12 class, loaded the first time a schema asks for it: its vocabularies and meta-schemas cost every
 * sandbox worker start ~5–10 ms, and only a `validate` step naming 2020-12 uses them.
 */
function ajv2020(): typeof Ajv {
  Ajv2020 ??= (require('ajv/dist/2020.js') as { Ajv2020: typeof Ajv }).Ajv2020
  return Ajv2020
}
