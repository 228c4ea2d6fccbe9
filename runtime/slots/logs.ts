// Each slot's latest log lines (its component's ctx.log and console, and failed calls), kept in a ring of 1000 with
// a sequence number, for `logs` (after a seq) and `followLogs` (SSE). Taps the component host's logger: the host
// logs every guest line through `logger.child({ component, generation })`.
import type { LogFields, Logger, SlotLogEntry } from '@islet/sdk'

export const RING_SIZE = 1000

export interface SlotLogs {
  /** `base` with the lines of slot components (not their examples' throwaway isolates) also kept here. */
  tap(base: Logger): Logger
  add(slot: string, entry: Omit<SlotLogEntry, 'seq' | 'at'>): void
  list(slot: string, options?: { after?: number; limit?: number }): SlotLogEntry[]
  follow(slot: string, listener: (entry: SlotLogEntry) => void): () => void
}

type Level = SlotLogEntry['level']

/** `isSlot` says which component names are slots; `versionOf` maps a generation number of one to its version. */
export function createSlotLogs(isSlot: (name: string) => boolean, versionOf: (slot: string, generation: number | undefined) => number): SlotLogs {
  const rings = new Map<string, { seq: number; lines: SlotLogEntry[] }>()
  const listeners = new Map<string, Set<(entry: SlotLogEntry) => void>>()

  function add(slot: string, entry: Omit<SlotLogEntry, 'seq' | 'at'>): void {
    let ring = rings.get(slot)
    if (!ring) rings.set(slot, ring = { seq: 0, lines: [] })
    const line: SlotLogEntry = { seq: ++ring.seq, at: new Date().toISOString(), ...entry }
    ring.lines.push(line)
    if (ring.lines.length > RING_SIZE) ring.lines.splice(0, ring.lines.length - RING_SIZE)
    for (const listener of listeners.get(slot) ?? []) {
      try { listener(line) } catch { /* a listener's failure is its own (a closed stream) */ }
    }
  }

  function tapped(base: Logger, slot: string, generation: number | undefined): Logger {
    const fn = (level: Level) => (first: LogFields | string, message?: string) => {
      const [fields, text] = typeof first === 'string' ? [undefined, first] : [first, message ?? '']
      // The host nests a guest's own fields under `fields`; its other lines (dropped counts) carry them flat.
      const own = fields && 'fields' in fields ? fields.fields : fields
      add(slot, { level, message: text, version: versionOf(slot, generation),
        ...(own && typeof own === 'object' && !Array.isArray(own) && Object.keys(own).length > 0 ? { fields: own as Record<string, unknown> } : {}) })
      ;(base[level] as (f: LogFields | string, m?: string) => void).call(base, first, message)
    }
    return {
      trace: base.trace.bind(base), debug: fn('debug'), info: fn('info'), warn: fn('warn'), error: fn('error'),
      child: (bindings) => tapped(base.child(bindings), slot, generation),
    }
  }

  function tap(base: Logger): Logger {
    return {
      // Bound: pino's methods read `this`.
      trace: base.trace.bind(base), debug: base.debug.bind(base), info: base.info.bind(base), warn: base.warn.bind(base), error: base.error.bind(base),
      child(bindings) {
        const child = base.child(bindings)
        const name = bindings.component
        // Guest lines carry { component, generation }; examples run on throwaway isolates and are not the slot's.
        if (typeof name !== 'string' || bindings.examples === true || typeof bindings.generation !== 'number' || !isSlot(name)) return tap(child)
        return tapped(child, name, bindings.generation)
      },
    }
  }

  return {
    tap, add,
    list(slot, { after = 0, limit = 100 } = {}) {
      const lines = (rings.get(slot)?.lines ?? []).filter((l) => l.seq > after)
      const n = Math.max(1, Math.min(RING_SIZE, Math.floor(limit)))
      return lines.slice(-n)
    },
    follow(slot, listener) {
      let set = listeners.get(slot)
      if (!set) listeners.set(slot, set = new Set())
      set.add(listener)
      return () => { set.delete(listener) }
    },
  }
}
