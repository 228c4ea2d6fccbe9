// The `plugins:` map form: registry plugins by semver range, pinned by islet.lock. Each locked plugin is
// materialized (verified and extracted by the registry client, through plugins/locked-plugins.ts) and checked
// against what the app allows before anything of it runs: its engine range, host code only with `host: true`,
// engine services only those the entry lists. Components and YAML files of a package are used later (components.ts,
// imports.ts) from the folder this returns; only host code is imported here, into the registry fork.
import { join, relative, resolve } from 'node:path'
import satisfies from 'semver/functions/satisfies.js'
import validRange from 'semver/ranges/valid.js'
import { isRecord, type Plugin } from '@islet/sdk'
import type { PluginPackageJson } from '../../registry/manifest.ts'
import { isIsletError, messageOf, type ErrorCode } from '../errors.ts'
import { importPlugin } from '../plugins/import-plugin.ts'
import { materialize, readLock, resolvePlugins, writeLock, LOCK_FILE, type LockEntry, type Lockfile,
  type MaterializeContext, type RegistrySource, type RegistrySources } from '../plugins/locked-plugins.ts'
import type { Registry } from '../plugins/registry.ts'
import { escapeOf } from './confine.ts'
import type { Diagnostic, SourceLocation } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, type PathSegment } from './locate.ts'
import { PLUGIN_NAME as PLUGIN_NAME_PATTERN } from './schema.ts'
import type { PluginDecl } from './types.ts'

const PLUGIN_NAME = new RegExp(PLUGIN_NAME_PATTERN)

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
  /** The `plugins:` entry that asked for it (for a plugin pulled in by another, that plugin's entry). */
  source: SourceLocation
}

export interface RegistryPluginsResult {
  plugins: Map<string, MaterializedPlugin>
  /** Those with host code, registered into the registry: what the engine runs and the config hash covers. */
  decls: PluginDecl[]
  diagnostics: Diagnostic[]
}

/** One map entry as written. */
interface Request {
  name: string
  range: string
  host: boolean
  services: string[]
  /** Its entry's `registry:` (a URL or 'embedded'). */
  registry?: string
  file: LoadedFile
  at: PathSegment[]
}

/** Whether any file uses the map form (or `registries:`): only then is the lock read. */
export function usesRegistryPlugins(files: readonly LoadedFile[]): boolean {
  return files.some((f) => isRecord(f.value.plugins))
}

