// A component's own schemas are checked in the sandbox worker: its input schema on any HTTP client's input, its output
// schema on its own result. A request body well within bodyLimit/inputBytes (550 KB of distinct objects against
// `uniqueItems`, or 41 characters against a pattern that backtracks exponentially) held the shared worker until the
// backup deadline killed it; the innocent component was charged a breach each time, moved to a worker of its own,
// and three requests from any HTTP client quarantined it. Guest schemas now get the operator schemas' cost bounds
// (RE2 patterns, linear uniqueItems/enum, capped formats, a deadline): an input too costly to check is the caller's
// 400, an output too costly to check is the component's ERR_COMPONENT_OUTPUT_INVALID, and neither stalls the worker.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { component, startHostile, type HostileHost } from './support.ts'

const DEFAULTS = { memoryMb: 64, timeoutMs: 1000, cpuMs: 500, hostCalls: 100, inputBytes: 1_048_576, outputBytes: 1_048_576 }
/** An ordinary component: a list of distinct tag objects. */
const TAGS = component(`  input: { type: 'object', properties: { tags: { type: 'array', uniqueItems: true, items: { type: 'object' } } } },
  async execute(input: any) { return { n: input.tags?.length ?? 0 } },`, '', 'tags')
/** Star height 1, so a backtracking heuristic lets it through; exponential all the same on 'aaa…ab' in ECMAScript. */
const NAMED = component(`  input: { type: 'object', properties: { name: { type: 'string', pattern: '^(a|a)*$' } } },
  async execute() { return { ok: 1 } },`, '', 'named')
/** Nested lists, with a recursive $ref under two overlapping anyOf branches: 2^depth evaluations of one value. */
const tree = (ref: string) => `{ anyOf: [{ type: 'array', items: { $ref: '${ref}' } }, { type: 'array', items: { $ref: '${ref}' } }], not: { const: 0 } }`
const NESTED = component(`  input: { type: 'object', properties: { tree: { $ref: '#/definitions/tree' } }, definitions: { tree: ${tree('#/definitions/tree')} } },
  async execute() { return { ok: 1 } },`, '', 'nested')
/** Its own output against its own schema: the same blow-up, its own doing. */
const OUTPUT = component(`  output: ${tree('#')},
  async execute() { let o: any = 0; for (let i = 0; i < 40; i++) o = [o]; return o },`, '', 'output')

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({
    tags: { source: TAGS, limits: DEFAULTS }, named: { source: NAMED, limits: DEFAULTS },
    nested: { source: NESTED, limits: DEFAULTS }, output: { source: OUTPUT, limits: DEFAULTS },
  }, { limits: DEFAULTS })
})
afterAll(() => h?.stop())

const standing = (name: string) => h.host.status().find((s) => s.name === name)!
const outcome = (name: string, input: unknown) => h.invoke(name, input).then((x) => ({ ok: x }), (e) => ({ code: e.code, message: e.message }))

it('a client input within inputBytes never charges the component whose uniqueItems schema checks it', async () => {
  const tags = Array.from({ length: 20_000 }, (_, i) => ({ a: i, b: [i % 3], c: 'x' }))
  const result = await outcome('tags', { tags })
  console.log(`tags: ${JSON.stringify(result)}; breaches ${standing('tags').breaches}, worker ${standing('tags').worker}`)
  expect(result).toEqual({ ok: { n: 20_000 } })
  expect(await outcome('tags', { tags: [...tags, { c: 'x', b: [0], a: 0 }] })).toMatchObject({ code: 'ERR_COMPONENT_INPUT_INVALID' })
  expect(standing('tags')).toMatchObject({ breaches: 0, worker: 'shared' })
}, 60_000)

it('a guest pattern that backtracks exponentially runs in linear time: the input is simply invalid', async () => {
  for (let i = 0; i < 3; i++) {
    expect(await outcome('named', { name: `${'a'.repeat(40)}b` })).toMatchObject({ code: 'ERR_COMPONENT_INPUT_INVALID' })
  }
  expect(await outcome('named', { name: 'a'.repeat(40) })).toEqual({ ok: { ok: 1 } })
  expect(standing('named')).toMatchObject({ breaches: 0, worker: 'shared' })
}, 60_000)

it('a guest pattern RE2 cannot run is refused at load, naming where it is', async () => {
  const error = await h.loadFailure(component(`  input: { type: 'object', properties: { name: { type: 'string', pattern: '^(?!admin).*$' } } },
  async execute() { return {} },`), DEFAULTS)
  expect(error.code).toBe('ERR_COMPONENT_LOAD_FAILED')
  expect(error.message).toMatch(/refused at input\.properties\.name\.pattern: pattern '\^\(\?!admin\)\.\*\$' cannot run on the linear-time regular expression engine/)
}, 60_000)

it('an input too costly to check is the caller\'s 400, never a breach of the component', async () => {
  let tree: unknown = 0
  for (let i = 0; i < 40; i++) tree = [tree]
  for (let i = 0; i < 3; i++) {
    expect(await outcome('nested', { tree })).toMatchObject({ code: 'ERR_COMPONENT_INPUT_INVALID', message: expect.stringMatching(/input is too costly to check/) })
  }
  expect(await outcome('nested', { tree: [[]] })).toEqual({ ok: { ok: 1 } })
  expect(standing('nested')).toMatchObject({ breaches: 0, worker: 'shared' })
}, 60_000)

it('an output too costly to check against its own schema fails the call, coded, without stalling the worker', async () => {
  const pid = await h.pidOf('output')
  expect(await outcome('output', {})).toMatchObject({ code: 'ERR_COMPONENT_OUTPUT_INVALID', message: expect.stringMatching(/too costly to check against its output schema/) })
  expect(await h.pidOf('output')).toBe(pid)
  expect(standing('output')).toMatchObject({ breaches: 0, worker: 'shared' })
  await h.expectCanary()
}, 60_000)
