// Worker calls made after an invocation has answered, in the same slice (promise chains it left running): their time
// is the invocation's, counted against its CPU budget like any other. Before the fix they were neither counted nor
// interrupted: a component with a 1 s CPU budget held its worker (and the canary beside it) for as long as it liked.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { attacker, only, startHostile, type HostileHost } from './support.ts'

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({
    // Answers at once; twenty microtasks later, 4 MiB SHA-512 digests for `ms` milliseconds of wall time.
    lingering: { source: attacker(`let p: any = Promise.resolve()
      for (let i = 0; i < 20; i++) p = p.then(() => 0)
      p.then(() => { const d = new Uint8Array(4 << 20); const t0 = Date.now(); while (Date.now() - t0 < input.ms) crypto.subtle.digest('SHA-512', d).catch(() => {}) })`),
      limits: only('cpuMs', { cpuMs: 1000 }) },
  })
})
afterAll(() => h?.stop())

it('digests after the result are charged to the invocation: past its CPU budget the isolate is reset', async () => {
  expect(await h.invoke('lingering', {})).toEqual({ calls: 1 })
  // 3 s of worker time against a 1 s budget. Before the fix the isolate carried on: the next call answered { calls: 3 }.
  expect(await h.invoke('lingering', { attack: true, ms: 3000 })).toEqual({ calls: 2 })
  expect(await h.invoke('lingering', {})).toEqual({ calls: 1 })
  await h.expectCanary()
}, 60_000)
