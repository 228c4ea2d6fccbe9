// Hostile corpus for the globals of part B (setTimeout, AbortController, console, fetch): each is bounded by the
// invocation that uses it and by the limits it already had (hostCalls, the log gate, the deadline), and a bystander
// in the same worker keeps serving through every attack.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { attacker, component, eventually, expectBreach, only, startHostile, type HostileHost } from './support.ts'

// Arms timers until refused: the 101st is, and one worker timer carries them all.
const TIMER_FLOOD = `let armed = 0, refused: any
    for (let i = 0; i < 100_000; i++) {
      try { setTimeout(() => {}, 1000 + i); armed++ } catch (e: any) { refused = { code: e.code, message: e.message }; break }
    }
    let signals = 0
    try { for (let i = 0; i < 10; i++) { AbortSignal.timeout(1000); signals++ } } catch (e: any) { signals = -1 }
    return { armed, refused, signals }`

// A timer that re-arms itself forever while the call waits on nothing: only the deadline ends it.
const REARM_FOREVER = `let ticks = 0
    const tick = () => { ticks++; setTimeout(tick, 0) }
    tick()
    await new Promise(() => {})`

// The first call leaves a re-arming timer chain behind and returns; its callbacks count any run after it returned.
const LEFT_BEHIND = component(`  async execute(input: any) {
    if (input.leave) {
      let done = false
      const tick = () => { if (done) strays++; setTimeout(tick, 0) }
      setTimeout(tick, 0)
      for (let i = 0; i < 50; i++) setTimeout(() => { if (done) strays++ }, 0)
      done = true
      return { left: true }
    }
    // Later timers of this call are due after any the earlier call left: the single queue fires strays first.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1))
    return { strays }
  },`, 'let strays = 0', 'leftbehind')

// A cancelled call's timer must never run: the next call waits past its due time, then reports.
const CANCELLED = component(`  async execute(input: any) {
    if (input.arm) {
      setTimeout(() => { ran++ }, 200)
      console.info('armed')
      return new Promise(() => {})
    }
    await new Promise((r) => setTimeout(r, 400))
    return { ran }
  },`, 'let ran = 0', 'cancelled')

const CONSOLE_FLOOD = `const big = 'x'.repeat(1_000_000)
    console.log(big.repeat(10))
    for (let i = 0; i < 200; i++) console.log(big, { i }, [big], new Error(big))
    for (let i = 0; i < 20_000; i++) console.log('line', i)
    const cyclic: any = { a: 1 }
    cyclic.self = cyclic
    console.info('cyclic', cyclic)
    return { done: true }`

const FETCH_FLOOD = `const calls: Promise<unknown>[] = []
    for (let i = 0; i < 1000; i++) calls.push(fetch(ctx.config.origin + '/x?' + i).catch(() => {}))
    await Promise.all(calls)
    return { survived: true }`

const UNGRANTED_FLOOD = `const codes = new Set<string>()
    const calls: Promise<unknown>[] = []
    const body = 'x'.repeat(1_000_000)
    for (let i = 0; i < 2000; i++) calls.push(fetch('http://127.0.0.1:9/x', { method: 'POST', body }).catch((e: any) => codes.add(e.code)))
    await Promise.all(calls)
    return { codes: [...codes] }`

// Guest code rewrites the intrinsics and our own prototypes first; the globals keep their meaning underneath.
const POLLUTER = `const realThen = Promise.prototype.then
    JSON.parse = () => ({ forged: true }) as any
    JSON.stringify = () => '"forged"'
    Object.keys = () => ['forged']
    Object.defineProperty(Array.prototype, '0', { set() { throw new Error('setter reached') }, configurable: true })
    Object.defineProperty(AbortSignal.prototype, 'aborted', { get: () => false })
    Headers.prototype.get = () => 'forged'
    ;(globalThis as any).setTimeout = () => { throw new Error('replaced') }
    const controller = new AbortController()
    controller.abort()
    let denied
    try { await fetch('http://127.0.0.1:9/x', { signal: controller.signal }) } catch (e: any) { denied = e.name }
    let ungranted
    try { await fetch('http://127.0.0.1:9/x') } catch (e: any) { ungranted = e.code }
    delete (Array.prototype as any)['0']
    return { denied, ungranted }`

let h: HostileHost
let sink: { origin: string; requests: number; close(): Promise<unknown> }

