// `startRegistry`: the registry on a loopback (or given) address, with its store; `close()` stops accepting, ends
// open connections and closes the database.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRegistryApp } from './app.ts'
import type { RegistryOptions } from './options.ts'
import { openStore, type RegistryStore } from './store.ts'

export interface RunningRegistry {
  /** `http://host:port/`, ending with a slash as npm's `registry` setting does. */
  url: string
  close(): Promise<void>
  store: RegistryStore
}

export async function startRegistry(options: RegistryOptions): Promise<RunningRegistry> {
  const store = openStore(options.dir, { now: options.now })
  const app = createRegistryApp({ ...options, store })
  const server = createServer(app.callback())
  // Publishes are large uploads over slow links: the request-wide timeout must not cut them.
  server.requestTimeout = 10 * 60 * 1000
  const host = options.host ?? '127.0.0.1'
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, host, () => { server.off('error', reject); resolve() })
    })
  } catch (error) {
    store.close()
    throw error
  }
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`
  let closing: Promise<void> | undefined
  return {
    url,
    store,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }).then(() => store.close())
      return closing
    },
  }
}
