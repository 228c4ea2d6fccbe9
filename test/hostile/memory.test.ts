// Hostile components that allocate without end: arrays, strings, objects, maps, ArrayBuffers, a slow leak, a huge
// fill(). Each ends classified (or, where V8 aborts the process, as a crash the worker comes back from).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { attacker, component, expectBreach, LIMITS, loadCause, startFailure, startHostile, type HostileHost } from './support.ts'

/** Some allocation patterns make V8 abort the whole worker process instead of failing the isolate. */
const MEMORY_OR_CRASH = ['ERR_SANDBOX_MEMORY_LIMIT', 'ERR_SANDBOX_CRASHED']
/** Time enough that the heap, not the CPU budget, runs out first: the classification is then exact. */
const ROOMY = { cpuMs: 3_000, timeoutMs: 4_000 }
const MiB = 1024 * 1024

const ARRAYS = 'const kept: number[][] = []; for (;;) kept.push(new Array(100_000).fill(1))'
const STRINGS = "let s = 'ab'; for (;;) { s = s + s; s = s.slice(1) + s[0] }" // sliced, so each doubling is really allocated
const OBJECTS = "const kept: object[] = []; for (let i = 0; ; i++) kept.push({ i, s: 'x' + i, a: [i, i, i, i], b: { c: i } })"

let h: HostileHost

beforeAll(async () => {
  const roomy = (attack: string) => ({ source: attacker(attack), limits: ROOMY })
  h = await startHostile({
    arrays: roomy(ARRAYS),
    strings: roomy(STRINGS),
    concat: roomy("let s = 'x'; for (;;) { s = s.concat(s); s.charCodeAt(s.length - 1) }"),
    repeats: roomy("const kept: string[] = []; for (let i = 0; ; i++) kept.push('x'.repeat(1 << 20) + i)"),
    objects: roomy(OBJECTS),
    map: roomy('const m = new Map(); for (let i = 0; ; i++) m.set(i, [i])'),
    buffers: attacker(`const kept: ArrayBuffer[] = []
      try { for (let i = 0; i < 1024; i++) kept.push(new ArrayBuffer(${MiB})) } catch (error) { return { kept: kept.length, error: String(error) } }
      return { kept: kept.length }`),
    'one-buffer': attacker('return { bytes: new ArrayBuffer(1e9).byteLength }'),
    'typed-array': attacker('return { length: new Float64Array(1e8).length }'),
    'typed-arrays': attacker(`const kept: Uint8Array[] = []
      try { for (let i = 0; i < 1024; i++) kept.push(new Uint8Array(${MiB})) } catch (error) { return { kept: kept.length, error: String(error) } }
      return { kept: kept.length }`),
    leak: { source: attacker('leaked.push(new Array(1 << 17).fill(calls))', 'const leaked: number[][] = []'), limits: ROOMY },
    fill: attacker('return { length: new Array(6e7).fill().length }'),
    wasm: attacker("return { wasm: typeof (globalThis as any).WebAssembly, viaFunction: Function('return typeof WebAssembly')() }"),
  })
})
afterAll(() => h?.stop())
afterEach(async () => { await h.expectCanary() })

