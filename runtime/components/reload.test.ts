// The reload sequence against stand-in steps (no sandbox): the drain waits for running calls, up to its deadline.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ComponentDecl } from '../config/types.ts'
import { silentLogger } from '../log/logger.ts'
import type { CompiledComponent } from './compile.ts'
import { createReloads, stableKey, type ComponentEvent, type LiveGeneration, type Reloads } from './reload.ts'

const at = { file: '/app.yaml', line: 1, col: 1 }
const DECL: ComponentDecl = { name: 'c', file: '/c.ts', limits: {}, grants: { kv: false, emit: [], secrets: [] }, config: {}, source: at, configSource: at }

let reloads: Reloads
let events: ComponentEvent[]
let disposed: number[]
let current: Map<string, LiveGeneration>
let counter = 0

function generation(decl: ComponentDecl): LiveGeneration {
  const number = ++counter
  return {
    decl, number, key: `c@${number}`, hash: `h${number}`, files: [decl.file], inflight: 0,
    meta: { name: 'c', hasInit: false }, limits: { memoryMb: 64, timeoutMs: 200, cpuMs: 100, hostCalls: 10, inputBytes: 100, outputBytes: 100 },
    invocation: { timeoutMs: 200, cpuMs: 100, hostCalls: 10, outputBytes: 100 },
    caps: { handle: async () => null, redact: (t) => t, close: async () => {} }, locate: () => undefined,
  }
}

beforeEach(() => {
  vi.useFakeTimers()
  events = []
  disposed = []
  current = new Map([['c', generation(DECL)]])
  reloads = createReloads({
    logger: silentLogger(), current, declared: new Map([['c', DECL]]),
    compile: async () => ({ hash: `new${counter}`, files: [DECL.file] }) as CompiledComponent,
    load: async (decl) => generation(decl),
    examples: async () => ({ results: [], initEmits: [] }),
    dispose: (gen) => { disposed.push(gen.number) },
    swapped: () => {},
    isStopped: () => false,
    publish: (e) => { events.push(e) },
  })
})
afterEach(() => { vi.useRealTimers() })

describe('drain', () => {
  it('disposes the old generation only after its last running call ends', async () => {
    const old = current.get('c')!
    old.inflight = 1
    const result = await reloads.reload('c')
    expect(result).toMatchObject({ ok: true, previous: old.number })
    await vi.advanceTimersByTimeAsync(500)
    expect(disposed).toEqual([])
    old.inflight = 0
    old.onIdle!()
    await vi.advanceTimersByTimeAsync(0)
    expect(disposed).toEqual([old.number])
    expect(events.map((e) => e.type)).toEqual(['component.reloaded', 'component.retired'])
    expect(events[1]).toMatchObject({ generation: old.number, drained: true })
  })

  it('disposes it anyway at its timeout plus 1 s when a call never ends', async () => {
    const old = current.get('c')!
    old.inflight = 1
    await reloads.reload('c')
    await vi.advanceTimersByTimeAsync(old.limits.timeoutMs + 999)
    expect(disposed).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(disposed).toEqual([old.number])
    expect(events.at(-1)).toMatchObject({ type: 'component.retired', generation: old.number, drained: false })
  })

  it('stop() ends every drain at once', async () => {
    const old = current.get('c')!
    old.inflight = 1
    await reloads.reload('c')
    await reloads.stop()
    expect(disposed).toEqual([old.number])
  })
})

describe('stableKey (is a declaration the one serving?)', () => {
  it('ignores key order at any depth, but not a changed grant, limit or config value', () => {
    const reordered: ComponentDecl = { ...DECL, config: { b: { y: 2, x: 1 }, a: [1, { d: 0, c: 1 }] },
      grants: { secrets: [], emit: [], kv: false } }
    const same: ComponentDecl = { ...DECL, config: { a: [1, { c: 1, d: 0 }], b: { x: 1, y: 2 } } }
    expect(stableKey(reordered)).toBe(stableKey(same))
    expect(stableKey({ ...same, grants: { ...same.grants, kv: true } })).not.toBe(stableKey(same))
    expect(stableKey({ ...same, limits: { memoryMb: 64 } })).not.toBe(stableKey(same))
    expect(stableKey({ ...same, config: { a: [1, { c: 1, d: 0 }], b: { x: 1, y: 3 } } })).not.toBe(stableKey(same))
  })
})
