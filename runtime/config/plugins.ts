// The app's `plugins:` list: each entry resolved (a path inside the app folder or an installed package), imported,
// checked, and registered into a fork of the engine's registry through the same register() as the built-ins, before
// any module or step type is looked up, so the YAML is validated against the plugins' types. Every problem is
// reported at its entry's file:line:col, or, for a syntax error in the plugin, at the plugin's own.
// The map form (registry plugins by semver range, pinned by islet.lock) is registry-plugins.ts's, into the same fork.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, relative } from 'node:path'
// Three functions, not the whole package (semver's index is 47 modules; `islet validate` loads this).
import satisfies from 'semver/functions/satisfies.js'
import valid from 'semver/functions/valid.js'
import validRange from 'semver/ranges/valid.js'
import { SERVICE_NAMES, isRecord, type Plugin } from '@islet/sdk'
import { isIsletError, messageOf, type ErrorCode } from '../errors.ts'
import { importPlugin } from '../plugins/import-plugin.ts'
import type { Registry } from '../plugins/registry.ts'
import type { Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, type PathSegment } from './locate.ts'
import { isPathEntry, packageName, resolvePackageEntry, resolvePathEntry, type EntryResolution } from './plugin-entry.ts'
import { didYouMean } from '../suggest.ts'
import type { PluginDecl } from './types.ts'
import type { MaterializedPlugin } from './registry-plugins.ts'
import { dataDirOf } from './data-dir.ts'

export interface LoadedPlugins {
  /** The registry to validate and run the app with: `base` itself when the app lists no plugins, else a fork. */
  registry: Registry
  plugins: PluginDecl[]
  diagnostics: Diagnostic[]
  /** Registry plugins (the `plugins:` map), by name: their folders, for components and imports from them. */
  packages: Map<string, MaterializedPlugin>
}

export interface PluginLoadOptions {
  /** Where registry plugins are extracted and cached (default: ISLET_DATA_DIR, else ./data). */
  dataDir?: string
  /** `--frozen-lockfile`: a plugins: map that islet.lock does not match is an error, and the lock is never written. */
  frozen?: boolean
}

/** One `plugins:` entry as written, in its string or object form. */
interface Entry {
  written: string
  kind: 'path' | 'package'
  version?: string
  /** Where to report problems with the entry as a whole, and with its `version:`. */
  at: PathSegment[]
  versionAt: PathSegment[]
}

