// What a component returns, as the engine reads it: the output cap is enforced while serialising (a refused output
// costs no more than the cap), and values JSON would silently rewrite are refused with their path, unless the
// output schema explicitly allows what they become.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attacker, component, only, startHostile, TIGHT, type HostileHost } from './hostile/support.ts'

/** The output cap is the one tight limit here: everything else is roomy, so only the cap can answer. */
const CAP = TIGHT.outputBytes
let h: HostileHost

/** A component returning `expression` from `execute`, with `members` (schemas, examples) beside it. */
const returning = (expression: string, members = '') => component(`${members}
  async execute(input: any) { return ${expression} },`, 'class Money { amount = 1 }')

beforeAll(async () => {
  h = await startHostile({
    // 2 000 copies of one 100 KB string: a few KB of heap, 200 MB of JSON. Serialised whole before the cap was
    // compared, it blew the 32 MB isolate (or the CPU budget); now it stops at the cap.
    'wide-fanout': attacker("const s = 'x'.repeat(100_000); return new Array(2_000).fill(s)"),
    sized: component(`  async execute(input: any) { return input.char.repeat(input.n) },`),
    polluted: attacker(`Object.defineProperty(Object.prototype, 'toJSON', { value() { return 'polluted' }, configurable: true, writable: true })
      Object.defineProperty(Array.prototype, 'toJSON', { value() { return 'polluted' }, configurable: true, writable: true })
      JSON.stringify = () => '"forged"'
      Object.keys = () => []
      Set.prototype.has = () => true
      return { a: [1, { b: 'c' }], d: null }`),
    'map-deep': returning('{ items: [{ when: 1 }, { when: 2 }, { when: new Map([[1, 2]]) }] }'),
    'date-unschemed': returning('{ items: [0, 1, { when: new Date(0) }] }'),
    'date-as-string': returning("{ items: [{ when: new Date(0) }], at: new Date(86_400_000) }", `  output: { type: 'object', properties: {
    items: { type: 'array', items: { type: 'object', properties: { when: { type: 'string' } } } },
    at: { type: ['string', 'null'] } } },`),
    'date-as-number': returning('{ when: new Date(0) }', "  output: { type: 'object', properties: { when: { type: 'number' } } },"),
    'undefined-item': returning('{ list: [1, undefined, 3] }'),
    'hole': returning('{ list: [1, , 3] }'),
    'absent-optional': returning('{ a: 1, note: undefined }', "  output: { type: 'object', required: ['a'], properties: { a: { type: 'number' }, note: { type: 'string' } } },"),
    'absent-required': returning('{ a: 1, note: undefined }', "  output: { type: 'object', required: ['a', 'note'], properties: { a: { type: 'number' }, note: { type: 'string' } } },"),
    'absent-unschemed': returning('{ a: 1, note: undefined }'),
    fn: returning('{ a: { compute: () => 1 } }'),
    sym: returning("{ tag: Symbol('t') }"),
    nan: returning('{ ratio: 0 / 0 }'),
    inf: returning('{ ratio: 1 / 0 }'),
    big: returning('{ n: 10n }'),
    set: returning('{ ids: new Set([1]) }'),
    klass: returning('{ price: new Money() }'),
    typed: returning('{ bytes: new Uint8Array([1]) }'),
    regex: returning('{ re: /x/ }'),
    error: returning("{ e: new Error('x') }"),
    cycle: returning('(() => { const o: any = { a: {} }; o.a.back = o; return o })()'),
    odd: returning('{ "a b": [new Map()] }'),
    'deep-cycle': returning('(() => { const o: any = {}; let c = o; for (let i = 0; i < 40; i++) c = c.n = {}; c.back = o; return { root: o } })()'),
    nothing: returning('undefined'),
    'null-proto': returning("Object.assign(Object.create(null), { ok: true })"),
    // ~46 KB of output, but 200 Dates under a 40 KB path: recorded whole, their conversions alone would be 8 MB.
    'dates-deep': returning("(() => { const o: any = {}; let c = o; for (let i = 0; i < 40; i++) c = c['k'.repeat(1000) + i] = {}; for (let j = 0; j < 200; j++) c['d' + j] = new Date(0); return o })()"),
    'map-far': returning("(() => { const o: any = {}; let c = o; for (let i = 0; i < 40; i++) c = c['k'.repeat(1000) + i] = {}; c.m = new Map(); return o })()"),
  }, { limits: only('outputBytes') })
})
afterAll(() => h?.stop())

describe('the output cap is enforced while serialising', () => {
  it('an output whose JSON would be 200 MB is refused at the cap, without exhausting the isolate', async () => {
    expect((await h.failure('wide-fanout')).code).toBe('ERR_SANDBOX_OUTPUT_LIMIT')
    // No breach: the same isolate serves the next call (a memory or CPU breach would have reset it).
    expect(await h.invoke('wide-fanout', {})).toEqual({ calls: 2 })
  })

  it('the cap is exact in UTF-8 bytes: at the cap passes, one byte over is refused', async () => {
    // A JSON string is its characters plus two quotes.
    expect(await h.invoke('sized', { char: 'x', n: CAP - 2 })).toHaveLength(CAP - 2)
    expect((await h.failure('sized', { char: 'x', n: CAP - 1 })).code).toBe('ERR_SANDBOX_OUTPUT_LIMIT')
    expect(await h.invoke('sized', { char: 'é', n: (CAP - 2) / 2 })).toHaveLength((CAP - 2) / 2)
    expect((await h.failure('sized', { char: 'é', n: (CAP - 2) / 2 + 1 })).code).toBe('ERR_SANDBOX_OUTPUT_LIMIT')
    const emoji = Math.floor((CAP - 2) / 4) // 4 bytes each, 2 UTF-16 units
    expect(await h.invoke('sized', { char: '😀', n: emoji })).toHaveLength(emoji * 2)
    expect((await h.failure('sized', { char: '😀', n: emoji + 1 })).code).toBe('ERR_SANDBOX_OUTPUT_LIMIT')
  })

  it('a guest that rewrites JSON, Object.keys, Set and prototype toJSON does not change what the host reads', async () => {
    expect(await h.invoke('polluted', { attack: true })).toEqual({ a: [1, { b: 'c' }], d: null })
  })
})

