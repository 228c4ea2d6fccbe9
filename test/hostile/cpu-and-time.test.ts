// Hostile components that never stop: loops, promises that never settle, host-call and microtask floods, regex
// backtracking, recursion; at module evaluation, in init and in execute. Each is classified, the host keeps serving.
// Each attack runs with only the limit its test is about tight (CPU, wall clock or host calls), so that limit, and no
// other, ends it: a runaway loop under a tight CPU budget and a roomy deadline is a CPU breach on any machine.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  attacker, component, expectBreach, loadCause, only, rejection, startFailure, startHostile, type HostileComponent, type HostileHost,
} from './support.ts'

const LOOP = 'for (;;) {}'
const NEVER = 'await new Promise(() => {})'
const KV_FLOOD = "for (;;) await ctx.kv.get('x')"
const AWAIT_FLOOD = 'for (;;) await null'
const THEN_FLOOD = 'const f = (): Promise<unknown> => Promise.resolve().then(f); f()'
const REGEX = "return { matched: /(a+)+$/.test('a'.repeat(40) + '!') }"
const RECURSION = 'const down = (n: number): number => down(n + 1) + 1; return { n: down(0) }'

const CPU = only('cpuMs')
const TIME = only('timeoutMs')
const cpu = (source: string): HostileComponent => ({ source, limits: CPU })
const time = (source: string): HostileComponent => ({ source, limits: TIME })

let h: HostileHost

beforeAll(async () => {
  h = await startHostile({
    loop: cpu(attacker(LOOP)),
    never: time(attacker(NEVER)),
    'kv-flood': { source: attacker(KV_FLOOD), grants: { kv: true }, limits: only('hostCalls') },
    'await-flood': cpu(attacker(AWAIT_FLOOD)),
    'then-flood': cpu(attacker(`${THEN_FLOOD}; ${NEVER}`)),
    regex: cpu(attacker(REGEX)),
    recursion: attacker(RECURSION),
    'loop-after-result': cpu(attacker('Promise.resolve().then(() => Promise.resolve()).then(() => { for (;;) {} }); return { calls }')),
    'catch-termination': cpu(attacker('try { for (;;) {} } catch { return { caught: true } } finally { return { finally: true } }')),
    'init-then-loop': cpu(component(`  init() { inits++ },
  async execute(input: any) {
    calls++
    if (input.attack) for (;;) {}
    return { calls, inits }
  },`, 'let calls = 0, inits = 0')),
    parked: cpu(attacker(`if (input.mode === 'park') ${NEVER}; ${LOOP}`)),
    crowd: time(attacker(NEVER)),
    sort: time(attacker('const a = Array.from({ length: 3e6 }, (_, i) => (i * 7919) % 3e6); a.sort(); return { n: a.length }')),
    'many-params': cpu(attacker("return { v: Function(Array.from({ length: 1e6 }, (_, i) => 'a' + i).join(','), 'return 1')() }")),
    'eval-huge': { source: attacker("return { v: (0, eval)('1+'.repeat(5e6) + '1') }"), limits: only('memoryMb') },
  })
})
afterAll(() => h?.stop())
afterEach(async () => { await h.expectCanary() })

