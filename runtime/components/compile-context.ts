// esbuild contexts for the entries a compile cache builds more than once (a component edited under watch mode, a
// config reload): a rebuild skips esbuild's set-up and re-parsing what did not change (the sdk bundle), about a third
// of a build's CPU in esbuild's process and half its wall time, on the critical path of every hot reload. An entry
// built once (`islet run` with no edits) gets none, so nothing stays in esbuild's process for it. A live context keeps
// esbuild's process referenced (Node does not exit on its own meanwhile): the pool's owner closes it when it stops.
import type * as esbuild from 'esbuild'

export interface BuildContexts {
  /**
   * esbuild.build(options with `plugin`), through the context kept for `key` when this key was built before. `key`
   * must name everything in `options` that differs between builds (the working folder, the entry). Never two builds
   * on one context at once: a build arriving meanwhile runs on its own.
   */
  build(esb: typeof esbuild, key: string, options: esbuild.BuildOptions, plugin: esbuild.Plugin): Promise<esbuild.BuildResult>
  /** Drops what is kept for `key` (its context, that it was built): an entry no component uses any more. */
  forget(key: string): void
  /** Disposes every context (esbuild's process is then free to go). */
  close(): Promise<void>
}

type Callback = (args: never) => unknown
interface Registration { kind: 'onResolve' | 'onLoad'; options: { filter: RegExp; namespace?: string } }

interface Slot {
  context: Promise<esbuild.BuildContext | undefined>
  registrations: Registration[]
  /** The callbacks of the plugin of the build running on the context now, in registration order. */
  callbacks: Callback[]
  busy: boolean
}

/** At most this many contexts are kept (the least recently built goes first): each holds its modules in esbuild. */
const MAX_CONTEXTS = 16

/** `onContext`: told before a context is made (esbuild's service must then stay up: compile-build.ts keepCompilerWarm). */
export function createBuildContexts(onContext: () => void = () => {}): BuildContexts {
  const seen = new Set<string>()
  const slots = new Map<string, Slot>()

  async function drop(slot: Slot): Promise<void> {
    await (await slot.context)?.dispose().catch(() => {})
  }

  return {
    async build(esb: typeof esbuild, key: string, options: esbuild.BuildOptions, plugin: esbuild.Plugin): Promise<esbuild.BuildResult> {
      const recorded = record(plugin)
      const slot = slots.get(key)
      if (!recorded || (!slot && !seen.has(key)) || slot?.busy || (slot && !sameShape(slot.registrations, recorded.registrations))) {
        seen.add(key)
        return esb.build({ ...options, plugins: [plugin] })
      }
      let live = slot
      if (!live) {
        const created: Slot = { context: Promise.resolve(undefined), registrations: recorded.registrations, callbacks: recorded.callbacks, busy: false }
        onContext()
        created.context = esb.context({ ...options, plugins: [forwarding(created)] }).catch(() => undefined)
        live = created
      }
      slots.delete(key)
      slots.set(key, live)
      for (const [old, oldest] of slots) {
        if (slots.size <= MAX_CONTEXTS) break
        if (oldest.busy) continue
        slots.delete(old)
        void drop(oldest)
      }
      live.busy = true
      live.callbacks = recorded.callbacks
      try {
        const context = await live.context
        if (!context) {
          slots.delete(key)
          return await esb.build({ ...options, plugins: [plugin] })
        }
        return await context.rebuild()
      } finally {
        live.busy = false
      }
    },
    forget(key) {
      seen.delete(key)
      const slot = slots.get(key)
      // A build running on it keeps it until it ends; the next build of the key (if any) starts afresh.
      if (!slot || slot.busy) return
      slots.delete(key)
      void drop(slot)
    },
    async close() {
      const all = [...slots.values()]
      slots.clear()
      seen.clear()
      await Promise.all(all.map(drop))
    },
  }
}

/** What `plugin`'s setup registers (onResolve/onLoad only), or undefined when it uses anything else. */
function record(plugin: esbuild.Plugin): { registrations: Registration[]; callbacks: Callback[] } | undefined {
  const registrations: Registration[] = []
  const callbacks: Callback[] = []
  const add = (kind: Registration['kind']) => (options: Registration['options'], callback: Callback) => {
    registrations.push({ kind, options })
    callbacks.push(callback)
  }
  try {
    const setup = plugin.setup({ onResolve: add('onResolve'), onLoad: add('onLoad') } as unknown as esbuild.PluginBuild)
    if (setup instanceof Promise) return undefined
  } catch {
    return undefined
  }
  return { registrations, callbacks }
}

function sameShape(a: Registration[], b: Registration[]): boolean {
  return a.length === b.length && a.every((r, i) => r.kind === b[i].kind && r.options.namespace === b[i].options.namespace
    && String(r.options.filter) === String(b[i].options.filter))
}

/** The context's one plugin: each registration calls the same-numbered callback of the build running now. */
function forwarding(slot: Slot): esbuild.Plugin {
  return {
    name: 'islet-rebuild',
    setup(build) {
      slot.registrations.forEach((r, i) => {
        const forward = (args: never) => slot.callbacks[i](args)
        if (r.kind === 'onResolve') build.onResolve(r.options, forward as Parameters<esbuild.PluginBuild['onResolve']>[1])
        else build.onLoad(r.options, forward as Parameters<esbuild.PluginBuild['onLoad']>[1])
      })
    },
  }
}
