// Hostile results and inputs: thenables, traps and getters, prototype payloads, deep and huge outputs, values JSON
// cannot carry, re-entrant host calls while the output is serialised, hostile throws, hostile schemas.
// Components whose point is a limit run with only that limit tight (see `only`); the rest run roomy.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { attacker, component, expectBreach, loadCause, only, startFailure, startHostile, TIGHT, type HostileComponent, type HostileHost } from './support.ts'

const cpu = (source: string): HostileComponent => ({ source, limits: only('cpuMs') })
const output = (source: string): HostileComponent => ({ source, limits: only('outputBytes') })

let h: HostileHost

beforeAll(async () => {
  h = await startHostile({
    thenable: attacker('return { then(resolve: (v: unknown) => void) { resolve(1) } }'),
    'thenable-never': { source: attacker('return { then() {} }'), limits: only('timeoutMs') },
    'thenable-self': cpu(attacker('return { then(resolve: (v: unknown) => void) { resolve(this) } }')),
    'getter-loop': cpu(attacker('return { get x() { for (;;) {} } }')),
    'getter-throws': attacker("return { get x(): number { throw new Error('from a getter') } }"),
    'proxy-throws': attacker("return new Proxy({}, { ownKeys() { throw new Error('from a trap') } })"),
    'proxy-loops': cpu(attacker('return new Proxy({ a: 1 }, { get() { for (;;) {} } })')),
    'proto-payload': attacker(`return JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"a":{"__proto__":{"polluted":1}}}')`),
    'deep-objects': attacker('let o: any = {}; for (let i = 0; i < 1e6; i++) o = { a: o }; return o'),
    'deep-arrays': attacker('let o: any = []; for (let i = 0; i < 1e6; i++) o = [o]; return o'),
    'huge-string': output(attacker("return { s: 'x'.repeat(1e8) }")),
    'huge-tojson': output(attacker("return { toJSON() { return 'x'.repeat(1e7) } }")),
    'wide-chars': output(attacker(`return { s: 'é'.repeat(${TIGHT.outputBytes / 2 + 100}) }`)), // under the cap in chars, over it in bytes
    bigint: attacker('return { n: 1n }'),
    cyclic: attacker('const o: any = {}; o.self = o; return o'),
    'odd-values': attacker(`return { date: new Date(0), map: new Map([[1, 2]]), set: new Set([1]), nan: NaN, inf: -Infinity,
      undef: undefined, fn: () => 1, sym: Symbol('s'), typed: new Uint8Array([1, 2]), buffer: new ArrayBuffer(4),
      error: new Error('e'), weak: new WeakMap(), regex: /x/g, boxed: new String('s') }`),
    undefined: attacker('return undefined'),
    'top-level-function': attacker('return () => 1'),
    species: attacker(`class Evil extends Array { static get [Symbol.species](): any { throw new Error('species') } }
      const a = new Evil(); a.push(1, 2); return a`),
    'reentrant-getters': { source: attacker(`return {
        get read() { ctx.kv.get('k'); return 'read' },
        get write() { ctx.kv.set('k', 'written while serialising'); return 'write' },
        get event() { ctx.emit('results.reentrant', { n: 1 }); return 'event' },
        get logs() { for (let i = 0; i < 1000; i++) ctx.log.info('from a getter'); return 'logs' },
      }`), grants: { kv: true, emit: ['results.*'] } },
    'throw-number': attacker('throw 42'),
    'throw-null': attacker('throw null'),
    'throw-symbol': attacker("throw Symbol('s')"),
    'throw-undescribable': attacker("throw { get message(): string { throw new Error('no') }, toString() { throw new Error('no') } }"),
    'throw-looping': cpu(attacker('throw { get message(): string { for (;;) {} } }')),
    'throw-huge': attacker("throw new Error('m'.repeat(1e6))"),
    'reject-later': attacker("await null; return Promise.reject(new Error('rejected later'))"),
    schemas: component(`  input: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer' }, big: { type: 'string' } } },
  output: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
  async execute(input: any) { calls++; return input.big ? { n: calls } : input.n === 13 ? { n: 'thirteen' } : { n: calls } },`, 'let calls = 0'),
  }, { limits: { inputBytes: 65_536 } })
})
afterAll(() => h?.stop())
afterEach(async () => { await h.expectCanary() })

