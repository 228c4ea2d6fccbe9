// Red team (failing on purpose until fixed): a component's own input schema is run in the sandbox worker on the
// caller's input, and nothing bounds its cost the way operator schemas are bounded in the engine. A request body well
// within bodyLimit/inputBytes (550 KB of distinct objects against `uniqueItems`, or 29 characters against a pattern
// the vetting lets through) holds the shared worker until the backup deadline kills it; the innocent component is
// charged a breach each time and moved to a worker of its own, and three requests from any HTTP client quarantine it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { component, startHostile, type HostileHost } from './support.ts'

const DEFAULTS = { memoryMb: 64, timeoutMs: 1000, cpuMs: 500, hostCalls: 100, inputBytes: 1_048_576, outputBytes: 1_048_576 }
/** An ordinary component: a list of distinct tag objects. */
const TAGS = component(`  input: { type: 'object', properties: { tags: { type: 'array', uniqueItems: true, items: { type: 'object' } } } },
  async execute(input: any) { return { n: input.tags?.length ?? 0 } },`, '', 'tags')
/** Star height 1, so it passes the backtracking heuristic; exponential all the same on 'aaa…ab'. */
const NAMED = component(`  input: { type: 'object', properties: { name: { type: 'string', pattern: '^(a|a)*$' } } },
  async execute() { return { ok: 1 } },`, '', 'named')

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({ tags: { source: TAGS, limits: DEFAULTS } }, { limits: DEFAULTS })
})
afterAll(() => h?.stop())

it('a client input within inputBytes never charges the component whose uniqueItems schema checks it', async () => {
  const tags = Array.from({ length: 20_000 }, (_, i) => ({ a: i, b: [i % 3], c: 'x' }))
  const outcome = await h.invoke('tags', { tags }).then((x) => JSON.stringify(x), (e) => e.code)
  const status = h.host.status().find((s) => s.name === 'tags')!
  console.log(`tags: ${outcome}; breaches ${status.breaches}, worker ${status.worker}`)
  expect(status.breaches).toBe(0)
  expect(status.worker).toBe('shared')
}, 60_000)

it('a guest pattern that backtracks exponentially is refused at load', async () => {
  const error = await h.loadFailure(NAMED, DEFAULTS)
  expect(error.message).toMatch(/pattern/)
}, 60_000)
