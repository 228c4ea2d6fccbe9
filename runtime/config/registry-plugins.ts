// The `plugins:` map form: registry plugins by semver range, pinned by islet.lock. Each locked plugin is
// materialized (verified and extracted by the registry client, through plugins/locked-plugins.ts) and checked
// against what the app allows before anything of it runs: its engine range, host code only with `host: true`,
// engine services only those the entry lists (host-plugin.ts). Components and YAML files of a package are used later
// (plugin-components.ts, plugin-imports.ts) from the folder this returns; only host code is imported here.
import { readdirSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import satisfies from 'semver/functions/satisfies.js'
import validRange from 'semver/ranges/valid.js'
import { isRecord } from '@islet/sdk'
import { checkManifest } from '../../registry/manifest-check.ts'
import { manifestValidator } from './manifest-validator.ts'
import type { PluginPackageJson } from '../../registry/manifest.ts'
import { messageOf } from '../errors.ts'
import { LOCK_FILE, materialize, openSources, type LockedPlugin, type MaterializeContext } from '../plugins/locked-plugins.ts'
import type { Registry } from '../plugins/registry.ts'
import { escapeOf } from './confine.ts'
import { codeOfThrown, type Diagnostic, type DiagnosticCode, type SourceLocation } from './diagnostics.ts'
import { loadHostCode } from './host-plugin.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate } from './locate.ts'
import { hintOf, lockedClosure, reachingEntry, reconcileLock } from './plugin-lock.ts'
import { collectRequests, registriesOf, type PluginRequest } from './plugin-requests.ts'
import type { PluginDecl } from './types.ts'
import { REGISTRY_URL } from './schema.ts'

export interface RegistryPluginOptions {
  dataDir: string
  /** `--frozen-lockfile`: any difference between plugins: and islet.lock is an error, and the lock is never written. */
  frozen?: boolean
}

/** A registry plugin ready for use: its folder and manifest, and where the app asked for it. */
export interface MaterializedPlugin {
  name: string
  version: string
  dir: string
  packageJson: PluginPackageJson
  integrity: string
  /** The `plugins:` entry that asked for it (for a plugin pulled in by another, the app's first entry). */
  source: SourceLocation
}

export interface RegistryPluginsResult {
  plugins: Map<string, MaterializedPlugin>
  /** Those with host code, registered into the registry: what the engine runs and the config hash covers. */
  decls: PluginDecl[]
  diagnostics: Diagnostic[]
}

/** Whether any file uses the map form: only then is the lock read. */
export function usesRegistryPlugins(files: readonly LoadedFile[]): boolean {
  return files.some((f) => isRecord(f.value.plugins))
}

/** Loads the app's registry plugins into `registry` (host code) and the result (folders). Never throws for a plugin. */
export async function loadRegistryPlugins(files: readonly LoadedFile[], registry: Registry, options: RegistryPluginOptions): Promise<RegistryPluginsResult> {
  const result: RegistryPluginsResult = { plugins: new Map(), decls: [], diagnostics: [] }
  const root = files[0]!
  const requests = collectRequests(files, result.diagnostics)
  if (requests.size === 0) return result
  const appDir = resolve(root.parsed.file, '..')
  const registries = registriesOf(files, requests.values(), result.diagnostics)
  if (result.diagnostics.some((d) => d.severity === 'error')) return result
  let opened
  try {
    opened = openSources(withoutRefused(registries), options.dataDir)
  } catch (error) {
    const at = files.find((f) => isRecord(f.value.registries)) ?? root
    result.diagnostics.push(diagnosticAt(at.parsed, ['registries'], codeOfThrown(error, 'ERR_CONFIG_SCHEMA'), messageOf(error), hintOf(error)))
    return result
  }
  try {
    await loadLocked(requests, root, appDir, registry, { dataDir: options.dataDir, appDir, sources: opened.map, engineVersion: registry.engineVersion },
      options.frozen === true, result)
  } finally {
    opened.close()
  }
  return result
}

async function loadLocked(requests: Map<string, PluginRequest>, root: LoadedFile, appDir: string, registry: Registry, context: MaterializeContext,
  frozen: boolean, result: RegistryPluginsResult): Promise<void> {
  const lock = await reconcileLock(requests, root, context, frozen, result.diagnostics)
  if (!lock) return

  for (const name of lockedClosure(requests.keys(), lock)) {
    const entry = lock.plugins[name]!
    const request = requests.get(name)
    // A plugin pulled in by another is reported at the app's entry that leads to it (the lock says who needs it).
    const asker = request ?? reachingEntry(name, requests, lock) ?? requests.values().next().value!
    const fail = (code: DiagnosticCode, message: string, hint?: string) => void result.diagnostics.push(diagnosticAt(asker.file.parsed, asker.at, code, message, hint))
    let materialized
    try {
      materialized = await materialize(name, lock, context)
    } catch (error) {
      const engine = engineOf(error)
      // An engine mismatch reads as it does for any plugin; every other refusal keeps the client's code and words.
      if (engine) fail(...engineMismatch(name, entry.version, engine, registry.engineVersion))
      else fail(codeOfThrown(error, 'ERR_PLUGIN_LOAD_FAILED'), messageOf(error), hintOf(error))
      continue
    }
    const { dir, packageJson: pkg } = materialized
    const id = `${name}@${entry.version}`
    const problem = manifestProblem(name, entry, pkg, dir)
    if (problem) {
      fail('ERR_PLUGIN_MANIFEST', `${id}: ${problem}`, 'the package is malformed: report it to its author, or pin another version')
      continue
    }
    const { engine, host } = pkg.islet
    if (!satisfies(registry.engineVersion, engine, { includePrerelease: true })) {
      fail(...engineMismatch(name, entry.version, engine, registry.engineVersion))
      continue
    }
    const source = locate(asker.file.parsed, asker.at)
    if (host !== undefined) {
      const refused = await loadHostCode(pkg, dir, host, request, registry, appDir)
      if (refused) { fail(refused.code, refused.message, refused.hint); continue }
      result.decls.push({ name, version: entry.version, entry: name, file: join(dir, host), packageJson: join(dir, 'package.json'),
        fingerprint: entry.integrity, source, locked: true })
    }
    result.plugins.set(name, { name, version: entry.version, dir, packageJson: pkg, integrity: entry.integrity, source })
    // Deprecated and yanked versions still load when locked ("installable when locked"), with a warning at each load:
    // the lock carries the standing (no packument is read here), refreshed by islet plugin upgrade|list.
    const warn = (code: DiagnosticCode, message: string) => void result.diagnostics.push({ ...diagnosticAt(asker.file.parsed, asker.at, code, message,
      `move to another version: islet plugin upgrade ${asker.name}${request ? '' : ` (it re-resolves what ${asker.name} needs)`}, with --latest to cross a major version`), severity: 'warning' })
    if (entry.deprecated !== undefined) warn('ERR_PLUGIN_DEPRECATED', `${id} is deprecated: ${entry.deprecated}`)
    if (entry.yanked !== undefined) {
      warn('ERR_PLUGIN_YANKED', `${id} is yanked${entry.yanked ? `: ${entry.yanked}` : ''}; it loads because ${LOCK_FILE} pins it, and no range would choose it again`)
    }
  }
}

function engineMismatch(name: string, version: string, engine: string, engineVersion: string): [DiagnosticCode, string, string] {
  return ['ERR_PLUGIN_ENGINE_MISMATCH', `${name}@${version} needs islet ${engine}, this is islet ${engineVersion}`,
    `pin a version of ${name} whose islet range includes ${engineVersion} (islet plugin upgrade ${name}), or run an islet in ${engine}`]
}

/** The engine range of the client's ERR_REGISTRY_ENGINE_MISMATCH, if that is what `error` is. */
function engineOf(error: unknown): string | undefined {
  if (codeOfThrown(error, 'ERR_PLUGIN_LOAD_FAILED') !== 'ERR_REGISTRY_ENGINE_MISMATCH') return undefined
  const engine = (error as { details?: { engine?: unknown } }).details?.engine
  return typeof engine === 'string' ? engine : String(engine)
}

/**
 * What is wrong with a package as the runtime reads it, or undefined. The registry's own publish rules apply again
 * (checkManifest): a lock may name a package from a registry that never checked them, and a `host: 42` or a
 * `services: 'events'` must be a refusal here, not a crash or a comparison that sees nothing.
 */
function manifestProblem(name: string, entry: LockedPlugin, pkg: PluginPackageJson, dir: string): string | undefined {
  if (pkg.name !== name || pkg.version !== entry.version) return `its package.json says ${pkg.name}@${pkg.version}`
  if (!isRecord(pkg.islet)) return 'its package.json has no islet field'
  const [problem] = checkManifest(pkg, filesIn(dir), { validate: manifestValidator() })
  if (problem) return `${problem.path || 'package.json'}: ${problem.message}`
  if (typeof pkg.islet.engine !== 'string' || !validRange(pkg.islet.engine)) return `islet.engine ${JSON.stringify(pkg.islet.engine)} is not a semver range`
  const paths = [pkg.islet.host, ...Object.values(pkg.islet.components ?? {}).map((c) => c.file), ...(pkg.islet.yaml ?? [])]
  const outside = paths.find((p) => typeof p === 'string' && escapeOf(dir, join(dir, p)))
  return outside === undefined ? undefined : `'${outside}' leads outside the package`
}

/** The package's files, package-relative with `/`, as checkManifest compares paths with a tarball's. */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
}

const REGISTRY_VALUE = new RegExp(REGISTRY_URL)

/**
 * The `registries:` values the file schema accepts. One it refuses is reported there, at its line; left out here,
 * the plugins still load from what the lock pins, so that one error does not bring a second about each plugin.
 */
function withoutRefused<T>(registries: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(registries).filter(([, spec]) => {
    const url = isRecord(spec) ? spec.url : spec
    return typeof url === 'string' && REGISTRY_VALUE.test(url)
  }))
}
