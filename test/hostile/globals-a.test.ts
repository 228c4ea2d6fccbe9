// Hostile use of the web globals of part A (URL, URLSearchParams, TextEncoder/TextDecoder, atob/btoa, structuredClone,
// crypto). Each must behave the same after guest code rewrote the built-ins it would otherwise rely on, refuse an
// oversized argument before copying it, and stay inside the invocation's limits however often it is called: URL
// parsing and hashing run in the worker, where isolated-vm neither counts their time as the isolate's CPU nor
// interrupts them, so the worker charges and counts them itself. The canary, in the same worker, keeps answering.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { attacker, component, expectBreach, only, startHostile, type HostileHost } from './support.ts'

/** Uses every global and returns what it saw: the same component runs clean and after pollution. */
const EXERCISE = `
    const hex = (b: ArrayBuffer) => { const v = new Uint8Array(b); let s = ''; for (let i = 0; i < v.length; i++) s += (v[i] < 16 ? '0' : '') + v[i].toString(16); return s }
    const u = new URL('/p?q=1&r=ü', 'https://Example.com/a/')
    u.searchParams.append('s', 'x y')
    const enc = new TextEncoder().encode('é€𝄞')
    const dec = new TextDecoder().decode(enc)
    const cyc: any = { m: new Map([[1, 'one']]), d: new Date(5) }; cyc.self = cyc
    const c = structuredClone(cyc)
    const key = await crypto.subtle.importKey('raw', enc, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    const sig = await crypto.subtle.sign('HMAC', key, enc)
    const seen = {
      href: u.href, q: u.searchParams.get('r'), params: new URLSearchParams('a=1&b=%41').toString(),
      enc: Array.prototype.slice.call(enc).length, dec, b64: btoa('hi\\u00ff'), raw: atob('aGk='),
      clone: [c.self === c, c.m.get(1), c.d.getTime()],
      digest: hex(await crypto.subtle.digest('SHA-256', enc)), sig: hex(sig), verified: await crypto.subtle.verify('HMAC', key, sig, enc),
      uuid: crypto.randomUUID().length, pairs: [...u.searchParams].length,
    }`

const CLEAN = component(`  async execute() {${EXERCISE}
    return seen
  },`, '', 'clean')

