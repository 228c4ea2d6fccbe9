// Exotic arguments to the web globals: what a component gets back must be what the standard says, with no path to
// an uncloned original and no assignment that silently does not happen. Each case ran before its fix and answered
// differently (named per case).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { attacker, startHostile, type HostileHost } from './support.ts'

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({
    exotic: attacker(`const which = input.which
      const run = async (f: () => unknown) => { try { return { value: await f() } } catch (e: any) { return { threw: typeof e.code === 'string' && e.code !== '' && !/^[0-9]+$/.test(String(e.code)) ? e.code : e.name } } }
      if (which === 'proxy-length') {
        // A Proxy over an array whose 'length' is an object: the clone must not carry that object (the original).
        const original = { mine: true }
        const trap = new Proxy([], { get: (t, k) => (k === 'length' ? original : (t as any)[k]), getOwnPropertyDescriptor: (t, k) => (k === 'length' ? { value: original, writable: true, enumerable: false, configurable: false } : Reflect.getOwnPropertyDescriptor(t, k)) })
        return await run(() => { const c: any = structuredClone(trap); return { sharesOriginal: c[0] === original } })
      }
      if (which === 'detached') {
        const b = new ArrayBuffer(8), view = new Uint8Array(b), dv = new DataView(b)
        b.transfer()
        const hex = (x: ArrayBuffer) => Array.from(new Uint8Array(x), (v) => v.toString(16).padStart(2, '0')).join('')
        return {
          decoded: await run(() => new TextDecoder().decode(view)),
          digest: await run(async () => hex(await crypto.subtle.digest('SHA-256', dv))),
          buffer: await run(async () => hex(await crypto.subtle.digest('SHA-256', b))),
        }
      }
      if (which === 'long-href') {
        // 200,000 characters in, 1.8 million out (each € is %E2%82%AC): over the 1 MiB cap of what a setter sends.
        const u = new URL('http://a.test/' + '€'.repeat(200_000))
        return { hash: await run(() => { u.hash = 'x'; return u.hash }), append: await run(() => { u.searchParams.append('a', 'b'); return u.search }) }
      }
      return {}`),
  })
})
afterAll(() => h?.stop())

it('structuredClone of a Proxy whose array length is an object is a DataCloneError, never a clone holding the original', async () => {
  // Before: { value: { sharesOriginal: true } } (new Array(object) made the original the clone's element 0).
  expect(await h.invoke('exotic', { attack: true, which: 'proxy-length' })).toEqual({ threw: 'DataCloneError' })
  await h.expectCanary()
})

it('a detached buffer holds no bytes: TextDecoder answers "", digest hashes the empty input (as Node and browsers do)', async () => {
  // Before: every one threw a TypeError from building a view over the detached buffer.
  const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
  expect(await h.invoke('exotic', { attack: true, which: 'detached' })).toEqual({ decoded: { value: '' }, digest: { value: empty }, buffer: { value: empty } })
})

it('a setter on a URL whose href grew past the cap is refused with the cap code, not silently ignored', async () => {
  // Before: u.hash = 'x' did nothing (hash stayed ''), and searchParams.append threw "URL: bad setter call".
  expect(await h.invoke('exotic', { attack: true, which: 'long-href' })).toEqual({
    hash: { threw: 'ERR_GLOBAL_ARGUMENT_TOO_LARGE' }, append: { threw: 'ERR_GLOBAL_ARGUMENT_TOO_LARGE' },
  })
})
