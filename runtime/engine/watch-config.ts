// Watches the app's YAML files (the root and everything it imports) and reloads the config on change: parse and
// validate aside; an invalid edit is reported with the same diagnostics `islet validate` prints and changes nothing.
import { statSync } from 'node:fs'
import { watch, type FSWatcher } from 'chokidar'
import type { Logger } from '@islet/sdk'
import { loadConfig } from '../config/load.ts'
import { formatDiagnostics, type Diagnostic } from '../config/diagnostics.ts'
import type { Registry } from '../plugins/registry.ts'
import type { Engine } from './engine.ts'

export interface ConfigWatchOptions {
  engine: Engine
  /** Absolute path of the root app file. */
  file: string
  registry: Registry
  env: Record<string, string | undefined>
  logger: Logger
  /** Reports a config that failed validation (the engine reports reloads it attempted itself). */
  onInvalid(diagnostics: Diagnostic[]): void
  debounceMs?: number
}

export interface ConfigWatcher {
  /** Resolves once the files are being watched: an edit made before then may go unseen. */
  ready: Promise<void>
  close(): Promise<void>
}

export function watchConfig(options: ConfigWatchOptions): ConfigWatcher {
  const { engine, logger } = options
  const debounceMs = options.debounceMs ?? 20
  let watched = new Set<string>(engine.config.files)
  const watcher: FSWatcher = watch([...watched], { ignoreInitial: true, atomic: 50 })
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let dirty = false

  /** Size and mtime of each watched file, as the latest pass read them. */
  let stamps = ''
  const stampOf = () => [...watched].map((f) => { try { const st = statSync(f); return `${f}:${st.size}:${st.mtimeMs}` } catch { return `${f}:gone` } }).join('|')

  async function reloadLoop(): Promise<void> {
    do {
      dirty = false
      stamps = stampOf()
      const { config, diagnostics } = await loadConfig(options.file, { registry: options.registry, env: options.env })
      if (!config) {
        logger.error(`config change rejected; still serving generation ${engine.status().configHash.slice(0, 12)}:\n${formatDiagnostics(diagnostics)}`)
        options.onInvalid(diagnostics)
        continue
      }
      if (config.hash === engine.config.hash) continue
      const result = await engine.reload(config)
      if (!result.ok) continue
      // Imports may have changed: watch exactly the files of the generation now serving.
      const next = new Set(config.files)
      watcher.unwatch([...watched].filter((f) => !next.has(f)))
      watcher.add([...next].filter((f) => !watched.has(f)))
      watched = next
    } while (dirty)
  }

  let scheduled = false
  // Debounced; one reload at a time; changes during a reload mark it dirty, and one more pass reads the latest files.
  const schedule = () => {
    scheduled = true
    clearTimeout(timer)
    timer = setTimeout(() => {
      scheduled = false
      if (running) { dirty = true; return }
      running = reloadLoop()
        .catch((error: unknown) => { logger.error({ err: error }, 'config reload crashed') })
        .finally(() => { running = undefined; afterCheck() })
    }, debounceMs)
  }
  // chokidar reports one change per path per 50 ms and drops the rest of that window: a save landing just after a
  // pass read the files would go unseen. Once the window has closed, compare the files with what the pass read.
  let after: NodeJS.Timeout | undefined
  const afterCheck = () => {
    clearTimeout(after)
    after = setTimeout(() => { if (!scheduled && !running && stampOf() !== stamps) schedule() }, 60)
  }
  watcher.on('change', schedule).on('add', schedule).on('unlink', schedule)

  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    async close() {
      clearTimeout(timer)
      clearTimeout(after)
      await watcher.close()
      await running
    },
  }
}
