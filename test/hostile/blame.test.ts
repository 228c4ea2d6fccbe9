// Blame goes to the one who caused it: a component that stalls its worker in a builtin V8 cannot interrupt, or
// crashes it, is charged one breach and moved to a worker of its own; the components sharing that worker lose at most
// the calls that had begun (ERR_SANDBOX_WORKER_LOST, never a breach), and the rest are retried on the replacement.
// A burst of breaching calls escalates quarantine one step; a worker killed from outside is charged to no one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IsletError } from '../../runtime/errors.ts'
import { until } from '../support/until.ts'
import { attacker, component, only, rejection, startHostile, type HostileHost } from './support.ts'

/**
 * A builtin over a sparse array of length 2**32-1: seconds inside one builtin that the isolate's timeout cannot stop.
 * (`join(',')` over it throws a RangeError at once on this V8: the result's length is checked first.)
 */
const STALL = `const a: number[] = []; a.length = 2 ** 32 - 1
    const how: string = input.how ?? 'indexOf'
    if (how === 'indexOf') return { at: a.indexOf(1) }
    if (how === 'lastIndexOf') return { at: a.lastIndexOf(1) }
    if (how === 'reverse') return { n: a.reverse().length }
    return { n: new Array(6e7).fill().length }`
/** A Map grown without end: V8 aborts the whole worker process with its out-of-memory report. */
const MAP = 'const m = new Map(); for (let i = 0; ; i++) m.set(i, [i])'

/**
 * The bystander: answers `{ n }` at once, or with `{ park: true }` waits (begun in its isolate) until its caller
 * cancels it, a call in flight for as long as a test needs one.
 */
const VICTIM = component(`  async execute(input: any) {
    if (input.park) await new Promise(() => {})
    return { n: input.n }
  },`, '', 'victim')

let h: HostileHost

beforeAll(async () => {
  h = await startHostile({
    victim: VICTIM,
    attacker: { source: attacker(STALL), limits: { timeoutMs: 200 } },
    burst: { source: attacker('for (;;) {}'), limits: only('cpuMs') },
    hog: { source: attacker(MAP), limits: only('memoryMb') },
  }, {
    // Two breaches quarantine for long: a single call wrongly charged twice to the victim would show.
    quarantine: { breaches: 2, windowMs: 600_000, baseMs: 600_000, maxMs: 3_600_000 },
  })
})
afterAll(() => h?.stop())

const statusOf = (name: string) => h.host.status().find((s) => s.name === name)!

/** Victim calls parked in the isolate (begun), each with the controller that ends it and whether it settled. */
function park(count: number) {
  return Array.from({ length: count }, () => {
    const controller = new AbortController()
    const parked = { controller, settled: false, result: undefined as Promise<IsletError> | undefined }
    parked.result = rejection(h.host.invoke('victim', { park: true }, { signal: controller.signal })).finally(() => { parked.settled = true })
    return parked
  })
}

/** Resolves once the worker holding the victim runs `count` invocations: the parked calls have begun in its isolate. */
function begun(count: number): Promise<void> {
  return until(async () => ((await h.host.sandbox().stats()).find((s) => s.components.includes('victim'))?.invocations ?? 0) >= count)
}

/**
 * Serves victim calls, `depth` at a time, until `attack` settles; resolves with every call's outcome: its value or
 * the IsletError it failed with.
 */
async function serveDuring(attack: Promise<unknown>, depth = 8): Promise<{ ok: number; failures: IsletError[] }> {
  let over = false
  void attack.finally(() => { over = true })
  const failures: IsletError[] = []
  let ok = 0
  let n = 0
  const lane = async () => {
    while (!over) {
      const i = ++n
      try {
        expect(await h.host.invoke('victim', { n: i })).toEqual({ n: i })
        ok++
      } catch (error) {
        failures.push(error as IsletError)
      }
    }
  }
  await Promise.all(Array.from({ length: depth }, lane))
  return { ok, failures }
}

function report(what: string, { ok, failures }: { ok: number; failures: IsletError[] }): void {
  const total = ok + failures.length
  console.log(`[blame] ${what}: victim success ${ok}/${total} (${total ? ((100 * ok) / total).toFixed(1) : '-'}%)`)
}

