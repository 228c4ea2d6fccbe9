// Capability calls the component was never granted are refused in its worker, before IPC: within their size caps they
// would otherwise cross the worker's pipe and be parsed by the engine only to be refused there. Found by a red-team
// pass: 30 ctx.fetch calls with a 16 MB body each, fetch not granted, held the worker's channel so long that the
// worker was killed as unresponsive, charged to no one, every time, and the bystander lost its calls each time.
// A granted fetch's body is held to the grant's maxRequestBytes in the worker the same way.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { attacker, component, startHostile, type HostileHost } from './support.ts'

const DEFAULTS = { memoryMb: 64, timeoutMs: 1000, cpuMs: 500, hostCalls: 100, inputBytes: 1_048_576, outputBytes: 1_048_576 }
const BYSTANDER = component(`  async execute(input: any) { return { n: input.n } },`, '', 'bystander')
const FLOOD = `const body = '\\u00e9'.repeat(8_000_000)
  const codes: string[] = []
  const calls: Promise<unknown>[] = []
  for (let i = 0; i < 30; i++) calls.push(ctx.fetch('http://127.0.0.1:9/x', { method: 'POST', body }).catch((e: any) => codes.push(e.code)))
  await Promise.all(calls)
  return { codes: [...new Set(codes)] }`

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({
    bystander: { source: BYSTANDER, limits: DEFAULTS },
    attacker: { source: attacker(FLOOD), limits: DEFAULTS },
    // Granted fetch, 1 KiB bodies at most: the 16 MB body is refused in the worker, not read by the engine.
    granted: { source: attacker(FLOOD), limits: DEFAULTS, grants: { fetch: { origins: ['http://127.0.0.1:9'], privateOrigins: ['http://127.0.0.1:9'], maxRequests: 100, maxRequestBytes: 1024 } as never } },
  }, { limits: DEFAULTS })
})
afterAll(() => h?.stop())

it('ungranted calls are refused in the worker: the flood never reaches the engine and no one loses a call', async () => {
  const [before] = await h.pids()
  let served = 0
  let lost = 0
  let stop = false
  const load = (async () => {
    for (let n = 0; !stop; n++) await h.invoke('bystander', { n }).then(() => served++, () => lost++)
  })()
  const outcomes: unknown[] = []
  for (let round = 0; round < 3; round++) outcomes.push(await h.invoke('attacker', { attack: true }))
  for (let round = 0; round < 3; round++) outcomes.push(await h.invoke('granted', { attack: true }))
  stop = true
  await load
  console.log(`[figure] bystander during 6 flood rounds: ${served} served, ${lost} lost`)
  expect(outcomes.slice(0, 3)).toEqual(Array(3).fill({ codes: ['ERR_CAPABILITY_DENIED'] }))
  expect(outcomes.slice(3)).toEqual(Array(3).fill({ codes: ['ERR_CAPABILITY_ARGUMENT_TOO_LARGE'] }))
  expect(lost).toBe(0)
  expect(await h.pids()).toContain(before)
}, 60_000)
