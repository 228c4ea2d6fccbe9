// JSON Schema helpers for config authors: references to other modules and pipelines, and runtime expressions.
import type { Contract } from './contract.ts'

/** A JSON Schema object (draft 2020-12 subset accepted by ajv); kept loose so plain literals type-check. */
export type JsonSchema = { readonly [keyword: string]: unknown }

/** The schema keyword through which a string property declares that it names another module or pipeline. */
export const REF_KEYWORD = 'x-islet-ref'

/**
 * The schema keyword through which a string property declares that it is a file or folder path: `app` for one
 * relative to the YAML file that holds it, which must stay inside the app's folder; `data` for one relative to the
 * engine's data directory, which must stay inside it. The engine refuses any other, symlinks resolved, at load.
 */
export const PATH_KEYWORD = 'x-islet-path'

/**
 * A config property naming a file or folder of the app (relative to the YAML file that declares it); the engine
 * refuses one outside the app's folder. Resolve it with `ctx.resolvePath`.
 * @example migrations: appPath('folder of NNN_description.sql files')
 */
export function appPath(description?: string): JsonSchema {
  return { type: 'string', minLength: 1, [PATH_KEYWORD]: 'app', ...(description ? { description } : {}) }
}

/**
 * A config property naming a file in the engine's data directory (relative to it, or absolute inside it); the
 * engine refuses one outside the data directory. Resolve it against `ctx.dataDir`.
 * @example file: dataPath('database file')
 */
export function dataPath(description?: string): JsonSchema {
  return { type: 'string', minLength: 1, [PATH_KEYWORD]: 'data', ...(description ? { description } : {}) }
}

/** The schema keyword through which a `moduleRef` names the contract the referenced module's type must provide. */
export const PROVIDES_KEYWORD = 'x-islet-provides'

/** The schema keyword through which a `pipelineRef` names the trigger type that runs the referenced pipeline. */
export const TRIGGER_KEYWORD = 'x-islet-trigger'

/** Matches a string that is exactly one runtime expression, `${{ … }}`. */
export const EXPRESSION_PATTERN = '^\\s*\\$\\{\\{[\\s\\S]*\\}\\}\\s*$'

/**
 * A config property naming another module. The engine checks the name exists (with "did you mean"), that its type
 * provides `contract` when one is given (at the YAML's file:line:col), and starts the named module before the one
 * that references it.
 * @example configSchema: { properties: { db: moduleRef('the database to query', sqlDatabase) } }
 */
export function moduleRef(description?: string, contract?: Contract<any>): JsonSchema {
  return {
    type: 'string', minLength: 1, [REF_KEYWORD]: 'module', ...(contract ? { [PROVIDES_KEYWORD]: contract.name } : {}),
    ...(description ? { description } : {}),
  }
}

/**
 * A config property naming a pipeline. The engine checks it exists and starts every module the pipeline's steps
 * use before the referencing module. `trigger` names the TriggerType of the runs this module starts: the pipeline's
 * expressions are checked against that trigger's variables when the config loads.
 * @example routes: { items: { properties: { pipeline: pipelineRef() } } }
 */
export function pipelineRef(description?: string, options?: { trigger?: string }): JsonSchema {
  return {
    type: 'string', minLength: 1, [REF_KEYWORD]: 'pipeline', ...(options?.trigger ? { [TRIGGER_KEYWORD]: options.trigger } : {}),
    ...(description ? { description } : {}),
  }
}

/**
 * A config property naming a component declared in the app's `components:` section; checked with "did you mean".
 * @example component: componentRef('the component to call')
 */
export function componentRef(description?: string): JsonSchema {
  return { type: 'string', minLength: 1, [REF_KEYWORD]: 'component', ...(description ? { description } : {}) }
}

/**
 * A step config property that is either a literal matching `schema` or a runtime expression `${{ … }}`
 * evaluated per run (compile it with `ctx.compile`).
 * @example status: expressionOr({ type: 'integer', minimum: 100, maximum: 599 })
 */
export function expressionOr(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'string', pattern: EXPRESSION_PATTERN, description: 'a runtime expression ${{ … }}' }] }
}
