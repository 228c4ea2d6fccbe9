// Red team (failing on purpose until fixed): blame for a bystander's deadline. A neighbour that stays inside its own
// limits (one 1.5 s slice under a 3 s budget the app grants it) holds the shared worker while a bystander awaits a
// host call; the bystander's 1 s wall timer in the worker then fires and charges the bystander a timeout breach, its
// isolate is reset, and two rounds quarantine it. The neighbour is charged nothing. Expected: time a bystander spent
// waiting behind another component's slice is not its breach (extend its deadline, or charge the slice that held the
// worker), and the bystander is never quarantined for it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { until } from '../support/until.ts'
import { attacker, component, startHostile, type HostileHost } from './support.ts'

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
