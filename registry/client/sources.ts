// From the app's `registries:` to live sources. The embedded registry (the server's store opened in-process on
// `<dataDir>/registry/`) is reached through `EmbeddedStore`, which the server's store implements; it is injected so
// that the client never opens SQLite itself and works without it when every scope is bound to an HTTP registry.
import { join } from 'node:path'
import { RegistryError } from '../errors.ts'
import type { NpmPublicKey } from '../signature.ts'
import { createHttpSource } from './http-source.ts'
import { registryId, type Packument, type RegistryMap, type RegistrySource } from './source.ts'

/** A registry as the config names it: a URL, 'embedded', or a URL with a token. */
export type RegistrySpec = string | { url: string; token?: string }

/** What the embedded registry's store offers the client: the same answers the server gives over HTTP. */
export interface EmbeddedStore {
  /** The full packument, with tarball URLs the store can serve itself (any URL: `tarball` ignores it). */
  packument(name: string): Packument | undefined | Promise<Packument | undefined>
  tarball(name: string, version: string): Uint8Array | Promise<Uint8Array>
  keys(): NpmPublicKey[] | Promise<NpmPublicKey[]>
}

/** May answer a promise: the runtime loads the server's store module only when a plugin is actually fetched from it. */
export type OpenEmbeddedStore = (dir: string) => EmbeddedStore | Promise<EmbeddedStore>

export interface SourcesOptions {
  dataDir: string
  /** Opens the embedded store (the server's store module, injected by the runtime). */
  openEmbedded?: OpenEmbeddedStore
}

export const EMBEDDED = 'embedded'

export function embeddedSource(store: EmbeddedStore | Promise<EmbeddedStore>): RegistrySource {
  return {
    kind: 'embedded',
    id: EMBEDDED,
    packument: async (name) => await (await store).packument(name),
    tarball: async (name, version) => await (await store).tarball(name, version),
    keys: async () => await (await store).keys(),
  }
}

/** Live sources for `registries:` (default default: the embedded registry), one source per distinct registry. */
export function createSources(registries: Partial<Record<string, RegistrySpec>> | undefined, options: SourcesOptions): RegistryMap {
  const made = new Map<string, RegistrySource>()
  const open = (spec: RegistrySpec, key: string): RegistrySource => {
    const url = typeof spec === 'string' ? spec : spec.url
    const id = registryId(url)
    const known = made.get(id)
    if (known) return known
    let source: RegistrySource
    if (id === EMBEDDED) {
      if (!options.openEmbedded) {
        throw new RegistryError('ERR_REGISTRY_SOURCE_UNAVAILABLE',
          `registries: ${key} is the embedded registry, but this program cannot open it: set registries: ${key} to a registry URL`, { details: { key } })
      }
      source = embeddedSource(options.openEmbedded(join(options.dataDir, 'registry')))
    } else {
      if (!/^https?:\/\//.test(id)) {
        throw new RegistryError('ERR_REGISTRY_SOURCE_UNAVAILABLE', `registries: ${key} is ${JSON.stringify(url)}: expected 'embedded' or an http(s) URL`, { details: { key } })
      }
      source = createHttpSource({ url: id, ...(typeof spec === 'object' && spec.token ? { token: spec.token } : {}) })
    }
    made.set(id, source)
    return source
  }
  // Sources open lazily: an app whose scopes are all bound to HTTP registries never needs the embedded store.
  const lazy = (spec: RegistrySpec, key: string): RegistrySource => {
    let source: RegistrySource | undefined
    const get = () => (source ??= open(spec, key))
    const url = typeof spec === 'string' ? spec : spec.url
    return {
      kind: url === EMBEDDED ? 'embedded' : 'http',
      id: registryId(url),
      packument: (name) => get().packument(name),
      tarball: (name, version, dist) => get().tarball(name, version, dist),
      keys: () => get().keys(),
    }
  }
  const map: RegistryMap = { default: lazy(registries?.default ?? EMBEDDED, 'default') }
  for (const [key, spec] of Object.entries(registries ?? {})) {
    if (key === 'default' || spec === undefined) continue
    if (!/^@[^/]+$/.test(key)) {
      throw new RegistryError('ERR_REGISTRY_SOURCE_UNAVAILABLE', `registries: ${JSON.stringify(key)} is neither 'default' nor a scope like '@acme'`, { details: { key } })
    }
    map[key as `@${string}`] = lazy(spec, key)
  }
  return map
}
