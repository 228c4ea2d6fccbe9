// The `plugins:` map and `registries:` as the app writes them: one request per registry plugin (its range, whether
// host code may load, the engine services allowed) and where each name is fetched from. Shapes the schema refuses
// are left to its errors; here only what it cannot check (a semver range that does not parse, a name listed twice).
import validRange from 'semver/ranges/valid.js'
import { isRecord } from '@islet/sdk'
import { registryId } from '../../registry/client/source.ts'
import { packageNameProblem, scopeOf } from '../../registry/package-name.ts'
import type { RegistrySpec } from '../plugins/locked-plugins.ts'
import type { Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, type PathSegment } from './locate.ts'
import { PLUGIN_NAME as PLUGIN_NAME_PATTERN } from './schema.ts'

const PLUGIN_NAME = new RegExp(PLUGIN_NAME_PATTERN)

/** One map entry as written. */
export interface PluginRequest {
  name: string
  range: string
  host: boolean
  services: string[]
  /** Its entry's `registry:` (a URL or 'embedded'). */
  registry?: string
  file: LoadedFile
  at: PathSegment[]
}

/** Every file's `plugins:` map entries, by name, root first; problems to `diagnostics`. */
export function collectRequests(files: readonly LoadedFile[], diagnostics: Diagnostic[]): Map<string, PluginRequest> {
  const requests = new Map<string, PluginRequest>()
  for (const [i, file] of files.entries()) {
    if (i > 0 && isRecord(file.value.registries)) diagnostics.push(rootOnly(file, 'registries', files[0]!))
    if (!isRecord(file.value.plugins)) continue
    if (i > 0) { diagnostics.push(rootOnly(file, 'plugins', files[0]!)); continue }
    for (const [name, raw] of Object.entries(file.value.plugins)) {
      // The schema's pattern is the name's shape; npm's whole rule (the registry's, registry/package-name.ts) is here,
      // so a name no registry would publish is refused at its key, not later by the resolver without a location.
      const nameProblem = PLUGIN_NAME.test(name) ? packageNameProblem(name) : undefined
      if (nameProblem) {
        diagnostics.push(diagnosticAt(file.parsed, ['plugins', name], 'ERR_CONFIG_SCHEMA', `plugin '${name}' is not an npm package name: ${nameProblem}`,
          'write the name as it is published, e.g. @acme/geo', { key: true }))
        continue
      }
      const request = requestOf(name, raw, file)
      if (!request) continue
      const prior = requests.get(name)
      if (prior) {
        const at = locate(prior.file.parsed, prior.at)
        diagnostics.push(diagnosticAt(file.parsed, request.at, 'ERR_CONFIG_DUPLICATE_PLUGIN',
          `plugin '${name}' is listed twice: at ${prior.file.name}:${at.line}:${at.col} and here`, 'list each plugin once'))
        continue
      }
      if (!validRange(request.range)) {
        diagnostics.push(diagnosticAt(file.parsed, typeof raw === 'string' ? request.at : [...request.at, 'version'], 'ERR_CONFIG_SCHEMA',
          `'${request.range}' is not a semver range`, 'write a range such as ^1.2.0, ~1.2.0 or >=1.0.0 <2'))
        continue
      }
      requests.set(name, request)
    }
  }
  return requests
}

function requestOf(name: string, raw: unknown, file: LoadedFile): PluginRequest | undefined {
  const at = ['plugins', name]
  if (!PLUGIN_NAME.test(name)) return undefined // the schema reports it
  if (typeof raw === 'string') return { name, range: raw, host: false, services: [], file, at }
  if (!isRecord(raw) || typeof raw.version !== 'string') return undefined // the schema reports it
  const services = Array.isArray(raw.services) ? raw.services.filter((s): s is string => typeof s === 'string') : []
  return { name, range: raw.version, host: raw.host === true, services, file, at,
    ...(typeof raw.registry === 'string' ? { registry: raw.registry } : {}) }
}

/**
 * Where each plugin comes from, as the registry client takes it: `registries:` of every file (the root's win),
 * `default` embedded unless set. An entry's own `registry:` binds its scope (a scope is fetched from one registry
 * only, so one that disagrees with its scope's binding is an error at it); an unscoped name comes from `default`.
 */
export function registriesOf(files: readonly LoadedFile[], requests: Iterable<PluginRequest>, diagnostics: Diagnostic[]): Record<string, RegistrySpec> {
  const specs: Record<string, RegistrySpec> = {}
  for (const [i, file] of files.entries()) {
    // An imported file's registries: is refused where the requests are collected (rootOnly): never used.
    if (i > 0 || !isRecord(file.value.registries)) continue
    for (const [key, raw] of Object.entries(file.value.registries)) {
      if (typeof raw === 'string') specs[key] = raw
      else if (isRecord(raw) && typeof raw.url === 'string') specs[key] = { url: raw.url, ...(typeof raw.token === 'string' ? { token: raw.token } : {}) }
    }
  }
  for (const { entry: r, scope, bound } of bindEntryRegistries(specs, requests)) {
    diagnostics.push(diagnosticAt(r.file.parsed, [...r.at, 'registry'], 'ERR_CONFIG_SCHEMA',
      `${r.name} would come from ${r.registry}, but ${scope === 'default' ? 'an unscoped plugin comes from registries: default' : `its scope ${scope} is bound to`} ${idOf(bound)}`,
      scope === 'default' ? 'set registries: default instead (unscoped plugins share it)' : `a scope is fetched from one registry only: drop this registry:, or bind ${scope} to it in registries:`))
  }
  return specs
}

/**
 * Binds each entry's own `registry:` to its scope (an unscoped name's: `default`) in `specs` where nothing binds it
 * yet, as both `islet run` and the plugin commands read an app; returns the entries whose scope is already bound
 * elsewhere (an error the config load reports at the entry).
 */
export function bindEntryRegistries<E extends { name: string; registry?: string }>(specs: Record<string, RegistrySpec>,
  entries: Iterable<E>): { entry: E & { registry: string }; scope: string; bound: RegistrySpec }[] {
  const clashes: { entry: E & { registry: string }; scope: string; bound: RegistrySpec }[] = []
  for (const entry of entries) {
    if (!entry.registry) continue
    const scope = scopeOf(entry.name) ?? 'default'
    const bound = specs[scope] ?? (scope === 'default' ? 'embedded' : undefined)
    if (bound === undefined) specs[scope] = entry.registry
    else if (idOf(bound) !== idOf(entry.registry)) clashes.push({ entry: entry as E & { registry: string }, scope, bound })
  }
  return clashes
}

function idOf(spec: RegistrySpec): string {
  return registryId(typeof spec === 'string' ? spec : spec.url)
}

/**
 * Registry plugins and the registries they come from are the app's root file's: islet.lock sits next to it, `islet
 * plugin add|upgrade` edit it and resolve from it, and a scope's binding must be one and the same for all of them.
 */
function rootOnly(file: LoadedFile, key: 'plugins' | 'registries', root: LoadedFile): Diagnostic {
  return diagnosticAt(file.parsed, [key], 'ERR_CONFIG_SCHEMA',
    key === 'plugins' ? 'the plugins: map (registry plugins) belongs in the app\'s root file, next to islet.lock'
      : 'registries: belongs in the app\'s root file, next to islet.lock',
    `move it to ${root.name}, where islet plugin add and upgrade read and edit it (an imported file may keep a list-form plugins: of paths and packages)`, { key: true })
}
