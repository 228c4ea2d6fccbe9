// `islet run [app.yaml]` (and `islet dev`, which is run + watch + one line per event): load, start, and on
// SIGINT/SIGTERM drain and stop; a second signal forces exit.
//
// Start-up order: an app that may declare components gets its sandbox worker forked first (worker-spawn.ts), and the
// engine's modules are imported after that (dynamically, below), so the worker starts while they load.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { dataDirOf } from '../config/data-dir.ts'
import { codeOf, IsletError, messageOf } from '../errors.ts'
import { forkEarlyWorker, releaseEarlyWorker } from '../sandbox/worker-spawn.ts'
import type { ParsedOptions } from './options.ts'
import type { JsonEvent } from './watch.ts'

export interface ServeOptions {
  command: 'run' | 'dev'
  dataDir?: string
  /** Watch the files and reload; events go to `say` (dev) or the log (run --watch). */
  watch: boolean
  /** `islet dev`'s output: one line per event, as a sentence (`say`) or as JSON (`sayJson`). */
  dev?: { say(line: string, isError: boolean): void; sayJson?(event: JsonEvent): void }
}

export default function run({ values, positionals }: ParsedOptions): Promise<number> {
  return serve(positionals[0], { command: 'run', dataDir: values['data-dir'] as string | undefined, watch: values.watch === true })
}

export async function serve(fileArg: string | undefined, options: ServeOptions): Promise<number> {
  const file = fileArg ?? 'app.yaml'
  if (!existsSync(file)) {
    throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no app file '${file}'${fileArg === undefined ? ' (the default) in this folder' : ''}; pass one: islet ${options.command} path/to/app.yaml`)
  }
  if (mayDeclareComponents(file)) forkEarlyWorker()
  const [{ openApp }, { ConfigError, formatDiagnostics, toPublicDiagnostic, diagnosticOfError }, { createLogger }, { createBuiltinRegistry }] = await Promise.all([
    import('../app.ts'), import('../config/diagnostics.ts'), import('../log/logger.ts'), import('../builtins.ts'),
  ])
  const { dev } = options
  const json = dev?.sayJson
  // Under `islet dev` the log does not repeat the events dev prints; with JSON output it goes to stderr, so that
  // stdout holds nothing but the event lines.
  const logger = createLogger({ quietEvents: dev !== undefined, ...(json ? { destination: process.stderr, pretty: process.stderr.isTTY === true } : {}) })
  const registry = createBuiltinRegistry()

  // Under `islet dev`, an app that does not load (a broken YAML, a plugin that does not import) is reported and
  // then waited on: the next save in its folder tries again, as a reload would.
  let engine
  for (;;) {
    try {
      engine = await openApp(file, { logger, registry, dataDir: options.dataDir })
      break
    } catch (error) {
      releaseEarlyWorker()
      if (!(error instanceof ConfigError)) throw error
      const { watchForChange } = await import('./next-change.ts')
      const waiting = options.command === 'dev' ? await watchForChange(dirname(resolve(file)), dataDirOf(options.dataDir, process.env)) : undefined
      const nothing = waiting ? 'nothing was started; fix it and save: dev tries again' : 'nothing was started'
      if (json) json({ type: 'start-failed', error: { code: error.code, message: `${error.diagnostics.length} problem(s) in the config; ${nothing}` }, diagnostics: error.diagnostics.map(toPublicDiagnostic), at: new Date().toISOString() })
      else console.error(`${formatDiagnostics(error.diagnostics)}\n${error.diagnostics.length} problem(s) in the config; ${nothing}.`)
      if (!waiting) return 1
      await waiting.changed
    }
  }

  // Forked on a guess from the YAML's text: an app without components after all has no use for it.
  if (!engine.components) releaseEarlyWorker()
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
    const code = codeOf(error, 'ERR_INTERNAL')
    if (json) json({ type: 'start-failed', error: { code, message: messageOf(error) }, diagnostics: [diagnosticOfError(code, messageOf(error))], at: new Date().toISOString() })
    else console.error(`${code}: ${messageOf(error)}`)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    return 1
  }
  if (options.watch) {
    const say = dev?.say ?? ((line: string, isError: boolean) => { logger[isError ? 'error' : 'info'](line) })
    const { startWatching } = await import('./watch.ts')
    stopWatching = await startWatching({ engine, file: resolve(file), registry, logger, say, ...(json ? { sayJson: json } : {}),
      dataDir: dataDirOf(options.dataDir, process.env) })
    // A signal that came while the watchers were being set up found nothing to close: close them now, or they would
    // keep the process alive after the engine stopped.
    if (signals > 0) await stopWatching()
  }
  return 0 // the servers keep the process alive until a signal stops them
}

/**
 * Whether the app may declare components, from the root YAML's text: a top-level `components:` or `imports:` key (an
 * imported file may declare them). A guess that errs towards yes; it only decides whether the worker is forked early.
 */
function mayDeclareComponents(file: string): boolean {
  try {
    return /^(components|imports)\s*:/m.test(readFileSync(file, 'utf8'))
  } catch {
    return false
  }
}
