// `islet run [app.yaml]` (and `islet dev`, which is run + watch + one line per event): load, start, and on
// SIGINT/SIGTERM drain and stop; a second signal forces exit. Under `--processes <n>` this is one engine process of
// n, forked by the primary (primary.ts): it also stops when the primary says so, and tells it when it serves.
//
// Start-up order: an app that may declare components gets its sandbox worker forked first (worker-spawn.ts), and the
// engine's modules are imported after that (dynamically, below), so the worker starts while they load.
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { dataDirOf } from '../config/data-dir.ts'
import { codeOf, messageOf } from '../errors.ts'
import { forkEarlyWorker, releaseEarlyWorker } from '../sandbox/worker-spawn.ts'
import { requireAppFile } from './app-file.ts'
import { isMessage, type EngineProcess, type PrimaryMessage } from './processes.ts'
import type { JsonEvent } from './watch.ts'

export interface ServeOptions {
  command: 'run' | 'dev'
  dataDir?: string
  /** `--frozen-lockfile`: registry plugins exactly as islet.lock pins them (LoadOptions.frozenLockfile). */
  frozenLockfile?: boolean
  /** Watch the files and reload; events go to `say` (dev) or the log (run --watch). */
  watch: boolean
  /** `islet dev`'s output: one line per event, as a sentence (`say`) or as JSON (`sayJson`). */
  dev?: { say(line: string, isError: boolean): void; sayJson?(event: JsonEvent): void }
  /** Set when a primary forked this process (`islet run --processes`): which one of how many it is. */
  process?: EngineProcess
}

