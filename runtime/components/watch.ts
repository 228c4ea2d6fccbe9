// Watch mode for components: chokidar on the folders holding each component's source files (and on `directory:`
// folders); an edit rebuilds the component through host.reload, debounced, with at most one build per component at once.
import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import type { Logger } from '@islet/sdk'
import type { ComponentDecl } from '../config/types.ts'
import { messageOf } from '../errors.ts'
import { coalesce, type Coalescer, type Snapshot } from '../watch/coalesce.ts'
import type { ComponentHost, ReloadResult } from './host.ts'

export interface WatchComponentsOptions {
  /** Quiet time after a file event before the build starts: a burst of writes (or unlink + add) is one build. Default 10. */
  debounceMs?: number
  /** More `directory:` folders to watch for new components; those of `decls` (their `directory`) are watched anyway. */
  directories?: readonly string[]
  /**
   * Once watching, rebuild every component whose sources moved since its generation was built (an unchanged one
   * costs a compile-cache hit): for a watcher that takes over from another, which may have dropped a save.
   */
  recheck?: boolean
  logger?: Logger
}

export type WatchEvent =
  /** A source file of `name` was written, added or removed; a build follows after the debounce. */
  | { type: 'component.changed'; name: string; file: string; change: 'add' | 'change' | 'unlink'; at: string }
  /** A new component entry appeared in a `directory:` folder. Not loaded: declaring it is the config's job. */
  | { type: 'component.detected'; file: string; directory: string; at: string }
  /** A build the watcher ran finished (the host's own events say what it did). */
  | { type: 'component.built'; name: string; result: ReloadResult; at: string }
  | { type: 'component.watch-error'; message: string; at: string }

export interface ComponentWatcher {
  onEvent(listener: (event: WatchEvent) => void): () => void
  /** Resolves once no build is waiting, running or due for its after-check. */
  idle(): Promise<void>
  /** Stops watching; resolves after a build in flight has finished. Idempotent. */
  close(): Promise<void>
}

interface Target {
  name: string
  /** Real path of its entry file. */
  entry: string
  /** Real paths of the inputs of its live generation (its entry alone before any loaded). */
  files: Set<string>
  /** Found by a `directory:` entry: its entry file going away removes it from the config (the config watcher's job). */
  isFound: boolean
  /** Its builds: debounced, one at a time, dirty → exactly one more, after-checked (see watch/coalesce.ts). */
  builds: Coalescer
  isFailing: boolean
}

/**
 * Watches the components of `decls` on `host` until close(). chokidar runs with `atomic: false` and no
 * `awaitWriteFinish`: an editor's temp-file-and-rename save arrives as one `change` (chokidar re-watches the new
 * inode); a delete-and-recreate save arrives as unlink + add within the debounce, so it is one build; `atomic` would
 * hold every real deletion back 100 ms, and `awaitWriteFinish` polls each write for a stability threshold (2 s by
 * default) before reporting it. A half-written file is no risk either: its build fails, the old generation keeps
 * serving, and the write's completion is one more event.
 */
