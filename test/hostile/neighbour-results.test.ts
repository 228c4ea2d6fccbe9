// A worker writes its messages for the engine in batches, one per turn of its event loop (worker.ts send). A batch
// must never wait behind another component's code: a result a component finished before its neighbour's long (legal)
// slice began reaches the engine while that slice still runs, as it did when every result was its own write.
// The neighbour's slice is a legal 1.5 s busy loop under a 3 s budget; the order is read from the clock both sides
// share (when the quick result arrived vs. when the neighbour's loop ended), not from how long anything took.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { component, startHostile, type HostileHost } from './support.ts'

let h: HostileHost

beforeAll(async () => {
  h = await startHostile({
    quick: { source: component(`  execute(input: any) { return { n: input.n } },`, '', 'quick') },
    busy: {
      source: component(`  execute() { const t0 = Date.now(); while (Date.now() - t0 < 1500) {} return { endedAt: Date.now() } },`, '', 'busy'),
      limits: { timeoutMs: 3000, cpuMs: 3000 },
    },
  })
})
afterAll(() => h?.stop())

it("a component's result is not held back by a neighbour's slice that began after it", async () => {
  // Warm both (isolates up, schemas compiled), so the two calls below take the same path to the worker.
  await h.invoke('quick', { n: 0 })
  await h.invoke('busy', {})
  // Sent in this order, in one turn: the worker runs quick's slice, then busy's.
  const quick = h.invoke('quick', { n: 1 }).then(() => Date.now())
  const busy = h.invoke('busy', {}) as Promise<{ endedAt: number }>
  const [quickArrivedAt, { endedAt }] = await Promise.all([quick, busy])
  expect(quickArrivedAt).toBeLessThan(endedAt)
}, 30_000)