describe('what a refusal costs is bounded too', () => {
  it('conversions are charged against the cap: many Dates under a long path are refused at the limit', async () => {
    expect((await h.failure('dates-deep', {})).code).toBe('ERR_SANDBOX_OUTPUT_LIMIT')
  })

  it('a refusal quotes at most a short path', async () => {
    const error = await h.failure('map-far', {})
    expect(error.code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
    expect(error.message.length).toBeLessThan(1000)
    expect(String(error.details.path).length).toBeLessThan(400)
  })
})

describe('values JSON cannot carry are refused with their path, type and fix', () => {
  const refused = async (name: string) => {
    const error = await h.failure(name, {})
    expect(error.code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
    return error
  }

  it('a Map deep in the output names its path and how to fix it', async () => {
    const error = await refused('map-deep')
    expect(error.message).toBe("component 'map-deep' returned a Map at output.items[2].when, which JSON cannot carry: return Object.fromEntries(map), or [...map] for non-string keys")
    expect(error.details).toMatchObject({ path: 'output.items[2].when', found: 'a Map', component: 'map-deep' })
  })

  it('a Date is refused unless the output schema declares a string there; then it is its ISO string', async () => {
    const error = await refused('date-unschemed')
    expect(error.details).toMatchObject({ path: 'output.items[2].when', found: 'a Date' })
    expect(error.message).toContain('return date.toISOString()')
    expect(await h.invoke('date-as-string', {})).toEqual({ items: [{ when: '1970-01-01T00:00:00.000Z' }], at: '1970-01-02T00:00:00.000Z' })
    expect((await refused('date-as-number')).details).toMatchObject({ path: 'output.when', found: 'a Date' })
  })

  it('undefined or an empty slot in an array is refused (JSON would make it null)', async () => {
    expect((await refused('undefined-item')).details).toMatchObject({ path: 'output.list[1]' })
    expect((await refused('hole')).details).toMatchObject({ path: 'output.list[1]' })
  })

  it('a property whose value is undefined is left out only where the schema declares it optional', async () => {
    expect(await h.invoke('absent-optional', {})).toEqual({ a: 1 })
    expect((await refused('absent-required')).details).toMatchObject({ path: 'output.note', found: 'a property whose value is undefined' })
    expect((await refused('absent-unschemed')).details).toMatchObject({ path: 'output.note' })
  })

  it.each([
    ['fn', 'output.a.compute', 'a function'],
    ['sym', 'output.tag', 'a symbol'],
    ['nan', 'output.ratio', 'NaN'],
    ['inf', 'output.ratio', 'Infinity'],
    ['big', 'output.n', 'a BigInt'],
    ['set', 'output.ids', 'a Set'],
    ['klass', 'output.price', 'an instance of class Money'],
    ['typed', 'output.bytes', 'a Uint8Array'],
    ['regex', 'output.re', 'a RegExp'],
    ['error', 'output.e', 'an Error'],
    ['cycle', 'output.a.back', 'a cycle (an object that contains itself)'],
    ['odd', 'output["a b"][0]', 'a Map'],
  ])('%s: refused at %s as %s', async (name, path, found) => {
    const error = await refused(name)
    expect(error.details).toMatchObject({ path, found })
    expect(error.message).toContain(`returned ${found} at ${path}`)
    expect(typeof error.details.hint).toBe('string')
  })

  it('a cycle deeper than the first levels is found too, at the first repeat', async () => {
    const error = await refused('deep-cycle')
    expect(error.details).toMatchObject({ path: `output.root${'.n'.repeat(40)}.back`, found: 'a cycle (an object that contains itself)' })
  })

  it('plain data passes: nothing returned is null, null-prototype objects are objects', async () => {
    expect(await h.invoke('nothing', {})).toBeNull()
    expect(await h.invoke('null-proto', {})).toEqual({ ok: true })
  })

  it('what init resolves with is no output: neither refused nor checked against the output schema', async () => {
    const own = await startHostile({
      'with-init': returning('{ n: 1 }', `  output: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
  async init() { return new Map() },`),
    })
    try {
      expect(await own.invoke('with-init', {})).toEqual({ n: 1 })
    } finally {
      await own.stop()
    }
  })

  it('an example output JSON cannot carry fails the load, naming the example path', async () => {
    const error = await h.loadFailure(returning("{ when: '1970-01-01T00:00:00.000Z' }",
      "  examples: [{ input: {}, output: { when: '1970-01-01T00:00:00.000Z' } }, { input: {}, output: { when: new Date(0) } }],"))
    expect(error.code).toBe('ERR_COMPONENT_LOAD_FAILED')
    expect(error.message).toContain('a Date at examples[1].output.when')
    expect(error.details).toMatchObject({ path: 'examples[1].output.when', found: 'a Date' })
  })
})
