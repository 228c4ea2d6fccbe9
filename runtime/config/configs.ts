// Module and step configs: the type resolved (with what to do when unknown), validated, references captured.
import type { InputsContext, JsonSchema } from '@islet/sdk'
import type { Registered, Registry } from '../plugins/registry.ts'
import { messageOf } from '../errors.ts'
import type { Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, type PathSegment } from './locate.ts'
import { schemaDiagnostics } from './schema-errors.ts'
import { didYouMean } from './suggest.ts'
import type { References } from './types.ts'
import { check, pointerPath, type RefKind } from './validate.ts'

/** A place in a file that names a module, pipeline or component; checked once every file is declared. */
export interface RefSite {
  kind: RefKind
  name: string
  file: LoadedFile
  path: PathSegment[]
}

/** What declaring collects; shared with step declaration. */
export interface Declaring {
  registry: Registry
  diagnostics: Diagnostic[]
  refs: RefSite[]
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
    ? `'${type}' is provided by the plugin '${provider}', which is not loaded: install it and add it to the registry`
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
  for (const { kind, name, pointer } of result.refs) ctx.refs.push({ kind, name, file, path: [...path, ...pointerPath(pointer)] })
  const names = (kind: RefSite['kind']) => [...new Set(result.refs.filter((r) => r.kind === kind).map((r) => r.name))]
  return result.isValid ? { modules: names('module'), pipelines: names('pipeline'), components: names('component') } : undefined
}
