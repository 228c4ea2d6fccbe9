// The web-standard globals a generated component expects (part A: URL, URLSearchParams, TextEncoder/TextDecoder,
// atob/btoa, structuredClone, crypto), used by real components in a real sandbox worker, with the edge cases such
// code hits. Expected values are what Node's own implementations answer.
import { createHash, createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { component, startHostile, type HostileHost } from './hostile/support.ts'

const GLOBALS = component(`  async execute(input: any) {
    const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('')
    switch (input.case) {
      case 'url-base': {
        const u = new URL('/p?q=1#h', 'https://user:pw@Example.COM:8443/a/b')
        return { href: u.href, origin: u.origin, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname,
          search: u.search, hash: u.hash, username: u.username, password: u.password, q: u.searchParams.get('q'), json: JSON.stringify({ u }) }
      }
      case 'url-params': {
        const u = new URL('http://x.test/path?a=1&b=2&a=3')
        u.searchParams.append('c', 'd e&f')
        u.searchParams.delete('b')
        const afterAppend = u.href
        u.searchParams.set('a', 'ü')
        u.pathname = '/other path'
        u.hash = 'frag'
        u.search = '?z=9'
        return { afterAppend, href: u.href, z: u.searchParams.get('z'), all: [...new URLSearchParams('x=1&x=2&y=%41+b').entries()],
          built: new URLSearchParams({ k: 'v w', n: '1' }).toString(), sorted: (() => { const p = new URLSearchParams('b=2&a=1&b=1'); p.sort(); return p.toString() })(),
          size: new URLSearchParams([['a', '1'], ['b', '2']]).size }
      }
      case 'url-invalid': {
        let message = ''
        try { new URL('not a url') } catch (e: any) { message = e.constructor.name + ': ' + e.message }
        return { message, canParse: URL.canParse('nope'), canParseBase: URL.canParse('/x', 'http://a.test'), parsed: URL.parse('::'),
          setter: (() => { const u = new URL('http://a.test/'); u.port = 'not-a-port'; return u.href })() }
      }
      case 'text': {
        const bytes = new TextEncoder().encode('héllo €𝄞')
        const d = new TextDecoder()
        const streamed = d.decode(bytes.subarray(0, 3), { stream: true }) + d.decode(bytes.subarray(3))
        const notStreamed = new TextDecoder().decode(bytes.subarray(0, 2))
        let fatal = ''
        try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xc3])) } catch (e: any) { fatal = e.name }
        const bom = new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))
        const keptBom = new TextDecoder('utf8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))
        const into = new Uint8Array(4)
        const r = new TextEncoder().encodeInto('a€b', into)
        let label = ''
        try { new TextDecoder('latin2') } catch (e: any) { label = e.name }
        return { bytes: [...bytes], streamed, notStreamed, fatal, bom, keptBom: keptBom.length, into: [...into], read: r.read, written: r.written,
          lone: [...new TextEncoder().encode('\\ud800')], invalid: new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62])), label }
      }
      case 'base64': {
        let error = ''
        try { btoa('€') } catch (e: any) { error = e.name + '/' + (e instanceof DOMException) + '/' + e.code }
        let bad = ''
        try { atob('a') } catch (e: any) { bad = e.name }
        return { b: btoa('hello\\u00ff'), a: atob(' aGVsbG/D\\n'), padded: atob('YQ=='), error, bad }
      }
      case 'clone': {
        const cyc: any = { name: 'root', when: new Date(0), tags: new Set(['a']), m: new Map<any, any>([[1, { deep: [1, 2] }]]) }
        cyc.self = cyc
        cyc.m.set('back', cyc)
        const buffer = new Uint8Array([1, 2, 3, 4]).buffer
        cyc.views = [new Uint8Array(buffer, 1, 2), new DataView(buffer)]
        cyc.re = /x+/gi
        cyc.err = new RangeError('bad', { cause: 'why' })
        class Point { x = 1; get y() { return 2 } }
        cyc.point = new Point()
        const c = structuredClone(cyc)
        let fn = '', sym = ''
        try { structuredClone({ f() {} }) } catch (e: any) { fn = e.name + ':' + (e instanceof DOMException) }
        try { structuredClone(Symbol('s')) } catch (e: any) { sym = e.name }
        return {
          distinct: c !== cyc, self: c.self === c, back: c.m.get('back') === c, date: c.when instanceof Date && c.when.getTime() === 0,
          set: c.tags instanceof Set && c.tags.has('a'), deep: c.m.get(1).deep, sharedBuffer: c.views[0].buffer === c.views[1].buffer && c.views[0].buffer !== buffer,
          view: [...c.views[0]], re: String(c.re), err: [c.err instanceof RangeError, c.err.message, c.err.cause], point: [Object.getPrototypeOf(c.point) === Object.prototype, c.point.x],
          fn, sym,
        }
      }
      case 'crypto': {
        const data = new TextEncoder().encode('abc')
        const digests: Record<string, string> = {}
        for (const alg of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) digests[alg] = hex(await crypto.subtle.digest(alg, data))
        const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
        const sig = await crypto.subtle.sign('HMAC', key, data)
        const ok = await crypto.subtle.verify('HMAC', key, sig, data)
        const tampered = new Uint8Array(sig).slice(); tampered[0] ^= 1
        const bad = await crypto.subtle.verify({ name: 'HMAC' }, key, tampered, data)
        let unsupported = ''
        try { await crypto.subtle.digest('MD5', data) } catch (e: any) { unsupported = e.name }
        let quota = ''
        try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e: any) { quota = e.name }
        let notExtractable = ''
        try { await crypto.subtle.exportKey('raw', key) } catch (e: any) { notExtractable = e.name }
        const random = crypto.getRandomValues(new Uint32Array(8))
        const uuids = Array.from({ length: 300 }, () => crypto.randomUUID())
        const generated = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-512' }, true, ['sign'])
        return { digests, sig: hex(sig), ok, bad, unsupported, quota, notExtractable, algorithm: key.algorithm, usages: key.usages,
          randomDistinct: new Set(random).size > 1, uuidsDistinct: new Set(uuids).size, uuid: uuids[0],
          generatedBytes: (await crypto.subtle.exportKey('raw', generated)).byteLength }
      }
    }
    return {}
  },`, '', 'globals')

let h: HostileHost
beforeAll(async () => { h = await startHostile({ globals: GLOBALS }) })
afterAll(() => h?.stop())
const run = (name: string) => h.invoke('globals', { case: name }) as Promise<Record<string, any>>

describe('web globals inside a component (part A)', () => {
  it('URL resolves a relative reference against a base, with every component and its searchParams', async () => {
    expect(await run('url-base')).toEqual({
      href: 'https://user:pw@example.com:8443/p?q=1#h', origin: 'https://example.com:8443', host: 'example.com:8443',
      hostname: 'example.com', port: '8443', pathname: '/p', search: '?q=1', hash: '#h', username: 'user', password: 'pw', q: '1',
      json: '{"u":"https://user:pw@example.com:8443/p?q=1#h"}',
    })
  })

  it('searchParams mutations show in href; setters; URLSearchParams from strings, records and pairs', async () => {
    expect(await run('url-params')).toEqual({
      afterAppend: 'http://x.test/path?a=1&a=3&c=d+e%26f',
      href: 'http://x.test/other%20path?z=9#frag', z: '9',
      all: [['x', '1'], ['x', '2'], ['y', 'A b']], built: 'k=v+w&n=1', sorted: 'a=1&b=2&b=1', size: 2,
    })
  })

  it('an invalid URL throws a TypeError naming the input; canParse and parse do not throw; a bad port is ignored', async () => {
    expect(await run('url-invalid')).toEqual({
      message: "TypeError: Invalid URL: 'not a url'", canParse: false, canParseBase: true, parsed: null, setter: 'http://a.test/',
    })
  })

  it('TextEncoder/TextDecoder: UTF-8 both ways, streaming, stream:false replacement, fatal, BOM, encodeInto', async () => {
    const expected = [...Buffer.from('héllo €𝄞')]
    expect(await run('text')).toEqual({
      bytes: expected, streamed: 'héllo €𝄞', notStreamed: 'h\ufffd', fatal: 'TypeError', bom: 'A', keptBom: 2,
      into: [0x61, 0xe2, 0x82, 0xac], read: 2, written: 4, lone: [0xef, 0xbf, 0xbd], invalid: 'a\ufffdb', label: 'RangeError',
    })
  })

  it('btoa/atob: Latin1 round trip, forgiving whitespace and padding; non-Latin1 is an InvalidCharacterError DOMException', async () => {
    expect(await run('base64')).toEqual({
      b: Buffer.from('hello\u00ff', 'latin1').toString('base64'), a: Buffer.from('aGVsbG/D', 'base64').toString('latin1'), padded: 'a',
      error: 'InvalidCharacterError/true/5', bad: 'InvalidCharacterError',
    })
  })

  it('structuredClone keeps cycles, Map, Set, Date, RegExp, shared buffers, errors; functions and symbols are DataCloneError', async () => {
    expect(await run('clone')).toEqual({
      distinct: true, self: true, back: true, date: true, set: true, deep: [1, 2], sharedBuffer: true, view: [2, 3], re: '/x+/gi',
      err: [true, 'bad', 'why'], point: [true, 1], fn: 'DataCloneError:true', sym: 'DataCloneError',
    })
  })

  it('crypto: subtle.digest (SHA-1/256/384/512), HMAC sign/verify, getRandomValues quota, randomUUID', async () => {
    const r = await run('crypto')
    const digest = (alg: string) => createHash(alg).update('abc').digest('hex')
    expect(r.digests).toEqual({ 'SHA-1': digest('sha1'), 'SHA-256': digest('sha256'), 'SHA-384': digest('sha384'), 'SHA-512': digest('sha512') })
    expect(r.sig).toBe(createHmac('sha256', 'secret').update('abc').digest('hex'))
    expect(r).toMatchObject({ ok: true, bad: false, unsupported: 'NotSupportedError', quota: 'QuotaExceededError', notExtractable: 'InvalidAccessError',
      algorithm: { name: 'HMAC', hash: { name: 'SHA-256' }, length: 48 }, usages: ['sign', 'verify'], randomDistinct: true, uuidsDistinct: 300,
      generatedBytes: 128 })
    expect(r.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})
