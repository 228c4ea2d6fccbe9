// Loading an app config: files and imports, declarations, components, references; all problems at once, or a frozen config.
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import type { Registry } from '../plugins/registry.ts'
import { declareComponents } from './components.ts'
import { checkApp } from './app-check.ts'
import { declare } from './declare.ts'
import { deepFreeze } from './deep-freeze.ts'
import { sortDiagnostics, type Diagnostic } from './diagnostics.ts'
import { loadFiles, type FileSet } from './imports.ts'
import type { Env } from './interpolate.ts'
import { loadPluginImports } from './plugin-imports.ts'
import { loadPlugins } from './plugins.ts'
import { LOCK_FILE } from '../plugins/lock-file.ts'
import { checkReferences } from './references.ts'
import { checkRouteAuth } from './route-auth.ts'
import { declareSandbox } from './sandbox.ts'
import { checkTriggerVariables, narrowVariableHints } from './triggers.ts'
import type { ApiVersion, AppConfig, ComponentDecl, ModuleDecl, PluginDecl } from './types.ts'

/** Codes that mean a config file's content is missing from the set (not parsed, not found, too large). */
const UNREADABLE = new Set<string>(['ERR_CONFIG_YAML_SYNTAX', 'ERR_CONFIG_FILE_NOT_FOUND', 'ERR_CONFIG_TOO_LARGE', 'ERR_CONFIG_ALIAS_LIMIT'])

export interface LoadOptions {
  /**
   * Decides which module and step types exist and validates their configs. The app's `plugins:` are registered into
   * a fork of it (LoadResult.registry); this one is never changed.
   */
  registry: Registry
  /** Variables for `${VAR}` interpolation; defaults to process.env. */
  env?: Env
  /** Size cap per file (default 1 MiB). */
  maxFileBytes?: number
  /**
   * The engine's data directory (absolute): database files and other `x-islet-path: data` values must resolve inside
   * it, symlinks followed. Without it, such a value is only refused when it is absolute or climbs out with `..`.
   */
  dataDir?: string
  /**
   * `--frozen-lockfile`: registry plugins are loaded exactly as islet.lock pins them; a `plugins:` map it does not
   * match is an error (ERR_PLUGIN_LOCK_DRIFT) instead of a resolution written to the lock with a warning.
   */
  frozenLockfile?: boolean
}

export interface LoadResult {
  /** Present if and only if no diagnostic is an error. */
  config?: AppConfig
  /** With `config`: the registry it was validated against (the built-ins and the app's `plugins:`), to run it with. */
  registry?: Registry
  /** Every problem found, sorted by file, line and column. */
  diagnostics: Diagnostic[]
}

/**
 * Loads `file` and its imports, validates everything against the engine's schema and the registered types' schemas,
 * and returns a deep-frozen config, or every diagnostic (never just the first).
 * @example const { config, diagnostics } = await loadConfig('app.yaml', { registry })
 */
/**
 * The registry `file`'s app runs with — the built-ins of `options.registry` plus its `plugins:` — without checking
 * the rest of the config (what `islet schema app.yaml` describes, so an editor knows the app's plugin types too).
 */
export async function loadAppRegistry(file: string, options: LoadOptions): Promise<{ registry: Registry; diagnostics: Diagnostic[] }> {
  const set = await loadFiles(resolve(file), { env: options.env ?? process.env, maxFileBytes: options.maxFileBytes })
  if (set.diagnostics.some((d) => UNREADABLE.has(d.code))) return { registry: options.registry, diagnostics: sortDiagnostics(set.diagnostics) }
  const loaded = await loadPlugins(set.files, options.registry, pluginOptions(options))
  return { registry: loaded.registry, diagnostics: sortDiagnostics(loaded.diagnostics) }
}