beforeAll(async () => {
  let requests = 0
  const server = createServer((_req, res) => { requests++; res.end('ok') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  sink = {
    origin, get requests() { return requests },
    close: () => { server.closeAllConnections(); return new Promise((resolve) => server.close(resolve)) },
  }
  const fetchGrant = { fetch: { origins: [origin], privateOrigins: [origin], maxRequests: 10_000 } as never }
  h = await startHostile({
    timerflood: attacker(TIMER_FLOOD),
    rearm: { source: attacker(REARM_FOREVER), limits: only('timeoutMs') },
    leftbehind: LEFT_BEHIND,
    cancelled: CANCELLED,
    consoleflood: attacker(CONSOLE_FLOOD),
    fetchflood: { source: attacker(FETCH_FLOOD), limits: only('hostCalls'), config: { origin }, grants: fetchGrant },
    ungrantedflood: attacker(UNGRANTED_FLOOD),
    polluter: attacker(POLLUTER),
  })
}, 60_000)
afterAll(async () => {
  await h?.stop()
  await sink?.close()
})

it('timer flood: the 101st pending timer of an invocation is refused (ERR_SANDBOX_TIMER), and so is AbortSignal.timeout past it', async () => {
  const out = await h.invoke('timerflood', { attack: true }) as { armed: number; refused: { code: string; message: string }; signals: number }
  expect(out.armed).toBe(100)
  expect(out.refused.code).toBe('ERR_SANDBOX_TIMER')
  expect(out.refused.message).toContain('already has 100 pending timers')
  expect(out.signals).toBe(-1)
  await h.expectCanary()
})

it('a timer that re-arms forever ends at its invocation deadline, and the canary keeps serving', async () => {
  // Whichever comes first at the deadline ends it: the worker's deadline guard (a breach, the isolate reset) or the
  // chain's next setTimeout, refused as past the deadline, thrown from its callback (the call fails, nothing reset).
  const error = await h.failure('rearm')
  expect(['ERR_SANDBOX_TIMEOUT', 'ERR_SANDBOX_TIMER']).toContain(error.code)
  await h.expectCanary()
})

it('timers left behind by a finished invocation never run', async () => {
  expect(await h.invoke('leftbehind', { leave: true })).toEqual({ left: true })
  expect(await h.invoke('leftbehind', {})).toEqual({ strays: 0 })
  await h.expectCanary()
})

it('the timers of a cancelled call never run', async () => {
  const controller = new AbortController()
  const from = h.logs.length
  const call = h.host.invoke('cancelled', { arm: true }, { signal: controller.signal })
  const rejected = call.then(() => undefined, (error: { code?: string }) => error.code)
  await eventually(() => h.logs.slice(from).some((l) => l.component === 'cancelled' && l.msg === 'armed'))
  controller.abort()
  expect(await rejected).toBe('ERR_SANDBOX_CANCELLED')
  expect(await h.invoke('cancelled', {})).toEqual({ ran: 0 })
  await h.expectCanary()
})

it('console flood: lines are cut and rate-limited like ctx.log, a 10 MB string is not read', async () => {
  const from = h.logs.length
  expect(await h.invoke('consoleflood', { attack: true })).toEqual({ done: true })
  await eventually(() => h.logs.slice(from).some((l) => l.component === 'consoleflood' && typeof l.dropped === 'number'))
  const lines = h.logs.slice(from).filter((l) => l.component === 'consoleflood')
  const dropped = lines.reduce((n, l) => n + (typeof l.dropped === 'number' ? l.dropped : 0), 0)
  expect(dropped).toBeGreaterThan(0)
  expect(lines.length).toBeLessThan(20_000)
  expect(lines[0]!.msg).toContain('(a string of 10000000 characters, not logged')
  for (const line of lines) expect(line.msg.length).toBeLessThan(2100)
  await h.expectCanary()
})

it('fetch flood: bounded by the invocation hostCalls limit (a breach), the engine sees at most that many requests', async () => {
  const before = sink.requests
  await expectBreach(h, 'fetchflood', 'ERR_SANDBOX_HOST_CALL_LIMIT')
  expect(sink.requests - before).toBeLessThanOrEqual(20)
  await h.expectCanary()
})

it('ungranted fetch flood with 1 MB bodies: every call refused in the isolate with ERR_CAPABILITY_DENIED', async () => {
  expect(await h.invoke('ungrantedflood', { attack: true })).toEqual({ codes: ['ERR_CAPABILITY_DENIED'] })
  await h.expectCanary()
})

it('rewriting intrinsics and the globals\' prototypes does not change what fetch and AbortSignal do underneath', async () => {
  expect(await h.invoke('polluter', { attack: true })).toEqual({ denied: 'AbortError', ungranted: 'ERR_CAPABILITY_DENIED' })
  await h.expectCanary()
})
