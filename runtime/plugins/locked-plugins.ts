// The runtime's one door to the registry client (registry/client/): the app's `registries:` as live sources, the
// lock (the client's format, in the app's folder), resolution to a lock, and `materialize`, which turns a locked
// plugin into a verified, extracted folder (vendor folder, cache, then registry; integrity and signature with the
// lock-pinned key; the extracted folder checked against the tarball on every load: fail closed).
import { join } from 'node:path'
import {
  lockFromResolution, materialize as materializeLocked, readLock as readLockFile, resolvePlugins as resolveWith,
  writeLock as writeLockFile, type Lockfile, type LockedPlugin, type Materialized, type PackumentVersion, type PluginRequest, type RegistryMap, type RegistrySource, type RegistrySpec,
} from '../../registry/client/index.ts'
import { LOCK_FILE } from './lock-file.ts'
import { openAppSources, type AppSources } from './registry-sources.ts'

export { lockDrift, lockPosition } from '../../registry/client/index.ts'
export type { Drift, Lockfile, LockedPlugin, Materialized, PackumentVersion, PluginRequest, RegistryMap, RegistrySpec } from '../../registry/client/index.ts'

export { LOCK_FILE }

export interface MaterializeContext {
  dataDir: string
  appDir: string
  sources: RegistryMap
  engineVersion: string
}

/** Live sources for `registries:` (registry-sources.ts); close them after use. Throws RegistryError. */
export function openSources(registries: Record<string, RegistrySpec>, dataDir: string): AppSources {
  return openAppSources(registries, { dataDir })
}

/** The app's lock, or undefined when there is none. A lock that does not parse throws (ERR_REGISTRY_LOCK_INVALID, file:line:col). */
export function readLock(appDir: string): Lockfile | undefined {
  return readLockFile(join(appDir, LOCK_FILE))
}

/** Sorted keys, written to a temp file and renamed, so a reader never sees half a lock. */
export function writeLock(appDir: string, lock: Lockfile): void {
  writeLockFile(join(appDir, LOCK_FILE), lock)
}

/** The registries by scope as the lock names them (`'embedded'` or a URL), for lockDrift. */
export function registryIds(sources: RegistryMap): RegistryMap<string> {
  return Object.fromEntries(Object.entries(sources).map(([scope, source]) => [scope, source.id])) as RegistryMap<string>
}

/**
 * The lock entries (and pinned keys) for `requests`, resolved against the sources; deprecation warnings beside.
 * `kept`: plugins the lock pins that stay as pinned. Resolution sees each as its one pinned version, read from the
 * lock (its engine range and its own plugin ranges still constrain the others), so a kept plugin need not be on any
 * registry (a vendored one, say); the result (lock and manifests) holds only the others. The runtime and the plugin
 * commands (cli/plugin-resolve.ts) both resolve through here.
 */
export async function resolvePlugins(requests: readonly PluginRequest[], context: Pick<MaterializeContext, 'sources' | 'engineVersion'>,
  kept: Readonly<Record<string, LockedPlugin>> = {}): Promise<{ lock: Lockfile; manifests: Map<string, PackumentVersion>; warnings: string[] }> {
  const overlay: RegistryMap = { default: keptFirst(context.sources.default, kept) }
  for (const [key, source] of Object.entries(context.sources)) if (key !== 'default') overlay[key as `@${string}`] = keptFirst(source, kept)
  const resolution = await resolveWith(requests, { sources: overlay, engineVersion: context.engineVersion })
  const moved = { ...resolution, plugins: resolution.plugins.filter((p) => !Object.hasOwn(kept, p.name)) }
  return { lock: await lockFromResolution(moved, context.sources), manifests: new Map(moved.plugins.map((p) => [p.name, p.manifest])), warnings: moved.plugins.flatMap((p) =>
    resolution.warnings.filter((w) => w.startsWith(`${p.name}@${p.version} `))) }
}

/** `source`, except that a kept plugin's packument is its locked version alone, as the lock records it. */
function keptFirst(source: RegistrySource, kept: Readonly<Record<string, LockedPlugin>>): RegistrySource {
  return {
    kind: source.kind, id: source.id,
    packument: async (name) => {
      const entry = kept[name]
      if (!entry) return source.packument(name)
      const manifest: PackumentVersion = { name, version: entry.version, islet: { engine: entry.engine, ...(entry.plugins ? { plugins: entry.plugins } : {}) },
        dist: { integrity: entry.integrity, tarball: '', signatures: [{ keyid: entry.keyid, sig: entry.sig }] } }
      return { name, versions: { [entry.version]: manifest } }
    },
    tarball: (name, version, dist) => source.tarball(name, version, dist),
    keys: () => source.keys(),
  }
}

/** The verified, extracted folder of a locked plugin. Throws RegistryError saying what differed. */
export async function materialize(name: string, lock: Lockfile, context: MaterializeContext): Promise<Materialized> {
  return materializeLocked({ name, ...lock.plugins[name]! }, { ...context, keys: lock.keys })
}