describe('a worker stalled in a builtin V8 cannot interrupt', () => {
  it('is charged to the stalling call alone: the victim on the same worker gets no breach and is never quarantined', async () => {
    expect(await h.pidOf('attacker')).toBe(await h.pidOf('victim'))
    const parked = park(3)
    await begun(3)
    const attack = rejection(h.invoke('attacker', { attack: true }))
    const served = await serveDuring(attack)
    const error = await attack
    expect(error.code).toBe('ERR_SANDBOX_TIMEOUT')
    expect(error.message).toMatch(/'attacker'.*the worker was restarted/)
    report('during a stall of the shared worker', served)
    // Calls that had not begun were sent again to the new worker; only begun ones may be lost, and not as a breach.
    for (const failure of served.failures) expect(failure.code).toBe('ERR_SANDBOX_WORKER_LOST')
    for (const p of parked) {
      const lost = await p.result!
      expect(lost.code).toBe('ERR_SANDBOX_WORKER_LOST')
      expect(lost.message).toMatch(/another component's call took down the sandbox worker/)
    }
    expect(statusOf('attacker')).toMatchObject({ breaches: 1, state: 'ready', worker: 'own' })
    expect(statusOf('victim')).toMatchObject({ breaches: 0, state: 'ready', worker: 'shared' })
    expect(await h.invoke('victim', { n: 7 })).toEqual({ n: 7 })
    expect(h.logs.filter((l) => /quarantined/.test(l.msg))).toEqual([])
  })

  it('moves the staller to a worker of its own: a second stall leaves the victim\'s calls untouched', async () => {
    expect(await h.invoke('attacker')).toEqual({ calls: 1 }) // loaded again, into its own worker
    const victimPid = await h.pidOf('victim')
    const attackerPid = await h.pidOf('attacker')
    expect(attackerPid).toBeDefined()
    expect(attackerPid).not.toBe(victimPid)
    expect((await h.host.sandbox().stats()).find((s) => s.pid === attackerPid)).toMatchObject({ components: ['attacker'], dedicated: true })

    const parked = park(3)
    await begun(3)
    const attack = rejection(h.invoke('attacker', { attack: true, how: 'lastIndexOf' }))
    const served = await serveDuring(attack)
    expect((await attack).code).toBe('ERR_SANDBOX_TIMEOUT')
    report('during a stall of the staller\'s own worker', served)
    expect(served.failures).toEqual([])
    expect(parked.map((p) => p.settled)).toEqual([false, false, false])
    expect(await h.pidOf('victim')).toBe(victimPid)
    for (const p of parked) p.controller.abort()
    for (const p of parked) expect((await p.result!).code).toBe('ERR_SANDBOX_CANCELLED')
    expect(statusOf('victim')).toMatchObject({ breaches: 0, state: 'ready' })
    expect(statusOf('attacker').breaches).toBe(2)
  })
})

describe('a load stalled at module evaluation', () => {
  it('is charged to that load: the victim\'s calls on the worker it held are lost, not breaches', async () => {
    const parked = park(2)
    await begun(2)
    const error = await h.loadFailure(component('  async execute() { return {} },', 'new Array(6e7).fill()', 'slow-load'), { timeoutMs: 200 })
    expect(error.code).toBe('ERR_SANDBOX_TIMEOUT')
    expect(error.message).toMatch(/loading component 'load-\d+'/)
    for (const p of parked) expect((await p.result!).code).toBe('ERR_SANDBOX_WORKER_LOST')
    expect(statusOf('victim')).toMatchObject({ breaches: 0, state: 'ready' })
    await h.expectCanary()
  })
})

describe('a burst', () => {
  it('of 15 concurrent CPU-heavy calls escalates quarantine one step, however many calls it fails', async () => {
    const failures = await Promise.all(Array.from({ length: 15 }, () => h.failure('burst')))
    expect(failures.every((e) => e.code === 'ERR_SANDBOX_CPU_LIMIT' || e.code === 'ERR_SANDBOX_CRASHED')).toBe(true)
    expect(statusOf('burst').state).toBe('quarantined')
    const steps = h.logs.filter((l) => l.component === 'burst' && /quarantined for/.test(l.msg))
    expect(steps.map((l) => l.backoffMs)).toEqual([600_000])
    expect((await h.failure('burst')).code).toBe('ERR_COMPONENT_QUARANTINED')
  })
})

describe('a worker killed from outside the engine', () => {
  it('with SIGKILL is charged to no one: the calls it lost fail as lost, not as breaches', async () => {
    const parked = park(3)
    await begun(3)
    const pid = (await h.pidOf('victim'))!
    process.kill(pid, 'SIGKILL')
    for (const p of parked) {
      const lost = await p.result!
      expect(lost.code, lost.message).toBe('ERR_SANDBOX_WORKER_LOST')
      expect(lost.message).toMatch(/not because of a component/)
    }
    expect(statusOf('victim')).toMatchObject({ breaches: 0, state: 'ready' })
    expect(statusOf('canary')).toMatchObject({ breaches: 0, state: 'ready' })
    await h.expectCanary()
    expect(await h.invoke('victim', { n: 3 })).toEqual({ n: 3 })
    expect(await h.pidOf('victim')).not.toBe(pid)
  })
})

describe('a worker V8 aborts out of memory', () => {
  it('is charged to the component that ran it out of memory, as ERR_SANDBOX_MEMORY_LIMIT, and to no bystander', async () => {
    expect(await h.invoke('hog')).toEqual({ calls: 1 })
    const pid = await h.pidOf('hog')
    expect(pid).toBe(await h.pidOf('victim'))
    const parked = park(2)
    await begun(2)
    const error = await h.failure('hog')
    expect(error.code, error.message).toBe('ERR_SANDBOX_MEMORY_LIMIT')
    // V8 aborts the process on this one (should its heap limit handler end it instead, the worker lives on).
    const aborted = !(await h.pids()).includes(pid!)
    if (aborted) {
      for (const p of parked) expect((await p.result!).code).toBe('ERR_SANDBOX_WORKER_LOST')
      expect(h.logs.some((l) => l.component === 'hog' && l.code === 'ERR_SANDBOX_MEMORY_LIMIT' && /charged to 'hog' alone/.test(l.msg))).toBe(true)
    } else {
      for (const p of parked) p.controller.abort()
      for (const p of parked) expect((await p.result!).code).toBe('ERR_SANDBOX_CANCELLED')
    }
    expect(statusOf('hog')).toMatchObject({ breaches: 1 })
    expect(statusOf('victim')).toMatchObject({ breaches: 0, state: 'ready' })
    expect(await h.invoke('hog')).toEqual({ calls: 1 })
    if (aborted) expect(await h.pidOf('hog')).not.toBe(await h.pidOf('victim'))
  })

  it('a doubling string is a memory breach whether V8 aborts the worker or its heap limit handler ends it', async () => {
    // The attacker already has a worker of its own; the victim is in the shared one.
    const source = "let s = 'ab'; for (;;) { s = s + s; s = s.slice(1) + s[0] }"
    const doubling = await h.loadFailure(component(`  async execute() { return {} },`, source, 'doubling'), { memoryMb: 32 })
    expect(doubling.code, doubling.message).toBe('ERR_SANDBOX_MEMORY_LIMIT')
    await h.expectCanary()
    expect(statusOf('victim')).toMatchObject({ breaches: 0, state: 'ready' })
  })
})

describe('isolation: dedicated', () => {
  let d: HostileHost
  beforeAll(async () => {
    d = await startHostile({ victim: VICTIM, staller: { source: attacker(STALL), limits: { timeoutMs: 200 } } }, { isolation: 'dedicated' })
  })
  afterAll(() => d?.stop())

  it('runs every component in a worker of its own from the start: no stall reaches another', async () => {
    const stats = await d.host.sandbox().stats()
    expect(stats.map((s) => s.components).sort()).toEqual([['canary'], ['staller'], ['victim']])
    expect(stats.every((s) => s.dedicated)).toBe(true)
    console.log(`[blame] dedicated workers: ${stats.map((s) => `${s.components[0]} ${(s.rss / 2 ** 20).toFixed(0)} MiB`).join(', ')} RSS`)
    const victimPid = (await d.pidOf('victim'))!
    for (const how of ['reverse', 'fill']) {
      const attack = rejection(d.invoke('staller', { attack: true, how }))
      let ok = 0
      let over = false
      void attack.finally(() => { over = true })
      while (!over) {
        expect(await d.invoke('victim', { n: ok })).toEqual({ n: ok })
        ok++
      }
      expect((await attack).code).toBe('ERR_SANDBOX_TIMEOUT')
      console.log(`[blame] during a ${how} stall under dedicated isolation: victim success ${ok}/${ok} (100%)`)
    }
    expect(await d.pidOf('victim')).toBe(victimPid)
    expect(d.host.status().find((s) => s.name === 'staller')!.breaches).toBe(2)
    expect(d.host.status().find((s) => s.name === 'victim')!.breaches).toBe(0)
  })
})
