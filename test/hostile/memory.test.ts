// Hostile components that allocate without end: arrays, strings, objects, maps, ArrayBuffers, a slow leak, a huge
// fill(). Each ends classified (or, where V8 aborts the process, as a crash the worker comes back from).
// Every attack here runs with only the memory limit tight: time and CPU are roomy, so the heap always runs out first.
import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { IsletError } from '../../runtime/errors.ts'
import { attacker, component, eventually, expectBreach, loadCause, only, startFailure, startHostile, TIGHT, type HostileHost } from './support.ts'

const MEMORY = only('memoryMb')
const MiB = 1024 * 1024

/**
 * A doubling string's last allocation can be larger than all the isolate has left. V8 then either calls the heap
 * limit handler or aborts the worker process outright (SIGABRT, after writing its out-of-memory report to stderr,
 * which the supervisor reads); which one depends on the heap's state when the allocation comes, not on time or load.
 * Either way it is classified as the memory limit, and nothing else.
 */
function expectOutOfMemory(error: IsletError): void {
  expect(error.code, error.message).toBe('ERR_SANDBOX_MEMORY_LIMIT')
}

const ARRAYS = 'const kept: number[][] = []; for (;;) kept.push(new Array(100_000).fill(1))'
const STRINGS = "let s = 'ab'; for (;;) { s = s + s; s = s.slice(1) + s[0] }" // sliced, so each doubling is really allocated
const OBJECTS = "const kept: object[] = []; for (let i = 0; ; i++) kept.push({ i, s: 'x' + i, a: [i, i, i, i], b: { c: i } })"

let h: HostileHost

beforeAll(async () => {
  const roomy = (attack: string) => ({ source: attacker(attack), limits: MEMORY })
  h = await startHostile({
    arrays: roomy(ARRAYS),
    strings: roomy(STRINGS),
    concat: roomy("let s = 'x'; for (;;) { s = s.concat(s); s.charCodeAt(s.length - 1) }"),
    repeats: roomy("const kept: string[] = []; for (let i = 0; ; i++) kept.push('x'.repeat(1 << 20) + i)"),
    objects: roomy(OBJECTS),
    map: roomy('const m = new Map(); for (let i = 0; ; i++) m.set(i, [i])'),
    buffers: roomy(`const kept: ArrayBuffer[] = []
      try { for (let i = 0; i < 1024; i++) kept.push(new ArrayBuffer(${MiB})) } catch (error) { return { kept: kept.length, error: String(error) } }
      return { kept: kept.length }`),
    'one-buffer': roomy('return { bytes: new ArrayBuffer(1e9).byteLength }'),
    'typed-array': roomy('return { length: new Float64Array(1e8).length }'),
    'typed-arrays': roomy(`const kept: Uint8Array[] = []
      try { for (let i = 0; i < 1024; i++) kept.push(new Uint8Array(${MiB})) } catch (error) { return { kept: kept.length, error: String(error) } }
      return { kept: kept.length }`),
    leak: { source: attacker('leaked.push(new Array(1 << 17).fill(calls))', 'const leaked: number[][] = []'), limits: MEMORY },
    // Its point is the backup deadline: the wall clock is the tight limit, memory is roomy.
    fill: { source: attacker('return { length: new Array(6e7).fill().length }'), limits: only('timeoutMs') },
    wasm: attacker("return { wasm: typeof (globalThis as any).WebAssembly, viaFunction: Function('return typeof WebAssembly')() }"),
  })
})
afterAll(() => h?.stop())
afterEach(async () => { await h.expectCanary() })