export async function loadRegistryPlugins(files: readonly LoadedFile[], registry: Registry, options: RegistryPluginOptions): Promise<RegistryPluginsResult> {
  const result: RegistryPluginsResult = { plugins: new Map(), decls: [], diagnostics: [] }
  const root = files[0]!
  const appDir = resolve(root.parsed.file, '..')
  const report = (file: LoadedFile, at: PathSegment[], code: ErrorCode, message: string, hint?: string, severity: 'error' | 'warning' = 'error') =>
    void result.diagnostics.push({ ...diagnosticAt(file.parsed, at, code, message, hint), severity })

  const requests = new Map<string, Request>()
  for (const file of files) {
    if (!isRecord(file.value.plugins)) continue
    for (const [name, raw] of Object.entries(file.value.plugins)) {
      const request = requestOf(name, raw, file)
      if (!request) continue
      const prior = requests.get(name)
      if (prior) {
        const at = locate(prior.file.parsed, prior.at)
        report(file, request.at, 'ERR_CONFIG_DUPLICATE_PLUGIN', `plugin '${name}' is listed twice: at ${prior.file.name}:${at.line}:${at.col} and here`, 'list each plugin once')
        continue
      }
      if (!validRange(request.range)) {
        report(file, typeof raw === 'string' ? request.at : [...request.at, 'version'], 'ERR_CONFIG_SCHEMA',
          `'${request.range}' is not a semver range`, 'write a range such as ^1.2.0, ~1.2.0 or >=1.0.0 <2')
        continue
      }
      requests.set(name, request)
    }
  }
  if (requests.size === 0) return result
  const sources = sourcesOf(files, options.dataDir)
  sources.names = Object.fromEntries([...requests.values()].flatMap((r) => r.registry ? [[r.name, sourceOf(r.registry, undefined, options.dataDir)]] : []))
  const context: MaterializeContext = { dataDir: options.dataDir, appDir, sources, engineVersion: registry.engineVersion }

  let lock: Lockfile
  try {
    lock = readLock(appDir) ?? { lockfileVersion: 1, keys: {}, plugins: {} }
  } catch (error) {
    report(root, ['plugins'], 'ERR_PLUGIN_LOCK_DRIFT', messageOf(error), hintOf(error))
    return result
  }

  // Drift: an app entry or a plugin's own dependency the lock does not pin within its range.
  const drift: { name: string; why: string; request?: Request }[] = []
  for (const request of requests.values()) {
    const locked = lock.plugins[request.name]
    if (!locked) drift.push({ name: request.name, why: `${request.name} ${request.range} is not in ${LOCK_FILE}`, request })
    else if (!satisfies(locked.version, request.range, { includePrerelease: true })) {
      drift.push({ name: request.name, why: `${LOCK_FILE} pins ${request.name}@${locked.version}, outside ${request.range}`, request })
    }
  }
  const reachable = closure(requests, lock)
  for (const [name, needs] of reachable.missing) drift.push({ name, why: `${needs} needs ${name}, which ${LOCK_FILE} does not pin within that range` })

  if (drift.length > 0) {
    const fix = `run islet plugin add ${drift.map((d) => d.name).join(' ')} (or islet plugin upgrade) and commit ${LOCK_FILE}`
    if (options.frozen) {
      for (const d of drift) {
        report(d.request?.file ?? root, d.request?.at ?? ['plugins'], 'ERR_PLUGIN_LOCK_DRIFT', `${d.why}, and the lockfile is frozen (--frozen-lockfile)`, fix)
      }
      return result
    }
    try {
      const resolved = await resolvePlugins([...requests.values()].map((r) => ({ name: r.name, range: r.range, from: 'app' })), context)
      for (const d of drift) {
        const chosen = resolved[d.name]
        if (!chosen) continue
        report(d.request?.file ?? root, d.request?.at ?? ['plugins'], 'ERR_PLUGIN_LOCK_DRIFT',
          `${d.why}: resolved to ${d.name}@${chosen.version} and written to ${LOCK_FILE}`,
          `commit ${LOCK_FILE}; under --frozen-lockfile this is an error`, 'warning')
      }
      lock = { ...lock, plugins: { ...lock.plugins, ...resolved } }
      writeLock(appDir, lock)
    } catch (error) {
      const first = drift[0]!
      report(first.request?.file ?? root, first.request?.at ?? ['plugins'], isIsletError(error) ? error.code : 'ERR_PLUGIN_NOT_FOUND',
        `${first.why}, and it cannot be resolved: ${messageOf(error)}`, hintOf(error))
      return result
    }
  }

  for (const name of closure(requests, lock).names) {
    const entry = lock.plugins[name]!
    const request = requests.get(name)
    // A plugin pulled in by another is reported at the app entry that led to it.
    const asker = request ?? [...requests.values()][0]!
    const at = request?.at ?? asker.at
    const fail = (code: ErrorCode, message: string, hint: string) => report(asker.file, at, code, message, hint)
    let materialized
    try {
      materialized = await materialize(name, entry, context)
    } catch (error) {
      fail(isIsletError(error) ? error.code : 'ERR_PLUGIN_LOAD_FAILED', messageOf(error), hintOf(error) ?? `islet plugin add ${name}@${entry.version}`)
      continue
    }
    const { dir, packageJson: pkg } = materialized
    const id = `${name}@${entry.version}`
    const problem = manifestProblem(name, entry, pkg, dir)
    if (problem) { fail('ERR_PLUGIN_MANIFEST', `${id}: ${problem}`, 'the package is malformed: report it to its author, or pin another version'); continue }
    const islet = pkg.islet
    if (!satisfies(registry.engineVersion, islet.engine, { includePrerelease: true })) {
      fail('ERR_PLUGIN_ENGINE_MISMATCH', `${id} needs islet ${islet.engine}, this is islet ${registry.engineVersion}`,
        `pin a version of ${name} whose islet range includes ${registry.engineVersion} (islet plugin upgrade ${name}), or run an islet in ${islet.engine}`)
      continue
    }
    const source = locate(asker.file.parsed, at)
    const usable: MaterializedPlugin = { name, version: entry.version, dir, packageJson: pkg, integrity: entry.integrity, source }
    if (islet.host === undefined) { result.plugins.set(name, usable); continue }

    const services = [...(islet.services ?? [])]
    const allowed = request?.services ?? []
    if (!request?.host) {
      const types = [Object.keys(islet.components ?? {}).length ? 'its components (sandboxed)' : '', (islet.yaml ?? []).length ? 'its YAML files' : '']
        .filter(Boolean).join(' and ')
      fail('ERR_PLUGIN_HOST_NOT_ALLOWED', `${id} ships host code (${islet.host}): it would run in the engine process with its rights` +
        `${services.length ? `, using the engine services ${services.join(', ')}` : ''}; its plugins: entry does not allow host code`,
        `review ${relative(appDir, join(dir, islet.host)) || islet.host} and, if you trust it, write '${name}': { version: ${request?.range ?? entry.version}, host: true` +
        `${services.length ? `, services: [${services.join(', ')}]` : ''} }${types ? `; without host code, use ${types} only` : ''}`)
      continue
    }
    const beyond = services.filter((s) => !allowed.includes(s))
    if (beyond.length > 0) {
      fail('ERR_PLUGIN_SERVICES_NOT_ALLOWED', `${id} uses the engine services ${beyond.join(', ')}, beyond those its entry allows (${allowed.join(', ') || 'none'})`,
        `add services: [${[...allowed, ...beyond].join(', ')}] to its plugins: entry if you accept that, or remove the plugin`)
      continue
    }
    let exported: unknown
    try {
      exported = await importPlugin(join(dir, islet.host))
    } catch (error) {
      fail('ERR_PLUGIN_LOAD_FAILED', `${id}: its host module ${messageOf(error)}`, `the package's code is at fault: pin another version of ${name}, or report it to its author`)
      continue
    }
    const plugin = exported as Partial<Plugin> | undefined
    if (!plugin || plugin.name !== name || plugin.version !== entry.version) {
      fail('ERR_PLUGIN_INVALID', `${id}: its host module exports ${plugin?.name ? `plugin ${plugin.name}@${plugin.version}` : 'no definePlugin(…) object'}, not ${id}`,
        'a package\'s definePlugin(…) must carry its package.json name and version: report it to its author')
      continue
    }
    const undeclared = (plugin.services ?? []).filter((s) => !services.includes(s) || !allowed.includes(s))
    if (undeclared.length > 0) {
      fail('ERR_PLUGIN_SERVICES_NOT_ALLOWED', `${id}: its host code asks for the engine services ${undeclared.join(', ')}, which its package.json islet.services does not list or its entry does not allow`,
        `allow them with services: [...] on its entry only if the package declares them; report the mismatch to its author`)
      continue
    }
    if (registry.plugins().some((p) => p.name === name)) {
      fail('ERR_CONFIG_DUPLICATE_PLUGIN', `plugin '${name}' is loaded twice: by the plugins: list and by the map`, 'list each plugin once')
      continue
    }
    try {
      registry.register(plugin as Plugin)
    } catch (error) {
      fail(isIsletError(error) ? error.code : 'ERR_PLUGIN_INVALID', messageOf(error), "the package's definePlugin(…) declaration is at fault: pin another version, or report it to its author")
      continue
    }
    result.plugins.set(name, usable)
    result.decls.push({ name, version: entry.version, entry: name, file: join(dir, islet.host), packageJson: join(dir, 'package.json'),
      fingerprint: entry.integrity, source, locked: true })
  }
  return result
}