/** Loads every file's `plugins:` entries, root first, in order. Never throws for a problem with a plugin. */
export async function loadPlugins(files: readonly LoadedFile[], base: Registry, options: PluginLoadOptions = {}): Promise<LoadedPlugins> {
  const listed = files.flatMap((file) => (Array.isArray(file.value.plugins) ? file.value.plugins : [])
    .map((raw: unknown, i: number) => ({ file, raw, i, entry: entryOf(raw, i) })))
  const mapped = files.some((f) => isRecord(f.value.plugins)) // the map form: registry plugins, pinned by islet.lock
  if (listed.length === 0 && !mapped) return { registry: base, plugins: [], diagnostics: [], packages: new Map() }
  const registry = base.fork()
  const appDir = dirname(files[0]!.parsed.file)
  const plugins: PluginDecl[] = []
  const diagnostics: Diagnostic[] = []
  const firstByName = new Map<string, string>()
  for (const { file, raw, i, entry } of listed) {
    if (!entry) {
      const problem = entryShapeProblem(file, raw, i)
      if (problem) diagnostics.push(problem)
      continue
    }
    const report = (code: ErrorCode, message: string, hint?: string, path = entry.at) =>
      void diagnostics.push(diagnosticAt(file.parsed, path, code, message, hint))
    const resolved: EntryResolution = entry.kind === 'path'
      ? await resolvePathEntry(entry.written, dirname(file.parsed.file), appDir)
      : await resolvePackageEntry(entry.written, appDir)
    if ('failure' in resolved) { report(resolved.failure.code, resolved.failure.message, resolved.failure.hint); continue }

    let exported: unknown
    try {
      exported = await importPlugin(resolved.file)
    } catch (error) {
      diagnostics.push(importFailure(error, file, entry, relative(appDir, resolved.file) || resolved.file))
      continue
    }
    const problem = checkPlugin(exported)
    if (problem) { report(problem.code, `'${entry.written}' ${problem.message}`, problem.hint); continue }
    const plugin = exported as Plugin
    const id = `${plugin.name}@${plugin.version}`

    if (entry.version !== undefined) {
      if (!validRange(entry.version)) {
        report('ERR_CONFIG_SCHEMA', `version '${entry.version}' is not a semver range`, 'write a range such as ^1.2.0 or >=1.0.0 <2', entry.versionAt)
        continue
      }
      if (!satisfies(plugin.version, entry.version, { includePrerelease: true })) {
        report('ERR_PLUGIN_VERSION_MISMATCH', `'${entry.written}' is ${id}, not in the range ${entry.version} this entry asks for`,
          entry.kind === 'package' ? `install a matching version (npm install '${packageName(entry.written)}@${entry.version}') or change the range`
            : 'update the plugin\'s files to a matching version, or change the range', entry.versionAt)
        continue
      }
    }
    const entryAt = locate(file.parsed, entry.at)
    const here = `${file.name}:${entryAt.line}:${entryAt.col}`
    const first = firstByName.get(plugin.name) ??
      (registry.plugins().some((p) => p.name === plugin.name) ? 'a built-in plugin' : undefined)
    if (first) {
      report('ERR_CONFIG_DUPLICATE_PLUGIN', `plugin '${plugin.name}' is loaded twice: by ${first} and by '${entry.written}' at ${here}`,
        'list each plugin once; a plugin cannot share its name with a built-in one')
      continue
    }
    try {
      registry.register(plugin)
    } catch (error) {
      const code = isIsletError(error) ? error.code : 'ERR_PLUGIN_INVALID'
      report(code, messageOf(error), registerHint(code, entry, registry.engineVersion))
      continue
    }
    firstByName.set(plugin.name, `'${entry.written}' at ${here}`)
    plugins.push({ name: plugin.name, version: plugin.version, entry: entry.written, file: resolved.file,
      ...(resolved.packageJson ? { packageJson: resolved.packageJson } : {}),
      fingerprint: fingerprint(resolved.file, resolved.packageJson), source: entryAt })
  }
  if (!mapped) return { registry, plugins, diagnostics, packages: new Map() }
  // Loaded only for an app that uses the map form: the registry client, undici and the embedded registry behind them
  // were ~250 of the ~650 modules every start loaded, a plugin-less app's too (test/start-imports.test.ts).
  const { loadRegistryPlugins } = await import('./registry-plugins.ts')
  const fromRegistry = await loadRegistryPlugins(files, registry, { dataDir: options.dataDir ?? dataDirOf(undefined, process.env),
    ...(options.frozen ? { frozen: true } : {}) })
  return { registry, plugins: [...plugins, ...fromRegistry.decls], diagnostics: [...diagnostics, ...fromRegistry.diagnostics],
    packages: fromRegistry.plugins }
}

/** The one shape of an entry FILE_SCHEMA lets through (its strict mode refuses `required` inside a oneOf). */
function entryShapeProblem(file: LoadedFile, raw: unknown, i: number): Diagnostic | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const { package: pkg, path } = raw as Record<string, unknown>
  if (typeof pkg === 'string' && typeof path === 'string') {
    return diagnosticAt(file.parsed, ['plugins', i], 'ERR_CONFIG_SCHEMA', 'a plugin entry has both package: and path:',
      'keep one: package: for an installed package, path: for the app\'s own folder')
  }
  if (pkg === undefined && path === undefined && Object.keys(raw).length > 0) { // `{}` is the schema's (minProperties)
    return diagnosticAt(file.parsed, ['plugins', i], 'ERR_CONFIG_SCHEMA', 'a plugin entry needs package: or path:',
      'e.g. { package: \'@acme/islet-ratelimit\', version: ^1.0.0 } or { path: ./plugins/ratelimit }')
  }
  return undefined
}