describe('in execute', () => {
  it('arrays pushed without end hit the memory limit', async () => {
    await expectBreach(h, 'arrays', 'ERR_SANDBOX_MEMORY_LIMIT')
  })

  it('a string doubled until it is too large, flattened each time, is ended by the memory limit', async () => {
    expectOutOfMemory(await h.failure('strings'))
    expect(await h.invoke('strings', {})).toEqual({ calls: 1 })
  })

  it('a string doubled with concat() and read at its end hits the memory limit', async () => {
    await expectBreach(h, 'concat', 'ERR_SANDBOX_MEMORY_LIMIT')
  })

  it('1 MiB strings from repeat() kept without end hit the memory limit', async () => {
    await expectBreach(h, 'repeats', 'ERR_SANDBOX_MEMORY_LIMIT')
  })

  it('objects kept without end hit the memory limit', async () => {
    await expectBreach(h, 'objects', 'ERR_SANDBOX_MEMORY_LIMIT')
  })

  it('a Map grown without end makes V8 abort the worker: its out-of-memory report classifies it; a new one serves the next call', async () => {
    const before = await h.pids()
    await expectBreach(h, 'map', 'ERR_SANDBOX_MEMORY_LIMIT')
    expect(await h.pids()).not.toEqual(before)
  })

  it('1 MiB ArrayBuffers: allocation is refused near the isolate limit, and the worker stays small', async () => {
    const result = await h.invoke('buffers', { attack: true }) as { kept: number; error?: string }
    expect(result.error).toMatch(/RangeError/)
    expect(result.kept).toBeLessThanOrEqual(2 * TIGHT.memoryMb) // external memory counts against the heap limit, with slack
    const [stats] = await h.host.sandbox().stats()
    expect(stats!.rss).toBeLessThan(512 * MiB)
  })

  it('1 MiB typed arrays: allocation is refused near the isolate limit', async () => {
    const result = await h.invoke('typed-arrays', { attack: true }) as { kept: number; error?: string }
    expect(result.error).toMatch(/RangeError/)
    expect(result.kept).toBeLessThanOrEqual(2 * TIGHT.memoryMb)
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
    expect(error?.code).toBe('ERR_SANDBOX_MEMORY_LIMIT')
    expect(await h.invoke('leak')).toEqual({ calls: 1 })
  })

  it('new Array(6e7).fill(), which V8 cannot interrupt, ends at the backup deadline: the worker is replaced', async () => {
    const before = await h.pids()
    const error = await expectBreach(h, 'fill', 'ERR_SANDBOX_TIMEOUT')
    expect(error.message).toMatch(/the worker was restarted/)
    expect(await h.pids()).not.toEqual(before)
  })

  it('WebAssembly is unavailable, so no wasm memory can grow outside the heap limit', async () => {
    expect(await h.invoke('wasm', { attack: true })).toEqual({ wasm: 'undefined', viaFunction: 'undefined' })
  })
})

describe('at module evaluation', () => {
  const loading = (prelude: string) => component('  execute() { return {} },', prelude)

  it('arrays pushed without end fail the load on the memory limit', async () => {
    expect((await h.loadFailure(loading(ARRAYS), MEMORY)).code).toBe('ERR_SANDBOX_MEMORY_LIMIT')
  })

  it('a doubling string fails the load on the memory limit', async () => {
    expectOutOfMemory(await h.loadFailure(loading(STRINGS), MEMORY))
  })

  it('objects kept without end fail the load on the memory limit', async () => {
    expect((await h.loadFailure(loading(OBJECTS), MEMORY)).code).toBe('ERR_SANDBOX_MEMORY_LIMIT')
  })

  it('a 1 GB ArrayBuffer fails the load as thrown', async () => {
    expect((await h.loadFailure(loading('new ArrayBuffer(1e9)'), MEMORY)).code).toBe('ERR_COMPONENT_THREW')
  })

  it('new Array(6e7).fill() at module level ends at the backup load deadline; the worker is replaced', async () => {
    const before = await h.pids()
    const error = await h.loadFailure(loading('new Array(6e7).fill()'), only('timeoutMs'))
    expect(error.code).toBe('ERR_SANDBOX_TIMEOUT')
    expect(error.message).toMatch(/the worker was restarted/)
    await h.expectCanary() // served by the new worker
    expect(await h.pids()).not.toEqual(before)
  })

  it('an init that allocates without end fails start() on the memory limit', async () => {
    const { error } = await startFailure({ source: component(`  init() { ${ARRAYS} },\n  execute() { return {} },`), limits: MEMORY })
    expect(loadCause(error)).toBe('ERR_SANDBOX_MEMORY_LIMIT')
  })
})

