// `islet run --watch` and `islet dev`: watch the YAML and the components, reload on change, and say what happened
// in one line per reload.
import type { Logger } from '@islet/sdk'
import { formatDiagnostics } from '../config/diagnostics.ts'
import { watchComponents, type ComponentWatcher } from '../components/watch.ts'
import type { ComponentEvent } from '../components/reload.ts'
import type { Engine } from '../engine/engine.ts'
import type { ConfigEvent } from '../engine/reload.ts'
import { watchConfig } from '../engine/watch-config.ts'
import type { Registry } from '../plugins/registry.ts'

export interface WatchOptions {
  engine: Engine
  file: string
  registry: Registry
  logger: Logger
  /** The engine's data directory: reloaded configs are checked against it as at start. */
  dataDir?: string
  /** `--frozen-lockfile`: reloads load registry plugins exactly as islet.lock pins them. */
  frozenLockfile?: boolean
  /** Receives the human line for each event (stdout for `islet dev`, the log for `run --watch`). */
  say(line: string, isError: boolean): void
  /** Receives each event as an object instead of `say` its line (`islet dev --format json`). */
  sayJson?(event: JsonEvent): void
}

/** An event as `islet dev --format json` prints it: the object the admin event stream sends. */
export type JsonEvent = { type: string; [key: string]: unknown }

/** The line `islet dev` prints for an event, or undefined for events not worth a line. */
export function describeEvent(event: ComponentEvent | ConfigEvent): string | undefined {
  switch (event.type) {
    case 'component.reloaded': return `${event.name} reloaded in ${Math.round(event.ms)} ms (generation ${event.generation})`
    case 'component.added': return `${event.name} added in ${Math.round(event.ms)} ms (generation ${event.generation})`
    case 'component.removed': return `${event.name} removed (generation ${event.previous} retired)`
    case 'component.reload-failed': {
      const detail = event.error.diagnostics?.length ? formatDiagnostics(event.error.diagnostics) : `${event.error.code} ${event.error.message}`
      const kept = event.previous === undefined ? '' : `; generation ${event.previous} keeps serving`
      return `${event.name} reload failed${kept}:\n${detail}`
    }
    case 'config.reloaded': {
      const changes = [['restarted', event.restarted], ['added', event.added], ['removed', event.removed]]
        .filter(([, names]) => names.length > 0).map(([what, names]) => `${what} ${(names as string[]).join(', ')}`)
      const kept = (event.componentErrors ?? []).map((e) => `\n  component ${e.name} not ${e.previous === undefined
        ? `loaded (${e.code}); nothing serves it until its file is fixed` : `reloaded (${e.code}); generation ${e.previous} keeps serving`}`)
      return `config reloaded in ${Math.round(event.ms)} ms (generation ${event.generation})${changes.length ? `: ${changes.join('; ')}` : ''}${kept.join('')}`
    }
    case 'config.reload-failed': return event.error.code === 'ERR_CONFIG_INVALID'
      ? `config change rejected; the running generation keeps serving:\n${formatDiagnostics(event.diagnostics)}`
      : `config reload failed; the running generation keeps serving:\n${event.error.code} ${event.error.message}`
    default: return undefined
  }
}

/** Starts watching; resolves with the function that stops it. */
export async function startWatching(options: WatchOptions): Promise<() => Promise<void>> {
  const { engine, logger, say } = options
  // Reloads run examples in a worker of their own, which start-up did without: started now, not by the first save.
  engine.components?.warmReloads()
  // The same failure seen again (a re-check, a rebuild after a config reload) is not news: say it once.
  const lastFailure = new Map<string, string>()
  const report = (event: ComponentEvent | ConfigEvent) => {
    const subject = 'name' in event ? event.name : 'config'
    // A save that undoes a broken one builds nothing new; without a line the failure would look current.
    const line = event.type === 'component.unchanged' && lastFailure.has(subject)
      ? `${event.name} is back to the sources generation ${event.generation} serves`
      : describeEvent(event)
    if (!line) return
    if (event.type.endsWith('failed')) {
      if (lastFailure.get(subject) === line) return
      lastFailure.set(subject, line)
    } else lastFailure.delete(subject)
    if (options.sayJson) options.sayJson(event)
    else say(line, event.type.endsWith('failed'))
  }
  let components: ComponentWatcher | undefined
  const watchTheComponents = async () => {
    // A replaced watcher may have dropped a save (its debounce, or the rebuild a save during a build asked for):
    // the new one checks every component's sources against what serves once it watches.
    const recheck = components !== undefined
    await components?.close()
    components = engine.components ? await watchComponents(engine.components, engine.config.components, { logger, recheck }) : undefined
  }
  const undo = [
    engine.onEvent((event) => {
      report(event)
      // The components section may have changed: watch what the new generation declares.
      if (event.type === 'config.reloaded') void watchTheComponents()
    }),
    engine.components?.onEvent(report),
  ]
  const config = watchConfig({ engine, file: options.file, registry: options.registry, env: process.env, logger,
    dataDir: options.dataDir, frozenLockfile: options.frozenLockfile === true })
  await Promise.all([config.ready, watchTheComponents()])
  const { files, components: declared, componentDirectories = [], modules } = engine.config
  if (options.sayJson) {
    options.sayJson({ type: 'watching', files, components: declared.map((c) => c.name), componentDirectories, at: new Date().toISOString() })
  } else {
    const inputs = modules.reduce((n, m) => n + (m.inputs?.length ?? 0), 0)
    const more = [componentDirectories.length ? `${componentDirectories.length} component folder(s)` : '', inputs ? `${inputs} module input(s)` : '']
      .filter(Boolean).map((s) => `, ${s}`).join('')
    say(`watching ${files.length} config file(s), ${declared.length} component(s)${more} for changes`, false)
  }
  return async () => {
    undo.forEach((u) => u?.())
    await config.close()
    await components?.close()
  }
}
