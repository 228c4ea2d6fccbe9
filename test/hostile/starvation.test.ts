// Blame for a bystander's deadline (found by the red team). A neighbour that stays inside its own limits (one 1.5 s
// slice under a 3 s budget the app grants it) holds the shared worker while a bystander awaits a host call; the
// bystander's 1 s wall timer in the worker used to fire then and charge the bystander a timeout breach (its isolate
// reset, two rounds quarantined it), the neighbour nothing. Now the worker pushes a call's deadline back by what other
// components held it since the call began (worker.ts deadlineOf), so the bystander is never charged for it.
// The budgets are long legal slices, not timings: each slice alone outlasts the bystander's whole timeout.
//
// Variant: the neighbour is a real attacker (a `for(;;)` breaching its CPU limit) while the bystander awaits a fetch.
// The attacker alone is charged; the bystander's answer, held by the test server until the attacker's breach is in,
// arrives within its own deadline once the attacker's slice is not counted against it.
// Bound: only *other* components' time is forgiven; a component's own calls holding the worker still count against
// its waiting call, so a component cannot stretch its own deadline.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { until } from '../support/until.ts'
import { attacker, component, rejection, startHostile, type HostileHost } from './support.ts'

let h: HostileHost
/** An ordinary call: reads kv for ~0.8 s, inside its 1 s timeout. */
const VICTIM = component(`  async execute(input: any, ctx: any) {
    const t0 = Date.now()
    let n = 0
    while (Date.now() - t0 < 800) { await ctx.kv.get('k'); n++ }
    return { n: input.n }
  },`, '', 'victim')

beforeAll(async () => {
  h = await startHostile({
    victim: { source: VICTIM, grants: { kv: true }, limits: { timeoutMs: 1000, cpuMs: 1000, hostCalls: 100_000 } },
    busy: { source: attacker('const t0 = Date.now(); while (Date.now() - t0 < 1500) {}'), limits: { timeoutMs: 3000, cpuMs: 3000 } },
  }, { quarantine: { breaches: 2, windowMs: 600_000, baseMs: 600_000, maxMs: 3_600_000 } })
})
afterAll(() => h?.stop())

it('a bystander awaiting a host call is not charged when a neighbour legally holds the worker', async () => {
  const outcomes: string[] = []
  for (let round = 0; round < 2; round++) {
    const victim = h.invoke('victim', { n: round }).then((x) => JSON.stringify(x), (e) => e.code)
    // Begun: the worker holds the victim's invocation, awaiting one of its kv.gets.
    await until(async () => (await h.host.sandbox().stats()).some((w) => w.invocations > 0), { ms: 10_000, everyMs: 5, explain: () => 'victim begun' })
    const busy = await h.invoke('busy', { attack: true }).then((x) => JSON.stringify(x), (e) => e.code)
    expect(busy).toMatch(/^\{"calls":/) // the neighbour broke none of its limits
    outcomes.push(`victim ${await victim} | busy ${busy}`)
  }
  const status = h.host.status().find((s) => s.name === 'victim')!
  console.log(`${outcomes.join('\n')}\nvictim: ${status.state}, ${status.breaches} breaches, last ${status.lastError?.code}`)
  expect(status.breaches).toBe(0)
  expect(status.state).toBe('ready')
}, 60_000)

/** A loopback server whose answers wait for `release()`; `requested` once a request arrived. */
async function heldServer() {
  const state = { requested: false, release: () => {}, origin: '', close: () => {} }
  const released = new Promise<void>((resolve) => { state.release = resolve })
  const server = createServer((_req, res) => {
    state.requested = true
    void released.then(() => res.end('slow answer'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = () => { state.release(); server.close() }
  return state
}

it('a bystander awaiting a fetch is not charged for an attacker that breaches its CPU limit in the same worker', async () => {
  const server = await heldServer()
  const { origin } = server
  const waiter = component(`  async execute(_input: unknown, ctx: any) {
    const r = await ctx.fetch('${origin}/slow')
    return { body: await r.text() }
  },`, '', 'waiter')
  // The attacker's CPU limit (1.5 s) is above the waiter's whole timeout (1 s): its one slice alone would have
  // outlasted the waiter's deadline, whatever the machine's speed.
  const a = await startHostile({
    waiter: { source: waiter, grants: { fetch: { origins: [origin], privateOrigins: [origin], maxRequests: 1, timeoutMs: 10_000 } }, limits: { timeoutMs: 1000, cpuMs: 1000 } },
    spinner: { source: attacker('for (;;) {}'), limits: { timeoutMs: 3000, cpuMs: 1500 } },
  }, { quarantine: { breaches: 2, windowMs: 600_000, baseMs: 600_000, maxMs: 3_600_000 } })
  try {
    const answer = a.invoke('waiter').then((x) => JSON.stringify(x), (e) => e.code)
    await until(() => server.requested, { ms: 10_000, everyMs: 5, explain: () => 'the waiter fetches' })
    const breach = await rejection(a.invoke('spinner', { attack: true }))
    server.release()
    expect(breach.code).toBe('ERR_SANDBOX_CPU_LIMIT') // the attacker is charged exactly as before
    expect(await answer).toBe(JSON.stringify({ body: 'slow answer' }))
    const status = Object.fromEntries(a.host.status().map((s) => [s.name, s]))
    console.log(`waiter: ${status.waiter!.state}, ${status.waiter!.breaches} breaches; spinner: ${status.spinner!.breaches} breach, ${breach.code}`)
    expect(status.waiter!.breaches).toBe(0)
    expect(status.spinner!.breaches).toBe(1)
  } finally {
    await a.stop()
    server.close()
  }
}, 60_000)

it("a component's own calls holding the worker still count against its waiting call", async () => {
  const server = await heldServer()
  // Each spin (0.7 s) is within the 1 s timeout; two of them hold the worker longer than the waiting call may wait.
  const source = component(`  async execute(input: any, ctx: any) {
    if (input.spin) { const t0 = Date.now(); while (Date.now() - t0 < 700) {} return { spun: true } }
    const r = await ctx.fetch('${server.origin}/slow')
    return { body: await r.text() }
  },`, '', 'self')
  const a = await startHostile({
    self: { source, grants: { fetch: { origins: [server.origin], privateOrigins: [server.origin], maxRequests: 1, timeoutMs: 10_000 } }, limits: { timeoutMs: 1000, cpuMs: 1000 } },
  }, { quarantine: { breaches: 2, windowMs: 600_000, baseMs: 600_000, maxMs: 3_600_000 } })
  try {
    const waiting = a.invoke('self', {}).then((x) => JSON.stringify(x), (e) => e.code)
    await until(() => server.requested, { ms: 10_000, everyMs: 5, explain: () => 'the call fetches' })
    const spins = [await a.invoke('self', { spin: true }), await a.invoke('self', { spin: true })]
    server.release()
    expect(spins).toEqual([{ spun: true }, { spun: true }])
    expect(await waiting).toBe('ERR_SANDBOX_TIMEOUT')
  } finally {
    await a.stop()
    server.close()
  }
}, 60_000)