/**
 * Allocations V8 makes outside the allocator isolated-vm counts: a resizable ArrayBuffer (V8 reserves and commits it
 * itself; isolated-vm reported 0 external bytes while one component held 3 GiB) and Intl objects (ICU memory, 3 to
 * 30 KiB each against a few hundred heap bytes). Each gets its own host, so the worker's memory is theirs alone.
 */
describe('allocations outside the heap', () => {
  const RESIZABLE = [
    'new ArrayBuffer(1, { maxByteLength: SIZE })',
    'new (Object.getPrototypeOf(new Uint8Array(0).buffer).constructor)(1, { maxByteLength: SIZE })',
    'Reflect.construct(new Uint8Array(0).buffer.constructor, [1, { maxByteLength: SIZE }])',
    '(() => { class Big extends ArrayBuffer {} return new Big(1, { maxByteLength: SIZE }) })()',
    'new (globalThis as any).ArrayBuffer.prototype.constructor(1, { maxByteLength: SIZE })',
  ]
  let o: HostileHost
  beforeAll(async () => {
    o = await startHostile({
      // Each call tries to hold 256 MiB more: grown by resize(), or by transfer(), then written through a view.
      resizable: attacker(`const make = [${RESIZABLE.map((m) => `() => ${m}`).join(', ')}][input.via]
      const b: any = make()
      const grown = input.transfer ? b.transfer(SIZE) : (b.resize(SIZE), b)
      new DataView(grown).setUint8(SIZE - 1, 1)
      new Uint8Array(grown).fill(1)
      kept.push(grown)
      return { held: kept.length }`, 'const SIZE = 256 * 1024 * 1024; const kept: ArrayBuffer[] = []'),
      // Every function on the stack while the constructor converts its length, tried as a resizable constructor.
      'stack-frames': attacker(`let fns: any[] = []
      const E = Error as any
      const length = { valueOf() {
        E.prepareStackTrace = (_e: unknown, sites: any[]) => sites
        const o: any = {}
        E.captureStackTrace(o)
        fns = o.stack.map((site: any) => site.getFunction()).filter((f: unknown) => typeof f === 'function')
        return 1
      } }
      new ArrayBuffer(length as any)
      const resizable = fns.filter((f) => { try { return new f(1, { maxByteLength: 1024 }).resizable === true } catch { return false } })
      return { resizable: resizable.length }`),
      // A fixed-length buffer grown by transfer(): counted, refused at the limit.
      transfer: attacker('kept.push(new ArrayBuffer(1).transfer(256 * 1024 * 1024)); return { held: kept.length }', 'const kept: ArrayBuffer[] = []'),
      intl: { source: attacker(`for (let i = 0; i < 20_000; i++) kept.push(new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', dateStyle: 'full', timeStyle: 'full' }))
      return { held: kept.length }`, 'const kept: object[] = []'), limits: MEMORY },
      'intl-use': attacker(`return {
        price: new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(12.5),
        date: Intl.DateTimeFormat('en-US', { timeZone: 'UTC' }).format(new Date(0)),
        instance: new Intl.Collator('de') instanceof Intl.Collator,
        viaProto: Object.getPrototypeOf(new Intl.Collator()).constructor === Intl.Collator,
        locale: new Intl.Locale('en').maximize().toString(),
        local: (1234.5).toLocaleString('de-DE'),
        segmenter: typeof (Intl as any).Segmenter,
      }`),
      // Each iterator over a Segments object copies the text outside the heap: Intl.Segmenter is not there to use.
      'intl-locales': { source: attacker(`for (let i = 0; i < 200_000; i++) kept.push(new Intl.Locale('en').maximize())
      return { held: kept.length }`, 'const kept: object[] = []'), limits: MEMORY },
    })
  })
  afterAll(() => o?.stop())

  it('a resizable ArrayBuffer is refused however its constructor is reached; 10 calls each trying 256 MiB leave the worker small', async () => {
    for (let i = 0; i < 10; i++) {
      const via = i % RESIZABLE.length
      const error = await o.failure('resizable', { attack: true, via, transfer: i >= RESIZABLE.length })
      expect(error.code, RESIZABLE[via]).toBe('ERR_COMPONENT_THREW')
      expect(error.message, RESIZABLE[via]).toMatch(/resizable ArrayBuffers \(maxByteLength\) are not available in the sandbox/)
    }
    const [stats] = await o.host.sandbox().stats()
    expect(stats!.rss).toBeLessThan(400 * MiB)
    await o.expectCanary()
  })

  it('no stack frame hands out the original constructor', async () => {
    expect(await o.invoke('stack-frames', { attack: true })).toEqual({ resizable: 0 })
  })

  it('transfer() of a fixed-length buffer to 256 MiB is counted: refused at the memory limit', async () => {
    const error = await o.failure('transfer')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/Array buffer allocation failed/)
  })

  it('Intl objects count against the memory limit: 20,000 DateTimeFormats are refused, and the worker stays small', async () => {
    for (let i = 0; i < 3; i++) {
      expectMemoryRefusal(await o.failure('intl'))
    }
    const [stats] = await o.host.sandbox().stats()
    expect(stats!.rss).toBeLessThan(400 * MiB)
  })

  it('Intl still works as usual (the control)', async () => {
    expect(await o.invoke('intl-use', { attack: true })).toEqual({
      price: '€12.50', date: '1/1/1970', instance: true, viaProto: true, locale: 'en-Latn-US', local: '1.234,5', segmenter: 'undefined',
    })
  })

  it("Locale's maximize() is charged too: 200,000 kept are refused at the memory limit", async () => {
    expectMemoryRefusal(await o.failure('intl-locales'))
  })
})

