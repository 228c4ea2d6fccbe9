// Module and step configs: the type resolved (with what to do when unknown), validated, references captured.
import { dirname, isAbsolute, resolve } from 'node:path'
import type { InputsContext, JsonSchema } from '@islet/sdk'
import type { Registered, Registry } from '../plugins/registry.ts'
import { messageOf } from '../errors.ts'
import { escapeOf, isWithin, outsideMessage } from './confine.ts'
import type { Diagnostic, SourceLocation } from './diagnostics.ts'
import type { Language } from '../expressions/language.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, type PathSegment } from './locate.ts'
import { schemaDiagnostics } from './schema-errors.ts'
import { didYouMean } from '../suggest.ts'
import type { References } from './types.ts'
import { check, pointerPath, type PathUse, type RefKind } from './validate.ts'

/** A place in a file that names a module, pipeline or component; checked once every file is declared. */
export interface RefSite {
  kind: RefKind
  name: string
  file: LoadedFile
  path: PathSegment[]
  /** For a module: the contract its type must provide (see validate.ts RefUse). */
  contract?: string
  /** For a pipeline: the trigger type of the runs the referencing module starts. */
  trigger?: string
}

/** Where a pipeline's expression reads a trigger's own variable (`body`, `params`, …), for the per-trigger check. */
export interface ViewUse {
  pipeline: string
  name: string
  at: SourceLocation
  path: string
}

/** What declaring collects; shared with step declaration. */
export interface Declaring {
  registry: Registry
  diagnostics: Diagnostic[]
  refs: RefSite[]
  /** The app's folder (the root file's): `app` paths must stay inside it. */
  appDir: string
  /** The engine's data directory when known (the engine, its watcher and `islet validate` pass it). */
  dataDir?: string
  /**
   * What expressions may name beyond the run's own variables and the built-in functions: the registered trigger
   * types' variables and the plugins' functions (unknown calls are reported at their file:line:col, at load).
   */
  language: Language
  viewUses: ViewUse[]
  /**
   * Inside a block, the variables its block steps declare (foreach: item, index): in `language` too, but no trigger's,
   * so their uses are not checked against the triggers that run the pipeline.
   */
  blockVariables?: ReadonlySet<string>
}

type Typed = Registered<{ type: string; configSchema: JsonSchema; inputs?(config: unknown, ctx: InputsContext): string[] }>

/** The registered type, or an unknown-type diagnostic that says what to do instead. */
export function lookupType(ctx: Declaring, file: LoadedFile, kind: 'module' | 'step', type: string,
  path: PathSegment[]): Typed | undefined {
  const registered = kind === 'module' ? ctx.registry.moduleType(type) : ctx.registry.stepType(type)
  if (registered) return registered
  const known = (kind === 'module' ? ctx.registry.moduleTypes() : ctx.registry.stepTypes()).map((r) => r.definition.type)
  const provider = ctx.registry.knownProvider(type)
  const other = kind === 'module' ? ctx.registry.stepType(type) : ctx.registry.moduleType(type)
  const hint = provider
    ? `'${type}' is provided by the plugin '${provider}', which is not loaded: install it (npm install ${provider}) and list it under plugins:`
    : other ? `'${type}' is a ${kind === 'module' ? 'step' : 'module'} type, not a ${kind} type`
    : didYouMean(type, known) ?? (known.length ? `registered ${kind} types: ${known.sort().join(', ')}` : `no ${kind} types are registered`)
  ctx.diagnostics.push(diagnosticAt(file.parsed, path,
    kind === 'module' ? 'ERR_CONFIG_UNKNOWN_MODULE_TYPE' : 'ERR_CONFIG_UNKNOWN_STEP_TYPE',
    `unknown ${kind} type '${type}'`, hint))
  return undefined
}

/**
 * Validates `config` in place against the type's schema (defaults filled) and records the names it references.
 * Undefined when the config is invalid or the type's schema cannot be compiled.
 */
export function validateConfig(ctx: Declaring, file: LoadedFile, type: Typed,
  config: Record<string, unknown>, path: PathSegment[]): References | undefined {
  let result: ReturnType<typeof check>
  try {
    result = check(type.definition.configSchema, config)
  } catch (error) {
    // The plugin's schema is at fault, not the YAML; say so, at the type that brought it in.
    ctx.diagnostics.push(diagnosticAt(file.parsed, [...path.slice(0, -1), 'type'], 'ERR_PLUGIN_INVALID',
      `type '${type.definition.type}' of plugin ${type.plugin.name}@${type.plugin.version} has an invalid configSchema: ${messageOf(error)}`,
      'report this to the plugin author'))
    return undefined
  }
  ctx.diagnostics.push(...schemaDiagnostics(file.parsed, path, result.errors))
  const outside = result.paths.map((use) => checkPath(ctx, file, use, [...path, ...pointerPath(use.pointer)]))
    .filter((d) => d !== undefined)
  ctx.diagnostics.push(...outside)
  for (const { kind, name, pointer, contract, trigger } of result.refs) {
    ctx.refs.push({ kind, name, file, path: [...path, ...pointerPath(pointer)], ...(contract ? { contract } : {}), ...(trigger ? { trigger } : {}) })
  }
  const names = (kind: RefSite['kind']) => [...new Set(result.refs.filter((r) => r.kind === kind).map((r) => r.name))]
  return result.isValid && outside.length === 0 ? { modules: names('module'), pipelines: names('pipeline'), components: names('component') } : undefined
}

/** Where a data path is resolved while the data directory is unknown: only its shape is checked then. */
const STAND_IN = resolve('/islet-data-directory')

/**
 * A diagnostic when an `x-islet-path` value leaves its folder. An `app` path resolves against the declaring file and
 * must stay in the app folder. A `data` path resolves against the data directory; before that directory is known
 * (a library caller that does not pass it), only what is certain is refused: an absolute path, or one that climbs
 * out with `..`.
 */
function checkPath(ctx: Declaring, file: LoadedFile, use: PathUse, at: PathSegment[]): Diagnostic | undefined {
  const dir = use.kind === 'app' ? ctx.appDir : ctx.dataDir
  const target = resolve(use.kind === 'app' ? dirname(file.parsed.file) : ctx.dataDir ?? STAND_IN, use.path)
  const escape = dir !== undefined ? escapeOf(dir, target)
    : isAbsolute(use.path) || !isWithin(STAND_IN, target) ? 'outside' : undefined
  if (!escape) return undefined
  const { message, hint } = outsideMessage(use.path, target, escape, { dir, kind: use.kind })
  return diagnosticAt(file.parsed, at, 'ERR_CONFIG_PATH_OUTSIDE', message, hint)
}