export async function loadConfig(file: string, options: LoadOptions): Promise<LoadResult> {
  const root = resolve(file)
  const set = await loadFiles(root, { env: options.env ?? process.env, maxFileBytes: options.maxFileBytes })
  // A file that could not be read as YAML leaves holes (its pipelines, modules, components are missing): everything
  // checked after would report the holes (`no pipeline named …`) before the cause. Report the cause alone.
  if (set.diagnostics.some((d) => UNREADABLE.has(d.code))) return { diagnostics: sortDiagnostics(set.diagnostics) }
  // Plugins first: their module and step types are what the rest of the YAML is checked against.
  const loaded = await loadPlugins(set.files, options.registry, pluginOptions(options))
  // Imports of plugins' YAML files: their packages are known now.
  if (set.pluginImports.length > 0) {
    await loadPluginImports(set, loaded.packages)
    if (set.diagnostics.some((d) => UNREADABLE.has(d.code))) return { diagnostics: sortDiagnostics([...set.diagnostics, ...loaded.diagnostics]) }
  }
  // A plugin that did not load leaves holes too: its types, functions and trigger variables would each be reported
  // unknown wherever the YAML uses them, above the one error that explains them all. Report the cause alone.
  if (loaded.diagnostics.some((d) => d.severity === 'error')) {
    return { diagnostics: sortDiagnostics([...set.diagnostics, ...loaded.diagnostics]) }
  }
  const registry = loaded.registry
  const declared = declare(set.files, registry, { dataDir: options.dataDir })
  const components = await declareComponents(set.files, loaded.packages)
  const { sandbox, diagnostics: sandboxDiagnostics } = declareSandbox(set.files)
  const names = { ...declared.names, components: components.names }
  const types = new Map(declared.modules.map((m) => [m.name, m.type]))
  const contracts = {
    typeOf: (module: string) => types.get(module),
    provides: (type: string) => (registry.moduleType(type)?.definition.provides ?? []).map((c) => c.name),
    typesProviding: (contract: string) => registry.moduleTypes()
      .filter((r) => r.definition.provides?.some((c) => c.name === contract)).map((r) => r.definition.type),
  }
  const diagnostics = [...set.diagnostics, ...loaded.diagnostics, ...declared.diagnostics, ...components.diagnostics, ...sandboxDiagnostics,
    ...checkReferences(declared.refs, names, contracts), ...checkTriggerVariables(declared.refs, declared.viewUses, registry),
    ...checkRouteAuth(set.files, declared.modules, declared.refs, contracts),
    // Last: each type's and plugin's checks across declarations, over those valid on their own.
    ...checkApp({ files: set.files, modules: declared.modules, pipelines: declared.pipelines, components: components.components,
      slots: components.slots, refs: declared.refs }, registry)]
    // A value whose interpolation failed was already reported; what else it breaks would only repeat that.
    .filter((d) => d.code.startsWith('ERR_CONFIG_ENV_') || !set.failed.has(`${d.file}\0${d.path}`))
  narrowVariableHints(diagnostics, declared.refs, registry)
  sortDiagnostics(diagnostics)
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics }
  const config: AppConfig = {
    apiVersion: set.files[0]!.value.apiVersion as ApiVersion,
    file: root,
    files: set.files.map((f) => f.parsed.file),
    ...(loaded.plugins.length > 0 ? { plugins: loaded.plugins } : {}),
    ...(loaded.packages.size > 0 || set.files.some((f) => isMap(f.value.plugins)) ? { lockFile: resolve(root, '..', LOCK_FILE) } : {}),
    modules: declared.modules,
    pipelines: declared.pipelines,
    components: components.components,
    ...(components.slots.length > 0 ? { slots: components.slots } : {}),
    componentDirectories: components.directories,
    sandbox,
    hash: hashOf(set, declared.modules, components.components, loaded.plugins, [...loaded.packages.values()].map((p) => `${p.name}@${p.version}\0${p.integrity}`)),
  }
  return { config: deepFreeze(config), registry: loaded.registry, diagnostics }
}

/**
 * sha256 over each file's name and content, then the interpolated variables (sorted), then what the files point at:
 * the components `directory:` entries found (a file added or removed there is a new config) and the modules' inputs
 * (a new migration is a new config), and each plugin's fingerprint (its module and package.json as on disk: see
 * watch-config.ts, a changed list-form plugin needs a restart), and each registry plugin's name, version and
 * integrity. Component sources are not read here: the component compiler hashes what it bundles.
 */
function hashOf(set: FileSet, modules: readonly ModuleDecl[], components: readonly ComponentDecl[],
  plugins: readonly PluginDecl[], packages: readonly string[]): string {
  const hash = createHash('sha256')
  for (const { name, text } of set.texts) hash.update(`${name}\0${text.length}\0${text}\0`)
  for (const [name, value] of [...set.env].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(value === undefined ? `${name}\0unset\0` : `${name}=${value.length}\0${value}\0`)
  }
  for (const c of components) hash.update(`component\0${c.name}\0${c.file}\0`)
  for (const m of modules) for (const input of m.inputs ?? []) hash.update(`input\0${m.name}\0${input.path}\0${input.fingerprint}\0`)
  for (const p of plugins) hash.update(`plugin\0${p.name}\0${p.version}\0${p.file}\0${p.fingerprint}\0`)
  // Registry plugins by exact bytes: a new locked version is a new config, whatever of it the app uses.
  for (const p of packages) hash.update(`package\0${p}\0`)
  return hash.digest('hex')
}

function pluginOptions(options: LoadOptions): { dataDir?: string; frozen?: boolean } {
  return { ...(options.dataDir ? { dataDir: options.dataDir } : {}), ...(options.frozenLockfile ? { frozen: true } : {}) }
}

function isMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
