// Where plugin metadata and tarballs come from. Every registry (an HTTP one, or the embedded store in the data dir)
// is reached through the same three calls, so resolution, locking and verification never know which one answered.
import type { IsletField } from '../manifest.ts'
import { scopeOf } from '../package-name.ts'
import type { NpmPublicKey, VersionSignature } from '../signature.ts'

export interface PackumentDist {
  integrity: string
  shasum?: string
  tarball: string
  signatures?: readonly VersionSignature[]
}

/** One entry of a packument's `versions`: the package.json as published, plus the registry's fields. */
export interface PackumentVersion {
  name: string
  version: string
  islet?: IsletField
  dist: PackumentDist
  /** npm's deprecation message: still chosen by ranges, warned about. */
  deprecated?: string
  /** Islet's yank reason: not chosen by ranges, still installable when pinned or locked. */
  _yanked?: string
  [field: string]: unknown
}

/** The full packument (`Accept: application/json`): the abbreviated one lacks `islet` and the signatures' context. */
export interface Packument {
  name: string
  'dist-tags'?: Record<string, string>
  versions: Record<string, PackumentVersion>
  time?: Record<string, string>
}

export interface RegistrySource {
  readonly kind: 'http' | 'embedded'
  /** What the lock records as the plugin's registry: the URL (ending with /) or 'embedded'. */
  readonly id: string
  /** The package's packument, or undefined when the registry does not have it. */
  packument(name: string): Promise<Packument | undefined>
  /** The tarball's bytes (unverified: the caller checks integrity and signature). */
  tarball(name: string, version: string, dist?: PackumentDist): Promise<Uint8Array>
  /** The registry's public signing keys (`/-/npm/v1/keys`). */
  keys(): Promise<NpmPublicKey[]>
}

/** The registries an app uses: `default` for every name whose scope is not bound, and one entry per bound scope. */
export interface RegistryMap<T = RegistrySource> {
  default: T
  [scope: `@${string}`]: T
}

/**
 * The registry `name` is fetched from. A scoped name whose scope is bound is only ever fetched from that registry:
 * a package missing there is missing, never looked up on `default` (a public name must not shadow a private one).
 */
export function sourceFor<T>(name: string, registries: RegistryMap<T>): T {
  const scope = scopeOf(name)
  if (scope && Object.hasOwn(registries, scope)) return registries[scope]
  return registries.default
}

/** A registry as sources and the lock name it: 'embedded', or its URL ending with `/`, so `http://x` and `http://x/` agree. */
export function registryId(url: string): string {
  return url === 'embedded' || url.endsWith('/') ? url : `${url}/`
}

/** The source in `registries` whose id is `id` (the lock's `registry`), if it is still configured. */
export function sourceById(registries: RegistryMap, id: string): RegistrySource | undefined {
  return Object.values(registries).find((source) => source.id === id)
}
