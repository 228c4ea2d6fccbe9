// The embedded registry: the server's store opened in-process (`<dataDir>/registry/`), so `islet` works with no
// server running. Same packuments, signatures and rules as over HTTP; the shape matches the client's RegistrySource
// (packument, tarball, keys) plus the writes the CLI needs.
import type { Packument as ClientPackument } from '../client/source.ts'
import { RegistryError } from '../errors.ts'
import { publicKeyOf, type NpmPublicKey } from '../signature.ts'
import type { TarballLimits } from '../tarball/read.ts'
import { packumentOf } from './packument.ts'
import { publishVersion, type CheckComponents } from './publish.ts'
import { openStore, type RegistryStore, type VersionRow } from './store.ts'
import { unpublishVersions } from './unpublish.ts'
import { setDeprecations, setYanked } from './yank.ts'

/** What `dist.tarball` says in an embedded packument: there is no URL, the store hands out the bytes. */
export const EMBEDDED_BASE = 'embedded:'

export interface EmbeddedRegistry {
  readonly store: RegistryStore
  packument(name: string): Promise<ClientPackument | undefined>
  tarball(name: string, version: string, dist?: { integrity?: string }): Promise<Uint8Array>
  keys(): Promise<NpmPublicKey[]>
  publish(tarball: Uint8Array, options: { actor: string; tags?: readonly string[]; checkComponents?: CheckComponents; limits?: TarballLimits }): Promise<VersionRow>
  yank(name: string, version: string, reason: string | null, actor: string): void
  deprecate(name: string, version: string, message: string | null, actor: string): void
  unpublish(name: string, version: string, actor: string): void
  close(): void
}

export function openEmbeddedRegistry(dir: string, options: { now?: () => Date } = {}): EmbeddedRegistry {
  const store = openStore(dir, options)
  return {
    store,
    // Built from the store's rows, so it has the shape the client reads (packument.ts types it loosely, as JSON).
    packument: async (name) => packumentOf(store, name, EMBEDDED_BASE) as ClientPackument | undefined,
    async tarball(name, version, dist) {
      const row = store.version(name, version)
      if (!row || row.unpublished_at !== null) throw new RegistryError('ERR_REGISTRY_NOT_FOUND', `${name}@${version} is not in the embedded registry at ${dir}${row ? ' (it was unpublished)' : ''}`)
      if (dist?.integrity !== undefined && dist.integrity !== row.integrity) {
        throw new RegistryError('ERR_REGISTRY_INTEGRITY', `${name}@${version} in the embedded registry at ${dir} is ${row.integrity}, not ${dist.integrity}`)
      }
      const bytes = store.readTarball(row.tarball, row.integrity)
      if (!bytes) throw new RegistryError('ERR_REGISTRY_INTEGRITY', `the stored tarball of ${name}@${version} in ${dir} is missing or no longer matches ${row.integrity}`)
      return bytes
    },
    keys: async () => [publicKeyOf(store.signingKey)],
    publish: (tarball, publishOptions) => publishVersion(store, { tarball, ...publishOptions }),
    yank: (name, version, reason, actor) => { setYanked(store, name, version, reason, actor) },
    deprecate: (name, version, message, actor) => { setDeprecations(store, name, new Map([[version, message]]), actor) },
    unpublish: (name, version, actor) => { unpublishVersions(store, name, [version], actor) },
    close: () => { store.close() },
  }
}
