// The registry client: sources, resolution, the lock, the tarball cache and verification.
export { sourceFor, sourceById, type Packument, type PackumentDist, type PackumentVersion, type RegistryMap, type RegistrySource } from './source.ts'
export { createHttpSource, type HttpSourceOptions } from './http-source.ts'
export { createSources, embeddedSource, EMBEDDED, type EmbeddedStore, type OpenEmbeddedStore, type RegistrySpec, type SourcesOptions } from './sources.ts'
export { resolvePlugins, type PluginRequest, type Resolution, type ResolvedPlugin, type ResolveOptions } from './resolve.ts'
export {
  LOCKFILE_VERSION, lockDrift, lockFromResolution, lockPosition, parseLock, readLock, refreshStanding, standingOf, writeLock,
  type AppPluginRequest, type Drift, type LockedKey, type LockedPlugin, type Lockfile, type StandingChange,
} from './lock.ts'
export { cacheDir, findTarball, tarballFileName, VENDOR_DIR } from './cache.ts'
export { assertFolderMatches, compareFolder, verifyIntegrity, verifySignature } from './verify.ts'
export { materialize, packagesDir, type Materialized, type MaterializeOptions } from './materialize.ts'
