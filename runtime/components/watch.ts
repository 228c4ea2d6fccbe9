// Watch mode for components: chokidar on the folders holding each component's source files (and on `directory:`
// folders); an edit rebuilds the component through host.reload, debounced, with at most one build per component at once.
import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import type { Logger } from '@islet/sdk'
import type { ComponentDecl } from '../config/types.ts'
import { messageOf } from '../errors.ts'
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
  timer?: NodeJS.Timeout
  after?: NodeJS.Timeout
  building?: Promise<void>
  /** A build started at the first event of a burst (host.prepareAhead), so the one after the debounce is only the swap. */
  preparing?: Promise<void>
  isDirty: boolean
  isFailing: boolean
  /** performance.now() of its latest file event, and of its latest build's start. */
  changedAt: number
  builtAt: number
  /** Each input's identity, size and mtime when the latest build started. */
  stamp: Map<string, string>
}

/**
 * chokidar emits one `change` per path per 50 ms and drops the rest of that window without a trailing event: a write
 * landing after a build has read the files but inside the window would go unseen. After such a build the watcher
 * compares the files' stamps once the window has closed, and builds again if they moved.
 */
const CHOKIDAR_CHANGE_WINDOW_MS = 50
const AFTER_CHECK_MS = CHOKIDAR_CHANGE_WINDOW_MS + 10

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
  let idleWaiters: (() => void)[] = []
  let closing: Promise<void> | undefined

  const emit = (event: WatchEvent) => {
    for (const listener of [...listeners]) {
      try { listener(event) } catch (error) { options.logger?.error({ err: error }, 'a watch event listener threw') }
    }
  }
  const at = () => new Date().toISOString()
  const isIdle = () => [...targets.values()].every((t) => !t.timer && !t.after && !t.building && !t.preparing)
  const settle = () => {
    if (!isIdle()) return
    const waiters = idleWaiters
    idleWaiters = []
    for (const resolve of waiters) resolve()
  }

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
      name, entry, files: new Set(files ?? [entry]), isFound: decl.directory !== undefined, isDirty: false, isFailing: false,
      changedAt: 0, builtAt: 0, stamp: new Map(),
    }
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

  function schedule(target: Target): void {
    target.changedAt = performance.now()
    if (target.building) {
      target.isDirty = true
      return
    }
    clearTimeout(target.timer)
    clearTimeout(target.after)
    target.after = undefined
    target.timer = setTimeout(() => { target.building = build(target) }, debounceMs)
    // Build now, during the debounce — compile, load, init, examples — but swap nothing before the quiet time is over:
    // the build then takes this generation if the files did not move since (it compares the compiled hash, never
    // stale), and otherwise builds afresh.
    target.preparing ??= host.prepareAhead(target.name).finally(() => {
      target.preparing = undefined
      settle()
    })
  }

  async function build(target: Target): Promise<void> {
    target.timer = undefined
    target.isDirty = false
    target.builtAt = performance.now()
    target.stamp = await stamps(target.files)
    let result: ReloadResult
    try {
      result = await host.reload(target.name, { ifChanged: true })
    } catch (error) {
      result = { name: target.name, ok: false, ms: 0, error: { code: 'ERR_COMPONENT_LOAD_FAILED', message: messageOf(error) } }
    }
    target.building = undefined
    target.isFailing = !result.ok
    if (result.ok) retarget(target.name)
    emit({ type: 'component.built', name: target.name, result, at: at() })
    if (closing || !targets.has(target.name)) return settle()
    if (target.isDirty) {
      // Writes arrived during the build: exactly one more, reading whatever is there by then.
      target.isDirty = false
      target.timer = setTimeout(() => { target.building = build(target) }, debounceMs)
    } else if (target.builtAt < target.changedAt + CHOKIDAR_CHANGE_WINDOW_MS) {
      target.after = setTimeout(() => void afterCheck(target), Math.max(0, target.changedAt + AFTER_CHECK_MS - performance.now()))
    }
    settle()
  }

  async function afterCheck(target: Target): Promise<void> {
    const now = await stamps(target.stamp.keys())
    target.after = undefined
    if (closing || target.timer || target.building) return settle()
    if ([...now].some(([file, stamp]) => target.stamp.get(file) !== stamp)) schedule(target)
    settle()
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
        schedule(target)
      } else if (target.isFailing && change !== 'unlink' && [...target.files].some((f) => dirname(f) === dirname(path))) {
        schedule(target) // perhaps the file its failed build imports, created only now
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
      const target = targets.get(event.name)
      clearTimeout(target?.timer)
      clearTimeout(target?.after)
      targets.delete(event.name)
      settle()
    }
  })

  await new Promise<void>((resolve) => fsw!.once('ready', () => resolve()))
  // Each goes through the debounce and an ifChanged build: nothing is built when the sources are what serves.
  if (options.recheck) for (const target of targets.values()) schedule(target)

  return {
    onEvent(listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    idle() {
      if (isIdle()) return Promise.resolve()
      return new Promise((resolve) => idleWaiters.push(resolve))
    },
    close() {
      closing ??= (async () => {
        unsubscribe()
        for (const target of targets.values()) {
          clearTimeout(target.timer)
          clearTimeout(target.after)
          target.timer = target.after = undefined
        }
        await fsw!.close()
        await Promise.allSettled([...targets.values()].flatMap((t) => [t.building, t.preparing]))
        settle()
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