describe('in execute', () => {
  it('arrays pushed without end hit the memory limit', async () => {
    await expectBreach(h, 'arrays', MEMORY_OR_CRASH)
  })

  it('a string doubled until it is too large, flattened each time, hits the memory limit', async () => {
    await expectBreach(h, 'strings', MEMORY_OR_CRASH)
  })

  it('a string doubled with concat() and read at its end hits the memory limit (or aborts the worker)', async () => {
    await expectBreach(h, 'concat', MEMORY_OR_CRASH)
  })

  it('1 MiB strings from repeat() kept without end hit the memory limit', async () => {
    await expectBreach(h, 'repeats', MEMORY_OR_CRASH)
  })

  it('objects kept without end hit the memory limit', async () => {
    await expectBreach(h, 'objects', MEMORY_OR_CRASH)
  })

  it('a Map grown without end is stopped; when V8 aborts the worker, a new one serves the next call', async () => {
    const before = await h.pids()
    const error = await expectBreach(h, 'map', MEMORY_OR_CRASH)
    if (error.code === 'ERR_SANDBOX_CRASHED') expect(await h.pids()).not.toEqual(before)
  })

  it('1 MiB ArrayBuffers: allocation is refused near the isolate limit, and the worker stays small', async () => {
    const result = await h.invoke('buffers', { attack: true }) as { kept: number; error?: string }
    expect(result.error).toMatch(/RangeError/)
    expect(result.kept).toBeLessThanOrEqual(2 * LIMITS.memoryMb) // external memory counts against the heap limit, with slack
    const [stats] = await h.host.sandbox().stats()
    expect(stats!.rss).toBeLessThan(512 * MiB)
  })

  it('1 MiB typed arrays: allocation is refused near the isolate limit', async () => {
    const result = await h.invoke('typed-arrays', { attack: true }) as { kept: number; error?: string }
    expect(result.error).toMatch(/RangeError/)
    expect(result.kept).toBeLessThanOrEqual(2 * LIMITS.memoryMb)
  })

  it('one 1 GB ArrayBuffer is refused: a RangeError the component threw', async () => {
    expect((await h.failure('one-buffer')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('a Float64Array of 1e8 elements (800 MB) is refused', async () => {
    expect((await h.failure('typed-array')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('a slow leak across invocations ends in a memory breach and a fresh isolate', async () => {
    let error
    for (let i = 0; i < 200 && !error; i++) {
      try { await h.invoke('leak', { attack: true }) } catch (caught) { error = caught as { code: string } }
    }
    expect(MEMORY_OR_CRASH).toContain(error?.code)
    expect(await h.invoke('leak')).toEqual({ calls: 1 })
  })

  it('new Array(6e7).fill(), which V8 cannot interrupt, ends at the backup deadline: the worker is replaced', async () => {
    const before = await h.pids()
    const error = await expectBreach(h, 'fill', ['ERR_SANDBOX_TIMEOUT', ...MEMORY_OR_CRASH])
    if (error.code === 'ERR_SANDBOX_TIMEOUT') expect(await h.pids()).not.toEqual(before)
  })

  it('WebAssembly is unavailable, so no wasm memory can grow outside the heap limit', async () => {
    expect(await h.invoke('wasm', { attack: true })).toEqual({ wasm: 'undefined', viaFunction: 'undefined' })
  })
})

describe('at module evaluation', () => {
  const loading = (prelude: string) => component('  execute() { return {} },', prelude)

  it('arrays pushed without end fail the load on the memory limit', async () => {
    expect(MEMORY_OR_CRASH).toContain((await h.loadFailure(loading(ARRAYS))).code)
  })

  it('a doubling string fails the load on the memory limit', async () => {
    expect(MEMORY_OR_CRASH).toContain((await h.loadFailure(loading(STRINGS))).code)
  })

  it('objects kept without end fail the load on the memory limit', async () => {
    expect(MEMORY_OR_CRASH).toContain((await h.loadFailure(loading(OBJECTS))).code)
  })

  it('a 1 GB ArrayBuffer fails the load as thrown', async () => {
    expect((await h.loadFailure(loading('new ArrayBuffer(1e9)'))).code).toBe('ERR_COMPONENT_THREW')
  })

  it('new Array(6e7).fill() at module level ends at the backup load deadline; the worker is replaced', async () => {
    const before = await h.pids()
    const started = performance.now()
    const error = await h.loadFailure(loading('new Array(6e7).fill()'))
    expect(['ERR_SANDBOX_TIMEOUT', ...MEMORY_OR_CRASH]).toContain(error.code)
    expect(performance.now() - started).toBeLessThan(5_000) // load timeout 1000 ms + 1000 ms grace, then the kill
    if (error.code === 'ERR_SANDBOX_TIMEOUT') expect(await h.pids()).not.toEqual(before)
  })

  it('an init that allocates without end fails start() on the memory limit', async () => {
    const { error } = await startFailure({ source: component(`  init() { ${ARRAYS} },\n  execute() { return {} },`), limits: ROOMY })
    expect(MEMORY_OR_CRASH).toContain(loadCause(error))
  })
})