// Everything an implementation could look up at call time, replaced by execute (after the bootstrap, before any of
// these globals is first used; module code and the sdk's defineComponent still need them); and
// Object.prototype accessors for the option names isolated-vm reads, which would turn a copy into a reference. The
// component keeps the originals it needs itself, and reports what it saw as one string built with + only.
const POLLUTE = `
const R = { apply: Reflect.apply, U8: Uint8Array, MapC: Map, mapSet: Map.prototype.set, mapGet: Map.prototype.get,
  len: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'length')!.get!,
  num: Number.prototype.toString, time: Date.prototype.getTime, def: Object.defineProperty }
let touched = ''
// Module level: esbuild names functions made inside execute with a helper whose plain descriptor the poisoned
// Object.prototype breaks (the component's own code, not the globals).
const hex = (b: ArrayBuffer) => { const v = new R.U8(b); const n = R.apply(R.len, v, []); let s = ''; for (let i = 0; i < n; i++) s += (v[i] < 16 ? '0' : '') + R.apply(R.num, v[i], [16]); return s }
const boom = () => { throw new Error('polluted built-in called') }
const targets: any[] = [
  String.prototype, ['charCodeAt', 'slice', 'toLowerCase', 'toUpperCase', 'toWellFormed', 'split', 'replace', 'indexOf', 'padStart'],
  Array.prototype, ['push', 'join', 'map', 'slice', 'splice', 'indexOf', 'forEach', 'sort', 'concat'],
  Map.prototype, ['get', 'set', 'has', 'forEach'], Set.prototype, ['add', 'has', 'forEach'],
  Object, ['keys', 'defineProperty', 'create', 'freeze', 'getPrototypeOf', 'getOwnPropertyDescriptor'],
  JSON, ['parse', 'stringify'], Reflect, ['apply', 'construct'], String, ['fromCharCode'],
  Function.prototype, ['call', 'apply', 'bind'], Date.prototype, ['getTime'], RegExp.prototype, ['exec'],
]
let polluted = false
const pollute = () => {
if (polluted) return
polluted = true
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype)
R.def(typedArrayProto, 'length', { get: () => 1 })
R.def(typedArrayProto, 'byteLength', { get: () => 1 })
const poisonObjectPrototype = () => {
  for (const name of ['copy', 'reference', 'externalCopy', 'result', 'arguments', 'timeout', 'promise', 'get', 'set', '0', 'length', 'value', 'name', 'hash']) {
    R.def(Object.prototype, name, { __proto__: null, get() { touched += name + ' '; return undefined }, set() { touched += 'set ' + name + ' ' }, configurable: true })
  }
}
;(globalThis as any).Uint8Array = function () { throw new Error('polluted Uint8Array') }
;(globalThis as any).Map = function () { throw new Error('polluted Map') }
;(globalThis as any).Symbol = { iterator: 'polluted', toStringTag: 'polluted' }
for (let t = 0; t < 22; t += 2) { const names = targets[t + 1]; for (let i = 0; i < 9; i++) if (names[i] !== undefined) R.def(targets[t], names[i], { __proto__: null, value: boom, writable: true, configurable: true }) }
poisonObjectPrototype()
}
`
const POLLUTED = component(`  async execute() {
    pollute()
    const u = new URL('/p?q=1&r=ü', 'https://Example.com/a/')
    u.searchParams.append('s', 'x y')
    const enc = new TextEncoder().encode('é€𝄞')
    const dec = new TextDecoder().decode(enc)
    const m = new R.MapC(); R.apply(R.mapSet, m, [1, 'one'])
    const cyc: any = { m, d: new Date(5) }; cyc.self = cyc
    const c = structuredClone(cyc)
    const key = await crypto.subtle.importKey('raw', enc, { __proto__: null, name: 'HMAC', hash: 'SHA-256' } as any, false, ['sign', 'verify'])
    const sig = await crypto.subtle.sign('HMAC', key, enc)
    return 'href=' + u.href + ' q=' + u.searchParams.get('r') + ' params=' + new URLSearchParams('a=1&b=%41').toString()
      + ' enc=' + R.apply(R.len, enc, []) + ' dec=' + dec + ' b64=' + btoa('hi\\u00ff') + ' raw=' + atob('aGk=')
      + ' clone=' + (c.self === c) + ',' + R.apply(R.mapGet, c.m, [1]) + ',' + R.apply(R.time, c.d, [])
      + ' digest=' + hex(await crypto.subtle.digest('SHA-256', enc)) + ' sig=' + hex(sig)
      + ' verified=' + (await crypto.subtle.verify('HMAC', key, sig, enc)) + ' uuid=' + crypto.randomUUID().length + ' pairs=' + [...u.searchParams].length
      + ' touched=' + touched
  },`, POLLUTE, 'polluted')

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({
    clean: CLEAN,
    polluted: POLLUTED,
    huge: attacker(`const which = input.which
      const codeOf = async (f: () => unknown) => { try { await f(); return 'no error' } catch (e: any) { return typeof e.code === 'string' ? e.code : e.name } }
      if (which === 'url') return { code: await codeOf(() => new URL('http://a.test/' + 'x'.repeat(10 * 1024 * 1024))) }
      if (which === 'rope') { let s = 'a'.repeat(1 << 20); for (let i = 0; i < 8; i++) s = s + s; return { code: await codeOf(() => new URL(s)), length: s.length } }
      if (which === 'digest') return { code: await codeOf(() => crypto.subtle.digest('SHA-256', new Uint8Array(17 * 1024 * 1024))) }
      if (which === 'random') return { code: await codeOf(() => crypto.getRandomValues(new Uint8Array(65537))) }
      if (which === 'key') return { code: await codeOf(() => crypto.subtle.importKey('raw', new Uint8Array(65537), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])) }
      return {}`),
    // Not awaited: the loop is almost all worker time, which isolated-vm's timeout neither counts nor interrupts.
    'digest-flood': { source: attacker(`const data = new Uint8Array(4 * 1024 * 1024)
      for (;;) crypto.subtle.digest('SHA-512', data).catch(() => {})`), limits: only('cpuMs') },
    // Catches the refusal and tries to return normally: the invocation still ends as the breach.
    'url-flood': attacker(`try { for (let i = 0; ; i++) new URL('http://a.test/' + i) } catch (e: any) { return { caught: e.code } }`),
    'deep-clone': attacker(`let v: any = {}; const root = v
      for (let i = 0; i < 200_000; i++) { v.next = { prev: v }; v = v.next }
      structuredClone(root)`),
  })
})
afterAll(() => h?.stop())