export async function watchComponents(host: ComponentHost, decls: readonly ComponentDecl[],
  options: WatchComponentsOptions = {}): Promise<ComponentWatcher> {
  const debounceMs = options.debounceMs ?? 10
  const targets = new Map<string, Target>()
  const folders = new Set<string>()
  const watched = new Set<string>()
  const listeners = new Set<(event: WatchEvent) => void>()
  let closing: Promise<void> | undefined
  // Every save runs the component's examples: their worker stays up while watching instead of starting per reload.
  const releaseExamplesWorker = host.keepExamplesWorker()

  const emit = (event: WatchEvent) => {
    for (const listener of [...listeners]) {
      try { listener(event) } catch (error) { options.logger?.error({ err: error }, 'a watch event listener threw') }
    }
  }
  const at = () => new Date().toISOString()
  const isIdle = () => [...targets.values()].every((t) => t.builds.isIdle())

  let fsw: FSWatcher | undefined

  function watchDir(dir: string): void {
    if (watched.has(dir)) return
    watched.add(dir)
    fsw?.add(dir)
  }

  async function track(decl: ComponentDecl, files?: readonly string[]): Promise<void> {
    const { name, file } = decl
    const entry = await realpath(file).catch(() => file)
    const target: Target = {
      name, entry, files: new Set(files ?? [entry]), isFound: decl.directory !== undefined, isFailing: false,
      builds: coalesce({
        debounceMs,
        run: () => build(target),
        // The stamps of the files the build reads, compared again once chokidar's change window has closed.
        snapshot: () => stampsOf(target.files),
        // Build now, during the debounce — compile, load, init, examples — but swap nothing before the quiet time is
        // over: the build then takes this generation if the files did not move since (it compares the compiled hash,
        // never stale), and otherwise builds afresh.
        ahead: () => host.prepareAhead(name),
        onError: (error) => options.logger?.error({ err: error }, `component '${name}': the watcher's build crashed`),
      }),
    }
    targets.get(name)?.builds.close()
    targets.set(name, target)
    for (const f of target.files) watchDir(dirname(f))
  }

  /** After a generation changed: its imports may have too. Folders no longer needed stay watched (their events are ignored). */
  function retarget(name: string): void {
    const target = targets.get(name)
    const gen = host.generation(name)
    if (!target || !gen) return
    target.files = new Set(gen.files)
    for (const f of target.files) watchDir(dirname(f))
  }

  async function build(target: Target): Promise<void> {
    let result: ReloadResult
    try {
      result = await host.reload(target.name, { ifChanged: true })
    } catch (error) {
      result = { name: target.name, ok: false, ms: 0, error: { code: 'ERR_COMPONENT_LOAD_FAILED', message: messageOf(error) } }
    }
    target.isFailing = !result.ok
    if (result.ok) retarget(target.name)
    emit({ type: 'component.built', name: target.name, result, at: at() })
  }

  function onFileEvent(change: 'add' | 'change' | 'unlink', path: string): void {
    let isKnown = false
    for (const target of targets.values()) {
      if (target.entry === path) isKnown = true
      // A found component's entry deleted or renamed: the config reload that follows removes it (or says what still
      // calls it); building it now would only report a missing file.
      if (change === 'unlink' && target.isFound && target.entry === path) continue
      if (target.files.has(path)) {
        emit({ type: 'component.changed', name: target.name, file: path, change, at: at() })
        target.builds.touch()
      } else if (target.isFailing && change !== 'unlink' && [...target.files].some((f) => dirname(f) === dirname(path))) {
        target.builds.touch() // perhaps the file its failed build imports, created only now
      }
    }
    if (change === 'add' && !isKnown) {
      const directory = entryFolder(path)
      if (directory) emit({ type: 'component.detected', file: path, directory, at: at() })
    }
  }

  /** The `directory:` folder that would find `path` as a component entry (`x.ts`, or `x/index.ts`), if any. */
  function entryFolder(path: string): string | undefined {
    const name = basename(path)
    if (name.startsWith('.') || !name.endsWith('.ts') || name.endsWith('.test.ts') || name.endsWith('.d.ts')) return undefined
    if (folders.has(dirname(path))) return dirname(path)
    if (name === 'index.ts' && folders.has(dirname(dirname(path)))) return dirname(dirname(path))
    return undefined
  }

  for (const decl of decls) await track(decl, host.generation(decl.name)?.files)
  const dirs = new Set([...decls.flatMap((d) => (d.directory ? [d.directory] : [])), ...(options.directories ?? [])])
  for (const dir of dirs) {
    const real = await realpath(dir).catch(() => undefined)
    if (!real) continue
    folders.add(real)
    watchDir(real)
    const entries = await readdir(real, { withFileTypes: true }).catch(() => [])
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') watchDir(join(real, e.name))
  }
  fsw = watch([...watched], {
    ignoreInitial: true, depth: 0, atomic: false, awaitWriteFinish: false,
    // Editor litter (.x.swp, .#x) and dependency folders; never a folder we were asked to watch.
    ignored: (path: string) => !watched.has(path) && (basename(path).startsWith('.') || basename(path) === 'node_modules'),
  })
  fsw.on('all', (event, path) => {
    if (closing) return
    if (event === 'add' || event === 'change' || event === 'unlink') return onFileEvent(event, path)
    // A new subfolder of a `directory:` folder may get an index.ts: watch it. A file written into it before chokidar
    // took the folder up gets no 'add' (its initial scan is ignored), so the folder is read once here.
    if (event === 'addDir' && folders.has(dirname(path))) {
      watchDir(path)
      void readdir(path).then((names) => { for (const n of names) if (!closing) onFileEvent('add', join(path, n)) }, () => {})
    }
  })
  fsw.on('error', (error) => {
    options.logger?.warn({ err: error }, 'component watcher error')
    emit({ type: 'component.watch-error', message: messageOf(error), at: at() })
  })

  const unsubscribe = host.onEvent((event) => {
    if (closing) return
    if (event.type === 'component.reloaded') retarget(event.name)
    else if (event.type === 'component.added') {
      const gen = host.generation(event.name)
      if (gen && !targets.has(event.name)) void track(gen.decl, gen.files)
      else retarget(event.name)
    } else if (event.type === 'component.removed') {
      void targets.get(event.name)?.builds.close()
      targets.delete(event.name)
    }
  })

  await new Promise<void>((resolve) => fsw!.once('ready', () => resolve()))
  // Each goes through the debounce and an ifChanged build: nothing is built when the sources are what serves.
  if (options.recheck) for (const target of targets.values()) target.builds.touch()

  return {
    onEvent(listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    async idle() {
      // Each target's own idle, until all are at once: a build's after-check may touch another's files.
      while (!isIdle()) await Promise.all([...targets.values()].map((t) => t.builds.idle()))
    },
    close() {
      closing ??= (async () => {
        unsubscribe()
        releaseExamplesWorker()
        const builds = [...targets.values()].map((t) => t.builds.close())
        await fsw!.close()
        await Promise.all(builds)
      })()
      return closing
    },
  }
}

/** `ino:size:mtime` of each file ('missing' when it is gone): cheap, and it moves with every write. */
async function stamps(files: Iterable<string>): Promise<Map<string, string>> {
  const list = [...files]
  const stats = await Promise.all(list.map((f) => stat(f, { bigint: true }).then((s) => `${s.ino}:${s.size}:${s.mtimeNs}`, () => 'missing')))
  return new Map(list.map((f, i) => [f, stats[i]]))
}

/** The files' stamps now; moved() when any of those same files has another stamp since. */
async function stampsOf(files: Iterable<string>): Promise<Snapshot> {
  const taken = await stamps(files)
  return { moved: async () => [...await stamps(taken.keys())].some(([file, stamp]) => taken.get(file) !== stamp) }
}
