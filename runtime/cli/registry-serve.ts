// `islet registry serve [--dir] [--port] [--host]`: the plugin registry (npm protocol) on HTTP, with the runtime's
// component compiler checking every published component. Runs until SIGINT/SIGTERM, then closes cleanly.
import { resolve } from 'node:path'
import { dataDirOf } from '../config/data-dir.ts'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { checkComponents } from './registry-check.ts'
import { startRegistry } from './registry-parts.ts'

export default async function registryServe({ values }: ParsedOptions): Promise<number> {
  const dir = registryDir(values)
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new IsletError('ERR_CLI_USAGE', `--port must be a port number 0-65535 (0: any free port), not '${String(values.port)}'`)
  const host = values.host as string
  const registry = await startRegistry({ dir, host, port, checkComponents }).catch((error: unknown) => {
    const code = (error as { code?: unknown }).code
    if (code === 'EADDRINUSE') throw new IsletError('ERR_CLI_USAGE', `${host}:${port} is in use (another registry, or Verdaccio?); pass another --port, or --port 0 for any free one`, { cause: error })
    if (code === 'EACCES') throw new IsletError('ERR_CLI_USAGE', `not allowed to listen on ${host}:${port} (ports below 1024 need privileges); pass --port 4873 or another above 1023`, { cause: error })
    if (code === 'EADDRNOTAVAIL') throw new IsletError('ERR_CLI_USAGE', `--host ${host} is not an address of this machine; pass 127.0.0.1 (loopback) or 0.0.0.0 (every interface)`, { cause: error })
    throw error
  })
  if (values.format === 'json') console.log(JSON.stringify({ url: registry.url, dir }))
  else {
    console.log(`islet registry on ${registry.url} (data in ${dir})`)
    console.log(`  users:   islet registry user add <name>; tokens: islet registry token create --user <name> --scope '@scope/*'`)
    console.log(`  npm:     npm publish --registry ${registry.url}`)
  }
  await new Promise<void>((done) => {
    const stop = () => done()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await registry.close()
  return 0
}

/** --dir, else the embedded registry of the data dir (<data dir>/registry), the one `islet run` uses with no server. */
export function registryDir(values: ParsedOptions['values']): string {
  const dir = values.dir as string | undefined
  return dir !== undefined ? resolve(dir) : resolve(dataDirOf(values['data-dir'] as string | undefined, process.env), 'registry')
}