export async function serve(fileArg: string | undefined, options: ServeOptions): Promise<number> {
  const file = requireAppFile(fileArg, options.command)
  if (mayDeclareComponents(file)) forkEarlyWorker()
  const [{ openApp }, { ConfigError, formatDiagnostics, toPublicDiagnostic, diagnosticOfError }, { createLogger }, { createBuiltinRegistry }] = await Promise.all([
    import('../app.ts'), import('../config/diagnostics.ts'), import('../log/logger.ts'), import('../builtins.ts'),
  ])
  const { dev, process: engineProcess } = options
  const json = dev?.sayJson
  // Under `islet dev` the log does not repeat the events dev prints; with JSON output it goes to stderr, so that
  // stdout holds nothing but the event lines. One of several engine processes tags each line with its index.
  const base = createLogger({ quietEvents: dev !== undefined, ...(json ? { destination: process.stderr, pretty: process.stderr.isTTY === true } : {}) })
  const logger = engineProcess ? base.child({ proc: engineProcess.index }) : base
  // The same start failure would be printed by every engine process: the first one says it (the others log it).
  const quiet = engineProcess !== undefined && engineProcess.index > 0
  const registry = createBuiltinRegistry()

  // Under `islet dev`, an app that does not load (a broken YAML, a plugin that does not import) is reported and
  // then waited on: the next save in its folder tries again, as a reload would.
  let engine
  for (;;) {
    try {
      engine = await openApp(file, { logger, registry, dataDir: options.dataDir, frozenLockfile: options.frozenLockfile === true, ...(engineProcess ? { process: engineProcess } : {}) })
      break
    } catch (error) {
      releaseEarlyWorker()
      if (!(error instanceof ConfigError)) throw error
      const { watchForChange } = await import('./next-change.ts')
      const waiting = options.command === 'dev' ? await watchForChange(dirname(resolve(file)), dataDirOf(options.dataDir, process.env)) : undefined
      const nothing = waiting ? 'nothing was started; fix it and save: dev tries again' : 'nothing was started'
      if (quiet) logger.error({ code: error.code }, `${error.diagnostics.length} problem(s) in the config; ${nothing}`)
      else if (json) json({ type: 'start-failed', error: { code: error.code, message: `${error.diagnostics.length} problem(s) in the config; ${nothing}` }, diagnostics: error.diagnostics.map(toPublicDiagnostic), at: new Date().toISOString() })
      else console.error(`${formatDiagnostics(error.diagnostics)}\n${error.diagnostics.length} problem(s) in the config; ${nothing}.`)
      if (!waiting) return 1
      await waiting.changed
    }
  }

  // Forked on a guess from the YAML's text: an app without components after all has no use for it.
  if (!engine.components) releaseEarlyWorker()
  let stopWatching: (() => Promise<void>) | undefined
  let signals = 0
  let stopping: Promise<void> | undefined
  const shutDown = () => {
    stopping ??= Promise.resolve(stopWatching?.()).then(() => engine.stop()).then(stopCompiler).then(() => { process.exitCode ??= 0 }, (error) => {
      logger.error({ err: error }, `shutdown finished with an error: ${messageOf(error)}`)
      process.exitCode = 1
    }).finally(() => {
      logger.flush?.()
      // The primary's IPC channel would keep this process alive: let go of it once everything stopped.
      if (engineProcess) leaveCluster()
      else exitIfStuck(logger)
    })
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(130)
    }
    logger.info({ signal }, 'shutting down: draining requests (send the signal again to force)')
    shutDown()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // Ctrl-C reaches the primary and every engine process at once: the primary's stop that follows is the same stop,
  // not a second signal.
  const onPrimary = (message: unknown) => {
    if (isMessage<PrimaryMessage>(message, 'islet:stop-now')) process.exit(130)
    if (isMessage<PrimaryMessage>(message, 'islet:stop') && !stopping) {
      logger.info('shutting down (the primary asked): draining requests')
      shutDown()
    }
  }
  if (engineProcess) process.on('message', onPrimary)

  try {
    await engine.start()
  } catch (error) {
    logger.fatal?.({ err: error }, messageOf(error))
    logger.flush?.()
    const code = codeOf(error, 'ERR_INTERNAL')
    if (json) json({ type: 'start-failed', error: { code, message: messageOf(error) }, diagnostics: [diagnosticOfError(code, messageOf(error))], at: new Date().toISOString() })
    else if (!quiet) console.error(`${code}: ${messageOf(error)}`)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (engineProcess) process.off('message', onPrimary)
    return 1
  }
  if (engineProcess && !stopping) process.send?.({ type: 'islet:ready' })
  if (options.watch) {
    const say = dev?.say ?? ((line: string, isError: boolean) => { logger[isError ? 'error' : 'info'](line) })
    const { startWatching } = await import('./watch.ts')
    stopWatching = await startWatching({ engine, file: resolve(file), registry, logger, say, frozenLockfile: options.frozenLockfile === true, ...(json ? { sayJson: json } : {}),
      dataDir: dataDirOf(options.dataDir, process.env) })
    // A signal that came while the watchers were being set up found nothing to close: close them now, or they would
    // keep the process alive after the engine stopped.
    if (signals > 0) await stopWatching()
  }
  return 0 // the servers keep the process alive until a signal stops them
}

/** esbuild's service, stopped for good once the engine has (loaded only if a build ever ran: it is then cached). */
async function stopCompiler(): Promise<void> {
  const { stopCompiler: stop } = await import('../components/compile-build.ts')
  await stop()
}

/**
 * Everything is stopped: the process ends when its event loop empties. A handle something forgot to close (seen
 * rarely after `islet dev` rejected a reload) must not keep it alive: after 3 s it exits anyway, naming what was left
 * open so the leak can be found. The timer is unref'd: a clean stop never waits for it.
 */
function exitIfStuck(logger: { warn(fields: object, message: string): void; flush?: () => void }): void {
  setTimeout(() => {
    logger.warn({ open: process.getActiveResourcesInfo() }, 'stopped, but handles were left open: exiting anyway')
    logger.flush?.()
    process.exit()
  }, 3_000).unref()
}

/** Disconnects from the primary so this engine process can end; a handle left open cannot keep it past 5 s. */
export function leaveCluster(): void {
  if (cluster.worker?.isConnected()) cluster.worker.disconnect()
  setTimeout(() => process.exit(), 5_000).unref()
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