/** A plugin whose module failed to import: at its own file:line:col for a syntax error, else at the entry. */
function importFailure(error: unknown, file: LoadedFile, entry: Entry, shown: string): Diagnostic {
  const location = isIsletError(error) ? error.details.location as { file: string; line: number; col: number } | undefined : undefined
  if (!location) {
    return diagnosticAt(file.parsed, entry.at, 'ERR_PLUGIN_LOAD_FAILED', `plugin '${entry.written}' (${shown}) ${messageOf(error)}`,
      'the plugin\'s own code failed: see the message, fix it or install a fixed version')
  }
  const entryAt = locate(file.parsed, entry.at)
  return { ...location, severity: 'error', code: 'ERR_PLUGIN_LOAD_FAILED', path: '',
    message: `plugin '${entry.written}' (${file.name}:${entryAt.line}:${entryAt.col}): ${messageOf(error)}`,
    hint: /strip-only mode/.test(messageOf(error))
      // Node runs a .ts plugin by erasing its types, which leaves syntax that would need compiling (enum, namespace,
      // parameter properties) as an error that names a mode the author never chose.
      ? 'a .ts plugin runs as Node strips its types: use erasable TypeScript only (a const object instead of an enum, ' +
        'a module instead of a namespace, fields assigned in the constructor instead of parameter properties)'
      : 'fix the plugin\'s source (or install a fixed version of it)' }
}

function entryOf(raw: unknown, i: number): Entry | undefined {
  if (typeof raw === 'string' && raw) {
    return { written: raw, kind: isPathEntry(raw) ? 'path' : 'package', at: ['plugins', i], versionAt: ['plugins', i] }
  }
  if (typeof raw !== 'object' || raw === null) return undefined
  const { package: pkg, path, version } = raw as Record<string, unknown>
  if ((typeof pkg === 'string') === (typeof path === 'string')) return undefined // both or neither: the schema says so
  const kind = typeof pkg === 'string' ? 'package' : 'path'
  const written = (pkg ?? path) as string
  return { written, kind, ...(typeof version === 'string' ? { version } : {}), at: ['plugins', i, kind],
    versionAt: ['plugins', i, typeof version === 'string' ? 'version' : kind] }
}

/** What is wrong with an export that should be a definePlugin(…) object, beyond what register() checks. */
function checkPlugin(value: unknown): { code: ErrorCode; message: string; hint: string } | undefined {
  const shape = 'export default definePlugin({ name, version, islet, moduleTypes, stepTypes, services }) from @islet/sdk'
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { code: 'ERR_PLUGIN_LOAD_FAILED', message: `exports no plugin: its default export (or export 'plugin') is ${value === undefined ? 'missing' : `a ${Array.isArray(value) ? 'list' : typeof value}`}`,
      hint: shape }
  }
  const p = value as Record<string, unknown>
  if (typeof p.name !== 'string' || !p.name) return { code: 'ERR_PLUGIN_INVALID', message: 'exports a plugin without a name', hint: shape }
  if (typeof p.version !== 'string' || !valid(p.version)) {
    return { code: 'ERR_PLUGIN_INVALID', message: `exports plugin '${p.name}' without a semver version (version: ${JSON.stringify(p.version)})`,
      hint: "give it a version such as '1.0.0'" }
  }
  for (const list of ['moduleTypes', 'stepTypes', 'triggers', 'services'] as const) {
    if (p[list] !== undefined && !Array.isArray(p[list])) {
      return { code: 'ERR_PLUGIN_INVALID', message: `plugin ${p.name}@${p.version}: ${list} must be a list`, hint: shape }
    }
  }
  const known: readonly string[] = SERVICE_NAMES
  for (const service of (p.services as unknown[] | undefined) ?? []) {
    if (typeof service === 'string' && known.includes(service)) continue
    return { code: 'ERR_PLUGIN_INVALID', message: `plugin ${p.name}@${p.version} declares an unknown engine service '${String(service)}'`,
      hint: `${didYouMean(String(service), known) ?? ''} the engine's services are ${known.join(', ')}`.trim() }
  }
  return undefined
}

function registerHint(code: ErrorCode, entry: Entry, engineVersion: string): string {
  if (code === 'ERR_PLUGIN_ENGINE_MISMATCH') {
    return entry.kind === 'package'
      ? `install a version of ${packageName(entry.written)} whose islet range includes ${engineVersion}, or run an islet it supports`
      : `update the plugin's islet range if it works with islet ${engineVersion}, or run an islet it supports`
  }
  if (code === 'ERR_PLUGIN_CONFLICT') return 'two plugins cannot provide the same type: remove one of them from plugins:, or rename the type in your own plugin'
  return "the plugin's definePlugin(…) declaration is at fault: fix it, or report it to the plugin's author"
}

function fingerprint(file: string, packageJson: string | undefined): string {
  const hash = createHash('sha256')
  for (const path of [file, packageJson]) if (path) hash.update(`${path}\0${readFileSync(path)}\0`)
  return hash.digest('hex')
}