describe('in execute', () => {
  it('for(;;){} is stopped by the CPU budget and the next call gets a fresh isolate', async () => {
    await expectBreach(h, 'loop', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('a promise that never settles ends at the wall-clock deadline', async () => {
    await expectBreach(h, 'never', 'ERR_SANDBOX_TIMEOUT')
  })

  it('for(;;) await ctx.kv.get() is stopped by the host-call budget', async () => {
    await expectBreach(h, 'kv-flood', 'ERR_SANDBOX_HOST_CALL_LIMIT')
  })

  it('a microtask flood, for(;;) await null, is stopped by the CPU budget', async () => {
    await expectBreach(h, 'await-flood', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('a self-scheduling then() chain is stopped by the CPU budget', async () => {
    await expectBreach(h, 'then-flood', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('catastrophic regex backtracking, /(a+)+$/ on 40 a\'s and a !, is stopped by the CPU budget', async () => {
    await expectBreach(h, 'regex', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('deep recursion is a RangeError the component threw; its isolate stays usable', async () => {
    const error = await h.failure('recursion')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(await h.invoke('recursion')).toEqual({ calls: 2 })
  })

  it('a loop queued to run after the result was sent: the result arrives, the isolate is reset', async () => {
    expect(await h.invoke('loop-after-result', { attack: true })).toEqual({ calls: 1 })
    expect(await h.invoke('loop-after-result')).toEqual({ calls: 1 })
  })

  it('try/catch/finally cannot catch the termination of a runaway loop', async () => {
    await expectBreach(h, 'catch-termination', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('a runaway execute started right after a reset, while init re-runs, is stopped too', async () => {
    expect((await h.failure('init-then-loop')).code).toBe('ERR_SANDBOX_CPU_LIMIT')
    // The isolate is re-created and init runs again first; this execute is started from inside init's slice.
    expect((await h.failure('init-then-loop')).code).toBe('ERR_SANDBOX_CPU_LIMIT')
    expect(await h.invoke('init-then-loop')).toEqual({ calls: 1, inits: 1 })
  })

  it('a breach fails the same component\'s parked invocation as crashed, and not the canary\'s concurrent call', async () => {
    const parked = rejection(h.invoke('parked', { attack: true, mode: 'park' }))
    const looping = rejection(h.invoke('parked', { attack: true, mode: 'loop' }))
    const canary = h.invoke('canary', { n: 21 })
    expect((await looping).code).toBe('ERR_SANDBOX_CPU_LIMIT')
    expect((await parked).code).toBe('ERR_SANDBOX_CRASHED')
    expect(await canary).toEqual({ doubled: 42, text: 'canary:21' })
    expect(await h.invoke('parked')).toEqual({ calls: 1 })
  })

  it('50 concurrent invocations that never settle all end at the deadline; the canary answers meanwhile', async () => {
    const crowd = Array.from({ length: 50 }, () => rejection(h.invoke('crowd', { attack: true })))
    await h.expectCanary()
    const codes = new Set((await Promise.all(crowd)).map((e) => e.code))
    // The first to reach its deadline resets the isolate; the others fail with it, as crashed.
    expect([...codes].every((c) => c === 'ERR_SANDBOX_TIMEOUT' || c === 'ERR_SANDBOX_CRASHED')).toBe(true)
    expect(codes.has('ERR_SANDBOX_TIMEOUT')).toBe(true)
    expect(await h.invoke('crowd')).toEqual({ calls: 1 })
  })

  it('sorting 3e6 elements (as strings: seconds of work inside one builtin) ends at the deadline', async () => {
    await expectBreach(h, 'sort', 'ERR_SANDBOX_TIMEOUT')
  })

  it('a Function with a million parameters is stopped', async () => {
    await expectBreach(h, 'many-params', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('eval of a 10 MB expression is refused under the memory limit', async () => {
    expect((await h.failure('eval-huge')).code).toBe('ERR_COMPONENT_THREW')
  })
})

describe('at module evaluation', () => {
  // Loading has one budget, its deadline (the component's timeout, at least a second); memory stays roomy.
  const loading = (prelude: string) => component('  execute() { return {} },', prelude)

  it('for(;;){} fails the load with ERR_SANDBOX_TIMEOUT', async () => {
    expect((await h.loadFailure(loading(LOOP), TIME)).code).toBe('ERR_SANDBOX_TIMEOUT')
  })

  it('a microtask flood started by the module fails the load', async () => {
    expect((await h.loadFailure(loading(`(async () => { ${AWAIT_FLOOD} })()`), TIME)).code).toBe('ERR_SANDBOX_TIMEOUT')
  })

  it('a self-scheduling then() chain fails the load', async () => {
    expect((await h.loadFailure(loading(THEN_FLOOD), TIME)).code).toBe('ERR_SANDBOX_TIMEOUT')
  })

  it('catastrophic regex backtracking fails the load', async () => {
    expect((await h.loadFailure(loading("/(a+)+$/.test('a'.repeat(40) + '!')"), TIME)).code).toBe('ERR_SANDBOX_TIMEOUT')
  })

  it('deep recursion fails the load as thrown', async () => {
    expect((await h.loadFailure(loading('const down = (n: number): number => down(n + 1) + 1; down(0)'))).code).toBe('ERR_COMPONENT_THREW')
  })

  it('host.start() reports the classified cause of a module-evaluation loop, naming the component', async () => {
    const { error } = await startFailure(time(loading(LOOP)))
    expect(loadCause(error)).toBe('ERR_SANDBOX_TIMEOUT')
    expect(error.message).toContain("'hostile'")
  })
})

describe('in init', () => {
  const initing = (body: string) => component(`  async init(_config: unknown, ctx: any) { ${body} },\n  execute() { return {} },`)

  it('for(;;){} fails start() on the CPU budget', async () => {
    expect(loadCause((await startFailure(cpu(initing(LOOP)))).error)).toBe('ERR_SANDBOX_CPU_LIMIT')
  })

  it('a promise that never settles fails start() at the deadline', async () => {
    expect(loadCause((await startFailure(time(initing(NEVER)))).error)).toBe('ERR_SANDBOX_TIMEOUT')
  })

  it('for(;;) await ctx.kv.get() fails start() on the host-call budget', async () => {
    expect(loadCause((await startFailure({ source: initing(KV_FLOOD), grants: { kv: true }, limits: only('hostCalls') })).error)).toBe('ERR_SANDBOX_HOST_CALL_LIMIT')
  })

  it('a microtask flood fails start() on the CPU budget', async () => {
    expect(loadCause((await startFailure(cpu(initing(AWAIT_FLOOD)))).error)).toBe('ERR_SANDBOX_CPU_LIMIT')
  })
})

describe('quarantine', () => {
  let q: HostileHost
  beforeAll(async () => {
    q = await startHostile({
      breacher: cpu(attacker(LOOP)),
      spoofer: attacker("const e: any = new Error('pretending'); e.code = 'ERR_SANDBOX_TIMEOUT'; throw e"),
    }, { quarantine: { breaches: 2, windowMs: 60_000, baseMs: 60_000, maxMs: 60_000 } })
  })
  afterAll(() => q?.stop())
  afterEach(async () => { await q.expectCanary() })

  it('a component that keeps breaching is refused with ERR_COMPONENT_QUARANTINED; the canary is not', async () => {
    expect((await q.failure('breacher')).code).toBe('ERR_SANDBOX_CPU_LIMIT')
    expect((await q.failure('breacher')).code).toBe('ERR_SANDBOX_CPU_LIMIT')
    // Refused before reaching the sandbox: had it run, the attack would be a CPU breach and a harmless call would answer.
    expect((await q.failure('breacher')).code).toBe('ERR_COMPONENT_QUARANTINED')
    expect((await q.failure('breacher', {})).code).toBe('ERR_COMPONENT_QUARANTINED')
    const status = q.host.status()
    expect(status.find((s) => s.name === 'breacher')?.state).toBe('quarantined')
    expect(status.find((s) => s.name === 'canary')?.state).toBe('ready')
  })

  it('spoofed sandbox codes are not breaches: a component throwing them is never quarantined', async () => {
    for (let i = 0; i < 3; i++) expect((await q.failure('spoofer')).code).toBe('ERR_COMPONENT_THREW')
    expect(q.host.status().find((s) => s.name === 'spoofer')?.state).toBe('ready')
  })
})
