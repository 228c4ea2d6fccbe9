// `islet run [app.yaml]`: load, start, and on SIGINT/SIGTERM drain and stop; a second signal forces exit.
import { existsSync } from 'node:fs'
import { ConfigError, formatDiagnostics } from '../config/diagnostics.ts'
import { codeOf, IsletError, messageOf } from '../errors.ts'
import { createLogger } from '../log/logger.ts'
import { dataDirOf, openApp } from '../app.ts'
import { parseOptions } from './options.ts'
import { startWatching } from './watch.ts'
import { createBuiltinRegistry } from '../builtins.ts'
import { resolve } from 'node:path'

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args, allowPositionals: true, options: { 'data-dir': { type: 'string' }, watch: { type: 'boolean', default: false }, dev: { type: 'boolean', default: false } },
  })
  if (positionals.length > 1) throw new IsletError('ERR_CLI_USAGE', 'run takes one app file: islet run app.yaml')
  const file = positionals[0] ?? 'app.yaml'
  if (!existsSync(file)) throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no app file '${file}'; pass one: islet run path/to/app.yaml`)
  const logger = createLogger()
  const registry = createBuiltinRegistry()

  let engine
  try {
    engine = await openApp(file, { logger, registry, dataDir: values['data-dir'] })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`${formatDiagnostics(error.diagnostics)}\n${error.diagnostics.length} problem(s) in the config; nothing was started.`)
    return 1
  }

  let stopWatching: (() => Promise<void>) | undefined
  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(130)
    }
    logger.info({ signal }, 'shutting down: draining requests (send the signal again to force)')
    Promise.resolve(stopWatching?.()).then(() => engine.stop()).then(() => { process.exitCode ??= 0 }, (error) => {
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
    console.error(`${codeOf(error, 'ERR_INTERNAL')}: ${messageOf(error)}`)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    return 1
  }
  if (values.watch || values.dev) {
    // `islet dev` prints one plain line per reload; `run --watch` logs them.
    const say = values.dev
      ? (line: string, isError: boolean) => { (isError ? process.stderr : process.stdout).write(`${line}\n`) }
      : (line: string, isError: boolean) => { logger[isError ? 'error' : 'info'](line) }
    stopWatching = await startWatching({ engine, file: resolve(file), registry, logger, say,
      dataDir: dataDirOf(values['data-dir'], process.env) })
    const { files, components, componentDirectories = [], modules } = engine.config
    const inputs = modules.reduce((n, m) => n + (m.inputs?.length ?? 0), 0)
    const more = [componentDirectories.length ? `${componentDirectories.length} component folder(s)` : '', inputs ? `${inputs} module input(s)` : '']
      .filter(Boolean).map((s) => `, ${s}`).join('')
    say(`watching ${files.length} config file(s), ${components.length} component(s)${more} for changes`, false)
  }
  return 0 // the servers keep the process alive until a signal stops them
}