it('the globals behave the same after guest code replaced the built-ins and prototypes they would use', async () => {
  const clean = await h.invoke('clean') as Record<string, unknown>
  expect(clean).toMatchObject({ href: 'https://example.com/p?q=1&r=%C3%BC&s=x+y', q: 'ü', params: 'a=1&b=A', enc: 9, dec: 'é€𝄞', verified: true, uuid: 36, pairs: 3 })
  // Same computations with String/Array/Object/JSON/Map/Function/typed-array internals poisoned: same answers, and no
  // name on Object.prototype was read (the isolated-vm option names: every worker call still copies, never references).
  // Its HMAC algorithm has a null prototype: reading the optional member 'length' from it is the standard's own lookup.
  const { href, q, params, enc, dec, b64, raw, clone: cloned, digest, sig, verified, uuid, pairs } = clean as Record<string, any>
  expect(await h.invoke('polluted')).toBe(`href=${href} q=${q} params=${params} enc=${enc} dec=${dec} b64=${b64} raw=${raw} `
    + `clone=${cloned.join(',')} digest=${digest} sig=${sig} verified=${verified} uuid=${uuid} pairs=${pairs} touched=`)
  await h.expectCanary()
})

it('oversized arguments are refused with a clear code before anything is copied', async () => {
  for (const which of ['url', 'digest', 'key']) {
    expect(await h.invoke('huge', { attack: true, which })).toEqual({ code: 'ERR_GLOBAL_ARGUMENT_TOO_LARGE' })
  }
  // A 256 Mi-character rope (1 MiB of heap) is refused by its length, never flattened: no memory breach.
  expect(await h.invoke('huge', { attack: true, which: 'rope' })).toEqual({ code: 'ERR_GLOBAL_ARGUMENT_TOO_LARGE', length: 256 * 1024 * 1024 })
  expect(await h.invoke('huge', { attack: true, which: 'random' })).toEqual({ code: 'QuotaExceededError' })
  await h.expectCanary()
})

it('a flood of 4 MiB digests is charged to the invocation CPU budget even when it catches every refusal', async () => {
  await expectBreach(h, 'digest-flood', 'ERR_SANDBOX_CPU_LIMIT')
  await h.expectCanary()
}, 30_000)

it('worker-side calls are counted per invocation: an endless URL loop ends at the count', async () => {
  const error = await expectBreach(h, 'url-flood', 'ERR_SANDBOX_HOST_CALL_LIMIT')
  expect(error.message).toContain('URL/crypto calls')
  await h.expectCanary()
}, 30_000)

it('structuredClone of a 200,000-deep chain fails inside the component; its next call and the canary are served', async () => {
  const error = await h.failure('deep-clone')
  expect(error.code).toBe('ERR_COMPONENT_THREW')
  expect(await h.invoke('deep-clone', {})).toMatchObject({ calls: 2 })
  await h.expectCanary()
}, 30_000)

it('module code is bounded too: an endless URL loop at load fails the load, and the canary is served', async () => {
  const error = await h.loadFailure(component(`  async execute() { return {} },`, `for (let i = 0; ; i++) new URL('http://a.test/' + i)`, 'load-flood'))
  expect(error.message).toContain('URL/crypto calls while loading')
  await h.expectCanary()
}, 30_000)