/**
 * Many small objects kept until the memory limit: which of the isolate's two limits stops them first — its
 * ArrayBuffer allocator (the call throws) or its heap limit — depends on when V8 collects, and so on the machine's
 * load. Either one is the refusal.
 */
function expectMemoryRefusal(error: { code: string; message: string }): void {
  expect(`${error.code}: ${error.message}`).toMatch(/^(ERR_COMPONENT_THREW: [^]*Array buffer allocation failed|ERR_SANDBOX_MEMORY_LIMIT: )/)
}

/** The highest resident set a process has had (Linux): what a transient copy costs shows here, not in the current RSS. */
function peakRss(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024
}

describe('a log message built as a rope', () => {
  let o: HostileHost
  beforeAll(async () => {
    o = await startHostile({
      // 256 MiB of message for 1 MiB of the isolate's heap: a rope, until something reads a character of it.
      'log-rope': attacker(`let s = 'r'.repeat(1 << 20)
      for (let i = 0; i < 8; i++) s = s + s
      ctx.log.info(s)
      ctx.log.info('fields', { s })
      ctx.log.info('m'.repeat(1 << 20))
      return { length: s.length }`),
    })
  })
  afterAll(() => o?.stop())

  it('costs the worker nothing like its length: it is logged by its length, never copied', async () => {
    for (let i = 0; i < 3; i++) expect(await o.invoke('log-rope', { attack: true })).toEqual({ length: 256 * MiB })
    const lines = (msg: string) => o.logs.filter((l) => l.component === 'log-rope' && l.msg === msg)
    const notRead = '(a message of 268435456 characters, not logged: messages over 1048576 characters are not read)'
    // A long message that is read is cut to its first 2,000 characters.
    const cut = `${'m'.repeat(2000)}… (1048576 chars)`
    await eventually(() => lines(notRead).length === 3 && lines('fields').length === 3 && lines(cut).length === 3)
    expect(lines('fields').map((l) => l.fields)).toEqual([{ truncated: true }, { truncated: true }, { truncated: true }])
    const [pid] = await o.pids()
    expect(peakRss(pid!)).toBeLessThan(250 * MiB)
  })
})
