// The embedded registry (`<dataDir>/registry/`): the registry server's own store, opened in-process, so that an app
// resolves and fetches plugins with no server running. The client reaches it only through `EmbeddedStore`
// (registry/client/sources.ts); this adapter is the one place that opens it, and closes what it opened.
// TODO(int, on h-core's merge): open `openEmbeddedRegistry(dir)` from registry/server/embedded.ts here. Until then
// the embedded registry has no packages: resolution from it finds nothing, and locked plugins load from
// islet-vendor/ or the data dir's cache only.
import type { EmbeddedStore } from '../../registry/client/index.ts'
import { RegistryError } from '../../registry/errors.ts'

/** Opens embedded stores on demand (sources are lazy) and closes every one it opened. */
export interface EmbeddedOpener {
  open(dir: string): EmbeddedStore
  close(): void
}

export function embeddedOpener(): EmbeddedOpener {
  const opened: { close(): void }[] = []
  return {
    open(dir) {
      const store = emptyStore(dir)
      opened.push(store)
      return store
    },
    close() {
      for (const store of opened.splice(0)) store.close()
    },
  }
}

function emptyStore(dir: string): EmbeddedStore & { close(): void } {
  return {
    packument: () => undefined,
    tarball: (name, version) => {
      throw new RegistryError('ERR_REGISTRY_NOT_FOUND', `${name}@${version} is not in the embedded registry at ${dir}`, { details: { name, version, dir } })
    },
    keys: () => [],
    close: () => {},
  }
}
