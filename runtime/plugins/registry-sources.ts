// The one way to open an app's registries (`registries:`) as live sources, for the runtime (locked-plugins.ts) and
// the CLI (cli/registry-parts.ts) alike. The embedded registry (`<dataDir>/registry/`) is the registry server's own
// store opened in-process (registry/server/embedded.ts), so an app resolves and fetches plugins with no server
// running. Sources open lazily: an app whose tarballs are all vendored or cached, or whose scopes are all bound to
// HTTP registries, never opens the embedded store (nor creates its folder), nor even loads its modules (the server's
// store, publish checks and their ajv schemas: a good part of a locked app's start-up). `close` closes what was opened.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  createSources, sourceFor, type EmbeddedStore, type RegistryMap, type RegistrySource, type RegistrySpec,
} from '../../registry/client/index.ts'
import { RegistryError } from '../../registry/errors.ts'

export interface AppSources {
  /** What the client's functions take. */
  readonly map: RegistryMap
  /** The specs as written (interpolated), `default` filled in: the URL and token a write about a name goes to. */
  readonly specs: RegistryMap<RegistrySpec>
  readonly dataDir: string
  /** The source `name` is fetched from (a bound scope only ever uses its registry). */
  sourceFor(name: string): RegistrySource
  /** The lock's `registry` value for `name`: the URL, or 'embedded'. */
  registryFor(name: string): string
  /** Closes the embedded registry if it was opened. */
  close(): void
}

/** Throws RegistryError (ERR_REGISTRY_SOURCE_UNAVAILABLE) for a `registries:` key that is neither default nor a scope. */
export function openAppSources(registries: Partial<Record<string, RegistrySpec>> | undefined, options: { dataDir: string }): AppSources {
  const specs = registries ?? {}
  const opened: { close(): void }[] = []
  const map = createSources(specs, {
    dataDir: options.dataDir,
    openEmbedded: async (dir) => {
      // Reading must not create a registry (its database and signing key): one nobody published to is empty.
      if (!existsSync(join(dir, 'registry.db'))) return emptyRegistry(dir)
      const { openEmbeddedRegistry } = await import('../../registry/server/embedded.ts')
      const registry = openEmbeddedRegistry(dir)
      opened.push(registry)
      return registry
    },
  })
  return {
    map, dataDir: options.dataDir,
    specs: { ...specs, default: specs.default ?? 'embedded' } as RegistryMap<RegistrySpec>,
    sourceFor: (name) => sourceFor(name, map),
    registryFor: (name) => sourceFor(name, map).id,
    close: () => { for (const registry of opened.splice(0)) registry.close() },
  }
}

/** The embedded registry before anything was published to it: no packages, no keys, nothing written. */
function emptyRegistry(dir: string): EmbeddedStore {
  return {
    packument: () => undefined,
    tarball: (name, version) => {
      throw new RegistryError('ERR_REGISTRY_NOT_FOUND', `${name}@${version} is not in the embedded registry at ${dir}: nothing was published to it (islet plugin publish, with no registry configured, publishes there)`)
    },
    keys: () => [],
  }
}
