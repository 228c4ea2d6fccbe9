// `islet run [app.yaml]`: load, start, and on SIGINT/SIGTERM drain and stop; a second signal forces exit.
import { existsSync } from 'node:fs'
import { ConfigError, formatDiagnostics } from '../config/diagnostics.ts'
import { IsletError, messageOf } from '../errors.ts'
import { createLogger } from '../log/logger.ts'
import { openApp } from '../app.ts'
import { parseOptions } from './options.ts'

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args, allowPositionals: true, options: { 'data-dir': { type: 'string' } },
  })
  if (positionals.length > 1) throw new IsletError('ERR_CLI_USAGE', 'run takes one app file: islet run app.yaml')
  const file = positionals[0] ?? 'app.yaml'
  if (!existsSync(file)) throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no app file '${file}'; pass one: islet run path/to/app.yaml`)
  const logger = createLogger()

  let engine
  try {
    engine = await openApp(file, { logger, dataDir: values['data-dir'] })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`${formatDiagnostics(error.diagnostics)}\n${error.diagnostics.length} problem(s) in the config; nothing was started.`)
    return 1
  }

  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(130)
    }
    logger.info({ signal }, 'shutting down: draining requests (send the signal again to force)')
    engine.stop().then(() => { process.exitCode ??= 0 }, (error) => {
      logger.error({ err: error }, `shutdown finished with an error: ${messageOf(error)}`)
      process.exitCode = 1
    }).finally(() => { logger.flush?.(); })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    await engine.start()
  } catch (error) {
    logger.fatal?.({ err: error }, messageOf(error))
    logger.flush?.()
    console.error(`${(error as IsletError).code ?? 'ERR_INTERNAL'}: ${messageOf(error)}`)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    return 1
  }
  return 0 // the servers keep the process alive until a signal stops them
}
