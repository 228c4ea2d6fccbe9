// Watches what the app's config is made of and reloads it on change: the YAML files (the root and everything it
// imports), the files its modules read on start (their types' `inputs`, e.g. migrations folders), and the folders of
// `directory:` component entries (a component file added or removed there changes the config). Each pass parses and
// validates aside; an invalid edit is recorded on the engine (status, events) with the diagnostics `islet validate`
// prints, and changes nothing. Plugins (`plugins:`) are imported once per process (Node caches ES modules, and
// re-importing under a new URL would leave the old code running beside the new): a change to the list or to a
// plugin's module or package.json on disk is refused with ERR_CONFIG_RELOAD_NEEDS_RESTART, at its entry. Registry
// plugins (the `plugins:` map) without host code reload like the rest: a new version in islet.lock is a new,
// content-addressed folder, so its components and YAML files are new files to compile and read.
import { readdirSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import type { Logger } from '@islet/sdk'
import { loadConfig } from '../config/load.ts'
import { formatDiagnostics } from '../config/diagnostics.ts'
import type { Diagnostic } from '../config/diagnostics.ts'
import type { AppConfig, PluginDecl } from '../config/types.ts'
import type { Registry } from '../plugins/registry.ts'
import { coalesce } from '../watch/coalesce.ts'
import type { Engine } from './engine.ts'

export interface ConfigWatchOptions {
  engine: Engine
  /** Absolute path of the root app file. */
  file: string
  registry: Registry
  env: Record<string, string | undefined>
  logger: Logger
  debounceMs?: number
  /** The engine's data directory, for the database paths of reloaded configs (see LoadOptions.dataDir). */
  dataDir?: string
  /** `--frozen-lockfile` (LoadOptions.frozenLockfile). */
  frozenLockfile?: boolean
}

export interface ConfigWatcher {
  /** Resolves once the files are being watched: an edit made before then may go unseen. */
  ready: Promise<void>
  close(): Promise<void>
}

/** What one config generation is made of, as watch targets. */
interface Targets {
  /** YAML files and module inputs: any change to them is a possible new config. */
  contents: Set<string>
  /** Component folders: only entries coming and going matter (an edit to a component is its own watcher's). */
  folders: Set<string>
}

function targetsOf(config: AppConfig): Targets {
  const inputs = config.modules.flatMap((m) => (m.inputs ?? []).map((i) => i.path))
  // A plugin's module is watched only to say that a restart is needed (see pluginChanges).
  const plugins = (config.plugins ?? []).filter((p) => !p.locked).flatMap((p) => (p.packageJson ? [p.file, p.packageJson] : [p.file]))
  // islet.lock: a new pinned version of a registry plugin is a new config (its folder, its components' files).
  const lock = config.lockFile ? [config.lockFile] : []
  return { contents: new Set([...config.files, ...inputs, ...plugins, ...lock]), folders: new Set(config.componentDirectories ?? []) }
}

/** What a reload cannot apply about plugins, as diagnostics at the entries concerned; empty when they are unchanged. */
export function pluginChanges(serving: AppConfig, next: AppConfig): Diagnostic[] {
  const key = (p: PluginDecl) => `${p.name}\0${p.version}\0${p.file}\0${p.fingerprint}`
  // Registry plugins are versioned, content-addressed folders: a new version is a new module URL, loaded beside
  // the old one, and the reload swaps the registry with the generation (engine/reload.ts). Only the list form is
  // imported once per process.
  const listed = (config: AppConfig) => (config.plugins ?? []).filter((p) => !p.locked)
  const before = new Map(listed(serving).map((p) => [key(p), p]))
  const after = new Map(listed(next).map((p) => [key(p), p]))
  const restart = 'plugins are loaded when islet starts: restart it to apply this; under islet dev, stop it with Ctrl-C and start it again'
  const at = (p: PluginDecl, message: string): Diagnostic =>
    ({ ...p.source, severity: 'error', code: 'ERR_CONFIG_RELOAD_NEEDS_RESTART', path: '', message, hint: restart })
  const diagnostics: Diagnostic[] = []
  for (const [k, p] of after) {
    if (before.has(k)) continue
    const old = [...before.values()].find((o) => o.name === p.name)
    // The version shown is the one running: the process still holds the module it imported at start.
    diagnostics.push(at(p, old ? `plugin ${old.name}@${old.version} changed on disk (${p.file}); the running engine keeps the code it loaded`
      : `plugin ${p.name}@${p.version} was added`))
  }
  for (const [k, p] of before) {
    if (!after.has(k) && ![...after.values()].some((n) => n.name === p.name)) {
      diagnostics.push({ file: next.file, line: 1, col: 1, severity: 'error', code: 'ERR_CONFIG_RELOAD_NEEDS_RESTART', path: 'plugins',
        message: `plugin ${p.name}@${p.version} was removed from plugins:`, hint: restart })
    }
  }
  return diagnostics
}

export function watchConfig(options: ConfigWatchOptions): ConfigWatcher {
  const { engine, logger } = options
  const debounceMs = options.debounceMs ?? 20
  let targets = targetsOf(engine.config)
  const all = (t: Targets) => new Set([...t.contents, ...t.folders])
  // depth 1: a migrations folder's files, a component folder's entries and its subfolders' index.ts.
  const watcher: FSWatcher = watch([...all(targets)], { ignoreInitial: true, atomic: 50, depth: 1 })
  let closed = false

  /** Size and mtime of each file (a folder: of its entries). */
  const stampOf = (files: readonly string[]) => files.map((f) => `${f}:${stamp(f)}`).join('|')

  async function reloadOnce(): Promise<void> {
    const { config, diagnostics, registry } = await loadConfig(options.file, { registry: options.registry, env: options.env,
      dataDir: options.dataDir, frozenLockfile: options.frozenLockfile === true })
    if (!config) {
      logger.error({ eventType: 'config.reload-failed' }, `config change rejected; still serving generation ${engine.status().generation}:\n${formatDiagnostics(diagnostics)}`)
      await engine.rejectConfig(diagnostics)
      return
    }
    // Plugins are imported once per process: a changed plugins: list or plugin module needs a restart.
    const needsRestart = pluginChanges(engine.config, config)
    if (needsRestart.length > 0) {
      logger.error({ eventType: 'config.reload-failed' }, `config change rejected; still serving generation ${engine.status().generation}:\n${formatDiagnostics(needsRestart)}`)
      await engine.rejectConfig(needsRestart)
      return
    }
    // The config serving already: nothing to do, unless the last attempt failed (then this edit reverted it, and
    // a reload that changes nothing records that the config on disk serves again).
    if (config.hash === engine.config.hash && engine.status().lastReload?.ok !== false) return
    const result = await engine.reload(config, registry)
    if (!result.ok) return
    // As at start (app.ts): the new generation's warnings (a deprecated plugin version it now loads, a lock updated).
    for (const d of diagnostics) if (d.severity === 'warning') logger.warn({ diagnostic: d }, d.message)
    // Imports, inputs and component folders may have changed: watch exactly what the generation now serving uses.
    const next = targetsOf(config)
    const [before, after] = [all(targets), all(next)]
    const added = [...after].filter((f) => !before.has(f))
    watcher.unwatch([...before].filter((f) => !after.has(f)))
    watcher.add(added)
    targets = next
    // A save to a newly watched file between this pass reading it and chokidar watching it makes no event: once
    // chokidar watches them all, one more pass reads them again (a no-op when nothing changed: same config hash).
    if (added.length > 0) void untilWatched(added).then((watching) => { if (watching) reloads.touch() })
  }

  /**
   * Resolves true once chokidar watches every path of `paths` (or after 5 s, when one never appears: a pass more
   * costs nothing); false if the watcher closes first.
   */
  async function untilWatched(paths: readonly string[]): Promise<boolean> {
    const watched = () => {
      const now = watcher.getWatched()
      return paths.every((p) => now[p] !== undefined || (now[dirname(p)] ?? []).includes(basename(p)))
    }
    for (let waited = 0; !closed && !watched() && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10))
    return !closed
  }

  // Debounced; one reload at a time; changes during a reload mark it dirty, and one more pass reads the latest files;
  // a save chokidar dropped is caught by comparing the stamps once its change window has closed (watch/coalesce.ts).
  const reloads = coalesce({
    debounceMs,
    run: reloadOnce,
    // The content targets as the pass starts (the same files after it, even when the pass changed what is watched).
    snapshot: () => {
      const files = [...targets.contents]
      const taken = stampOf(files)
      return { moved: () => stampOf(files) !== taken }
    },
    onError: (error) => logger.error({ err: error }, 'config reload crashed'),
  })
  watcher.on('all', (event, path) => {
    if (isUnder(path, targets.contents)) return reloads.touch()
    // In a component folder: an entry (x.ts, or sub/index.ts) or a subfolder came or went.
    if (event !== 'change' && isUnder(path, targets.folders)) reloads.touch()
  })

  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    async close() {
      closed = true
      const settled = reloads.close()
      await watcher.close()
      await settled
    },
  }
}

/** `path` is one of `roots` or inside one (two levels at most: the watcher's depth). */
function isUnder(path: string, roots: ReadonlySet<string>): boolean {
  return roots.has(path) || roots.has(dirname(path)) || roots.has(dirname(dirname(path)))
}

/** size:mtime of a file; of a folder, its entries' names and stamps (one level: a migrations folder). */
function stamp(path: string, listFolder = true): string {
  try {
    const st = statSync(path)
    if (!st.isDirectory() || !listFolder) return `${st.size}:${st.mtimeMs}`
    return readdirSync(path).sort().map((name) => `${name}=${stamp(join(path, name), false)}`).join(',')
  } catch {
    return 'gone'
  }
}