function requestOf(name: string, raw: unknown, file: LoadedFile): Request | undefined {
  const at = ['plugins', name]
  if (!PLUGIN_NAME.test(name)) return undefined // the schema reports it
  if (typeof raw === 'string') return { name, range: raw, host: false, services: [], file, at }
  if (!isRecord(raw) || typeof raw.version !== 'string') return undefined // the schema reports it
  const services = Array.isArray(raw.services) ? raw.services.filter((s): s is string => typeof s === 'string') : []
  return { name, range: raw.version, host: raw.host === true, services, file, at, ...(typeof raw.registry === 'string' ? { registry: raw.registry } : {}) }
}

/** The locked plugins the app's entries reach through `plugins` dependencies, and those a dependency finds unpinned. */
function closure(requests: ReadonlyMap<string, Request>, lock: Lockfile): { names: string[]; missing: Map<string, string> } {
  const names: string[] = []
  const missing = new Map<string, string>()
  const queue = [...requests.keys()]
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const entry = lock.plugins[name]
    if (!entry || names.includes(name)) continue
    names.push(name)
    for (const [dep, range] of Object.entries(entry.plugins ?? {})) {
      const pinned = lock.plugins[dep]
      if (!pinned || !satisfies(pinned.version, range, { includePrerelease: true })) missing.set(dep, `${name}@${entry.version} (${range})`)
      else queue.push(dep)
    }
  }
  return { names, missing }
}