describe('results that are not plain data', () => {
  it('a thenable result is adopted: the host gets what it resolved with', async () => {
    expect(await h.invoke('thenable', { attack: true })).toBe(1)
  })

  it('a thenable that never resolves ends at the deadline', async () => {
    await expectBreach(h, 'thenable-never', 'ERR_SANDBOX_TIMEOUT')
  })

  it('a thenable resolving with itself, forever, is stopped by the CPU budget', async () => {
    await expectBreach(h, 'thenable-self', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('a getter that loops forever is stopped while the output is serialised', async () => {
    await expectBreach(h, 'getter-loop', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('a getter that throws is ERR_COMPONENT_THREW, located in the component', async () => {
    const error = await h.failure('getter-throws')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/^from a getter \(index\.ts:\d+:\d+\)$/)
  })

  it('a Proxy whose ownKeys trap throws is ERR_COMPONENT_THREW', async () => {
    expect((await h.failure('proxy-throws')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('a Proxy whose get trap loops is stopped', async () => {
    await expectBreach(h, 'proxy-loops', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('a __proto__ payload reaches the host as plain data and pollutes nothing', async () => {
    const output = await h.invoke('proto-payload', { attack: true }) as Record<string, unknown>
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype)
    expect(Object.hasOwn(output, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(output.a)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect((Object.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('objects nested 1e6 deep are refused: serialising them overflows the stack, a RangeError', async () => {
    expect((await h.failure('deep-objects')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('arrays nested 1e6 deep are refused: serialising them overflows the stack, a RangeError', async () => {
    expect((await h.failure('deep-arrays')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('a 100 MB string output is refused at the output limit', async () => {
    expect((await h.failure('huge-string')).code).toBe('ERR_SANDBOX_OUTPUT_LIMIT')
  })

  it('a toJSON method is never called: a value carrying one is refused as a function, whatever it would return', async () => {
    const error = await h.failure('huge-tojson')
    expect(error.code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
    expect(error.details).toMatchObject({ path: 'output.toJSON' })
  })

  it('output under the cap in characters but over it in UTF-8 bytes is refused', async () => {
    expect((await h.failure('wide-chars')).code).toBe('ERR_SANDBOX_OUTPUT_LIMIT')
  })

  it('a BigInt output is refused as output JSON cannot carry', async () => {
    expect((await h.failure('bigint')).code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
  })

  it('a cyclic output is refused as output JSON cannot carry', async () => {
    expect((await h.failure('cyclic')).code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
  })

  it('Date, Map, Set, typed arrays, functions, symbols and other non-JSON values are refused, naming the path and type of one', async () => {
    const error = await h.failure('odd-values')
    expect(error.code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
    expect(error.details).toMatchObject({ path: 'output.map', found: 'a Map' })
  })

  it('undefined as the whole output arrives as null; a function is refused', async () => {
    expect(await h.invoke('undefined', { attack: true })).toBeNull()
    expect((await h.failure('top-level-function')).code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
  })

  it('an array whose Symbol.species throws still serialises as an array', async () => {
    expect(await h.invoke('species', { attack: true })).toEqual([1, 2])
  })

  it('getters that call kv, emit and log while the output is serialised: the result arrives, the host is fine', async () => {
    expect(await h.invoke('reentrant-getters', { attack: true })).toEqual({ read: 'read', write: 'write', event: 'event', logs: 'logs' })
  })
})

describe('hostile throws', () => {
  it('throw 42 is ERR_COMPONENT_THREW with the value as message', async () => {
    const error = await h.failure('throw-number')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toBe('42')
  })

  it('throw null and throw Symbol() are ERR_COMPONENT_THREW', async () => {
    expect((await h.failure('throw-null')).code).toBe('ERR_COMPONENT_THREW')
    expect((await h.failure('throw-symbol')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('a thrown value whose message and toString throw is still described', async () => {
    const error = await h.failure('throw-undescribable')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/cannot be described/)
  })

  it('a thrown value whose message getter loops is stopped', async () => {
    await expectBreach(h, 'throw-looping', 'ERR_SANDBOX_CPU_LIMIT')
  })

  it('a 1 MB error message is cut to 2000 characters', async () => {
    const error = await h.failure('throw-huge')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message.length).toBeLessThanOrEqual(2000)
  })

  it('a rejection after an await is ERR_COMPONENT_THREW', async () => {
    expect((await h.failure('reject-later')).code).toBe('ERR_COMPONENT_THREW')
  })
})

describe('inputs and schemas', () => {
  it('a huge input is refused before the call: the component never runs', async () => {
    const error = await h.failure('schemas', { big: 'x'.repeat(100_000) })
    expect(error.code).toBe('ERR_SANDBOX_INPUT_LIMIT')
    expect(await h.invoke('schemas', { n: 1 })).toEqual({ n: 1 })
  })

  it('an input that does not match the schema is refused before the call', async () => {
    expect((await h.failure('schemas', { n: 'one' })).code).toBe('ERR_COMPONENT_INPUT_INVALID')
    expect((await h.failure('schemas', { n: 1, extra: true })).code).toBe('ERR_COMPONENT_INPUT_INVALID')
  })

  it('an output that does not match the schema is ERR_COMPONENT_OUTPUT_INVALID', async () => {
    expect((await h.failure('schemas', { n: 13 })).code).toBe('ERR_COMPONENT_OUTPUT_INVALID')
  })

  it('an input schema with a pattern the linear-time engine cannot run (a backreference) is refused at load', async () => {
    const source = component("  input: { type: 'string', pattern: '^(a+)\\\\1$' },\n  execute() { return {} },")
    expect(loadCause((await startFailure(source)).error)).toBe('ERR_COMPONENT_LOAD_FAILED')
  })

  // Guest schemas are compiled and run in the sandbox worker, never in the engine, with the operator schemas' cost
  // bounds (guest-schema-cost.test.ts): the engine keeps answering, and the worker is not stalled either.
  it('an output schema whose $refs branch exponentially never blocks the engine; the call fails classified', async () => {
    const source = component(`  output: { anyOf: [{ allOf: [{ type: 'array', items: { $ref: '#' } }, { const: 'x' }] }, { type: 'array', items: { $ref: '#' } }] },
  execute() { let o: any = []; for (let i = 0; i < 40; i++) o = [o]; return o },`)
    const own = await startHostile({ exponential: { source, limits: only('timeoutMs') } })
    try {
      const { answered, outcome } = await whileEngineAnswers('exponential $ref schema', own.invoke('exponential', {}))
      expect(answered).toBeGreaterThan(0)
      expect(outcome).toMatchObject({ code: 'ERR_COMPONENT_OUTPUT_INVALID', message: expect.stringMatching(/too costly to check against its output schema/) })
    } finally {
      await own.stop()
    }
  })

  it('uniqueItems over 40 000 arrays is checked in the worker, not the engine, in linear time', async () => {
    const source = component(`  output: { type: 'array', uniqueItems: true },
  execute() { return Array.from({ length: 40_000 }, (_, i) => [i]) },`)
    // Deadline roomy enough that building and serialising the output always fits in it, even on a loaded machine.
    const own = await startHostile({ quadratic: { source, limits: only('timeoutMs', { timeoutMs: 3_000 }) } })
    try {
      const { answered, outcome } = await whileEngineAnswers('uniqueItems over 40 000 arrays', own.invoke('quadratic', {}))
      expect(answered).toBeGreaterThan(0)
      expect((outcome as { value: unknown[] }).value).toHaveLength(40_000)
    } finally {
      await own.stop()
    }
  })
})

/**
 * Awaits `work` while a loopback HTTP client and server, both in this (the engine's) process, keep exchanging
 * requests: each answer proves the engine's event loop turned while the attack ran. Returns how many were answered
 * before `work` settled and how it settled; prints the slowest round trip as a figure (never asserted: it measures
 * the machine as much as the engine).
 */
async function whileEngineAnswers(what: string, work: Promise<unknown>): Promise<{ answered: number; outcome: unknown }> {
  const server: Server = createServer((_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  let settled = false
  let answered = 0
  let slowestMs = 0
  const outcome = work.then((value) => ({ value }), (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }))
    .finally(() => { settled = true })
  const heartbeat = (async () => {
    while (!settled) {
      const started = performance.now()
      await (await fetch(url)).text()
      slowestMs = Math.max(slowestMs, performance.now() - started)
      if (!settled) answered++
    }
  })()
  try {
    const result = await outcome
    await heartbeat
    console.log(`[figure] ${what}: the engine answered ${answered} loopback requests meanwhile; slowest ${slowestMs.toFixed(1)} ms`)
    return { answered, outcome: result }
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}
