// `islet run`: one engine in this process (run.ts), or with `--processes <n>` the primary (primary.ts) that forks n
// engine processes, each of which comes back here as a cluster worker and runs run.ts. The primary imports neither
// the engine nor any plugin: it only forks, watches and forwards signals, so it stays small.
import cluster from 'node:cluster'
import { platform } from 'node:os'
import { IsletError } from '../errors.ts'
import { requireAppFile } from './app-file.ts'
import type { ParsedOptions } from './options.ts'
import { engineProcessOf, parseProcessCount } from './processes.ts'

export default async function run({ values, positionals }: ParsedOptions): Promise<number> {
  const count = parseProcessCount(values.processes as string | undefined)
  if (typeof count !== 'number') throw new IsletError('ERR_CLI_USAGE', count.error)
  if (count > 1 && values.watch === true) {
    throw new IsletError('ERR_CLI_USAGE', "--watch reloads one engine process; it does not combine with --processes: use 'islet dev' (one process) while editing, --processes in production")
  }
  const balance = values.balance === 'reuseport' ? 'reuseport' : 'cluster'
  if (count > 1 && balance === 'reuseport' && platform() !== 'linux') {
    throw new IsletError('ERR_CLI_USAGE', `--balance reuseport needs SO_REUSEPORT's load balancing, which Node offers on Linux only (this is ${platform()}): use --balance cluster`)
  }
  if (count > 1 && cluster.isPrimary) {
    requireAppFile(positionals[0], 'run')
    const [{ runPrimary }, { createLogger }] = await Promise.all([import('./primary.ts'), import('../log/logger.ts')])
    return runPrimary(count, balance, createLogger().child({ proc: 'primary' }))
  }
  const { serve, leaveCluster } = await import('./run.ts')
  const engineProcess = engineProcessOf(process.env, cluster.isWorker)
  const code = await serve(positionals[0], {
    command: 'run', dataDir: values['data-dir'] as string | undefined, frozenLockfile: values['frozen-lockfile'] === true, watch: values.watch === true,
    ...(engineProcess ? { process: engineProcess } : {}),
  })
  if (code !== 0 && engineProcess) leaveCluster()
  return code
}