/** What is wrong with a package as the runtime reads it, or undefined. */
function manifestProblem(name: string, entry: LockEntry, pkg: PluginPackageJson, dir: string): string | undefined {
  if (pkg.name !== name || pkg.version !== entry.version) return `its package.json says ${pkg.name}@${pkg.version}`
  if (!isRecord(pkg.islet)) return 'its package.json has no islet field'
  if (typeof pkg.islet.engine !== 'string' || !validRange(pkg.islet.engine)) return `islet.engine ${JSON.stringify(pkg.islet.engine)} is not a semver range`
  const paths = [pkg.islet.host, ...Object.values(pkg.islet.components ?? {}).map((c) => c.file), ...(pkg.islet.yaml ?? [])]
  const outside = paths.find((p) => typeof p === 'string' && escapeOf(dir, join(dir, p)))
  return outside === undefined ? undefined : `'${outside}' leads outside the package`
}

/** `registries:` of every file (the root's win): each scope's source, `default` embedded unless set. */
export function sourcesOf(files: readonly LoadedFile[], dataDir: string): RegistrySources {
  const sources: RegistrySources = { default: { kind: 'embedded', dir: join(dataDir, 'registry') }, scopes: {} }
  for (const file of [...files].reverse()) {
    if (!isRecord(file.value.registries)) continue
    for (const [key, raw] of Object.entries(file.value.registries)) {
      const url = typeof raw === 'string' ? raw : isRecord(raw) && typeof raw.url === 'string' ? raw.url : undefined
      if (!url) continue
      const source = sourceOf(url, isRecord(raw) && typeof raw.token === 'string' ? raw.token : undefined, dataDir)
      if (key === 'default') sources.default = source
      else sources.scopes[key] = source
    }
  }
  return sources
}

function sourceOf(url: string, token: string | undefined, dataDir: string): RegistrySource {
  return url === 'embedded' ? { kind: 'embedded', dir: join(dataDir, 'registry') }
    : { kind: 'http', url: url.endsWith('/') ? url : `${url}/`, ...(token ? { token } : {}) }
}


function hintOf(error: unknown): string | undefined {
  const hint = isIsletError(error) ? error.details.hint : undefined
  return typeof hint === 'string' ? hint : undefined
}
