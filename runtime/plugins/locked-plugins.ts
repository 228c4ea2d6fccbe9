// The runtime's one door to the registry client (registry/client/): the app's `registries:` as live sources, the
// lock (the client's format, in the app's folder), resolution to a lock, and `materialize`, which turns a locked
// plugin into a verified, extracted folder (vendor folder, cache, then registry; integrity and signature with the
// lock-pinned key; the extracted folder checked against the tarball on every load: fail closed).
import { join } from 'node:path'
import {
  createSources, lockFromResolution, materialize as materializeLocked, readLock as readLockFile, resolvePlugins as resolveWith,
  writeLock as writeLockFile, type Lockfile, type LockedPlugin, type Materialized, type PluginRequest, type RegistryMap, type RegistrySpec,
} from '../../registry/client/index.ts'
import { embeddedOpener } from './embedded-registry.ts'

export type { Lockfile, LockedPlugin, Materialized, PluginRequest, RegistryMap, RegistrySpec }

export const LOCK_FILE = 'islet.lock'

export interface MaterializeContext {
  dataDir: string
  appDir: string
  sources: RegistryMap
  engineVersion: string
}

/** Live sources for `registries:`; `close` releases the embedded registry if it was opened. Throws RegistryError. */
export function openSources(registries: Record<string, RegistrySpec>, dataDir: string): { sources: RegistryMap; close(): void } {
  const embedded = embeddedOpener()
  return { sources: createSources(registries, { dataDir, openEmbedded: (dir) => embedded.open(dir) }), close: () => embedded.close() }
}

/** The app's lock, or undefined when there is none. A lock that does not parse throws (ERR_REGISTRY_LOCK_INVALID, file:line:col). */
export function readLock(appDir: string): Lockfile | undefined {
  return readLockFile(join(appDir, LOCK_FILE))
}

/** Sorted keys, written to a temp file and renamed, so a reader never sees half a lock. */
export function writeLock(appDir: string, lock: Lockfile): void {
  writeLockFile(join(appDir, LOCK_FILE), lock)
}

/** The lock entries (and pinned keys) for `requests`, resolved against the sources; deprecation warnings beside. */
export async function resolvePlugins(requests: readonly PluginRequest[], context: MaterializeContext): Promise<{ lock: Lockfile; warnings: string[] }> {
  const resolution = await resolveWith(requests, { sources: context.sources, engineVersion: context.engineVersion })
  return { lock: await lockFromResolution(resolution, context.sources), warnings: resolution.warnings }
}

/** The verified, extracted folder of a locked plugin. Throws RegistryError saying what differed. */
export async function materialize(name: string, lock: Lockfile, context: MaterializeContext): Promise<Materialized> {
  return materializeLocked({ name, ...lock.plugins[name]! }, { ...context, keys: lock.keys })
}
