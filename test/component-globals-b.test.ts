// Web-standard globals inside the isolate, part B (runtime/sandbox/globals/{timers,abort,console,fetch}.ts): what code
// written for a browser or a serverless runtime expects — setTimeout, AbortController, console, fetch — works in a
// real sandbox, bounded by the invocation that uses it and by the component's grants.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { component, eventually, startHostile, type HostileHost } from './hostile/support.ts'

/** A loopback fetch target: /echo answers what it got as JSON, /slow never answers, /seen counts /slow requests. */
async function target() {
  const state = { origin: '', slowSeen: 0, slowClosed: 0, open: new Set<ServerResponse>() }
  const server = createServer((req, res) => {
    if (req.url === '/slow') {
      state.slowSeen++
      state.open.add(res)
      res.once('close', () => { state.open.delete(res); if (!res.writableFinished) state.slowClosed++ })
      return
    }
    if (req.url === '/seen') return void res.end(String(state.slowSeen))
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.setHeader('x-reply', 'yes')
      res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers['content-type'] ?? null, custom: req.headers['x-custom'] ?? null, body }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = () => { server.closeAllConnections(); return new Promise((resolve) => server.close(resolve)) }
  return { state, close }
}

const TIMERS = component(`  async execute(input: any) {
    if (input.topLevel) return { topLevel }
    if (input.late) {
      let never
      try { setTimeout(() => {}, Infinity); never = 'armed' } catch (e: any) { never = e.code }
      try { setTimeout(() => {}, 60_000); return { armed: true } } catch (e: any) { return { code: e.code, message: e.message, never } }
    }
    if (input.throws) {
      setTimeout(() => { throw new Error('boom in a timer') }, 1)
      return new Promise(() => {})
    }
    const order: string[] = []
    const cleared = setTimeout(() => order.push('cleared'), 1)
    clearTimeout(cleared)
    setTimeout((a: string, b: string) => order.push(a + b), 2, 'with ', 'args')
    setTimeout(() => order.push('first'), 1)
    await new Promise((resolve) => setTimeout(resolve, 10))
    order.push('after')
    return { order }
  },`, `let topLevel: unknown
try { setTimeout(() => {}, 1); topLevel = 'armed' } catch (e: any) { topLevel = { code: e.code, message: e.message } }`, 'timers')

const CONSOLE = component(`  async execute() {
    console.info('priced', { total: 3, currency: 'EUR' })
    console.log('count %d of %s', 2.7, 'items', [1, 2])
    console.warn(new Error('careful'))
    console.debug('quiet')
    console.error('failed', 42, null)
    return { ok: true }
  },`, '', 'console')

const FETCHER = component(`  config: { type: 'object', properties: { origin: { type: 'string' } } },
  async execute(input: any, ctx: any) {
    const origin = ctx.config.origin
    if (input.mode === 'post') {
      const res = await fetch(origin + '/echo?x=1', { method: 'post', headers: { 'X-Custom': 'a', 'content-type': 'application/json' }, body: JSON.stringify({ hi: 1 }) })
      const data = await res.json()
      let second
      try { await res.text(); second = 'read twice' } catch (e: any) { second = e.constructor.name }
      return { status: res.status, ok: res.ok, url: res.url, type: res.headers.get('Content-Type'), reply: res.headers.get('x-reply'),
        instance: res instanceof Response && res.headers instanceof Headers, redirected: res.redirected, used: res.bodyUsed, second, data }
    }
    if (input.mode === 'clone') {
      const request = new Request(origin + '/echo', { method: 'PUT', body: new Uint8Array([104, 195, 169]) })
      const copy = request.clone()
      const first = await (await fetch(request)).json()
      const again = await (await fetch(copy)).json()
      const params = new Request(origin + '/echo', { method: 'POST', body: 'a=1' })
      const made = Response.json({ n: 1 }, { status: 201 })
      return { first: first.body, again: again.body, method: first.method, type: params.headers.get('content-type'),
        made: { status: made.status, type: made.headers.get('content-type'), body: await made.json() }, bytes: Array.from(await new Response('é').bytes()) }
    }
    if (input.mode === 'abort') {
      const controller = new AbortController()
      const events: string[] = []
      controller.signal.addEventListener('abort', (e: Event) => events.push(e.type))
      const pending = fetch(origin + '/slow', { signal: controller.signal })
      // Waits until the target has the request, so the abort has a request in flight to end.
      while ((await (await fetch(origin + '/seen')).text()) === '0') await new Promise((r) => setTimeout(r, 5))
      controller.abort()
      try { await pending; return { settled: 'resolved' } } catch (e: any) {
        return { name: e.name, isDom: e instanceof DOMException, code: e.code, aborted: controller.signal.aborted, events }
      }
    }
    if (input.mode === 'timeout') {
      try { await fetch(origin + '/slow', { signal: AbortSignal.timeout(20) }); return { settled: 'resolved' } } catch (e: any) { return { name: e.name } }
    }
    if (input.mode === 'preaborted') {
      try { await fetch(origin + '/echo', { signal: AbortSignal.abort('why') }); return { settled: 'resolved' } } catch (e: any) { return { reason: e } }
    }
    return {}
  },`, '', 'fetcher')

const UNGRANTED = component(`  async execute() {
    try { await fetch('http://127.0.0.1:9/x'); return { settled: 'resolved' } } catch (e: any) { return { code: e.code, message: e.message } }
  },`, '', 'ungranted')

let server: Awaited<ReturnType<typeof target>>
let h: HostileHost
beforeAll(async () => {
  server = await target()
  const origin = server.state.origin
  h = await startHostile({
    timers: { source: TIMERS, limits: { timeoutMs: 5000 } },
    console: CONSOLE,
    fetcher: { source: FETCHER, config: { origin }, grants: { fetch: { origins: [origin], privateOrigins: [origin], maxRequests: 10_000 } as never } },
    ungranted: UNGRANTED,
  })
}, 60_000)
afterAll(async () => {
  await h?.stop()
  await server?.close()
})

describe('setTimeout and clearTimeout', () => {
  it('timers fire in order with their arguments, a cleared one never, and await new Promise(r => setTimeout(r, 10)) works', async () => {
    expect(await h.invoke('timers', {})).toEqual({ order: ['first', 'with args', 'after'] })
  })

  it('a delay past the invocation deadline is refused at once with ERR_SANDBOX_TIMER, saying what is left', async () => {
    const out = await h.invoke('timers', { late: true }) as { code: string; message: string; never: string }
    expect(out.code).toBe('ERR_SANDBOX_TIMER')
    expect(out.never).toBe('ERR_SANDBOX_TIMER')
    expect(out.message).toMatch(/setTimeout: a delay of 60000 ms ends after this invocation's deadline \(\d+ ms left of its 5000 ms timeout\)/)
    // The component cannot raise its own deadline: the hint names where the limit is set.
    expect(out.message).toContain("raise timeoutMs in the app's YAML (the component's entry or its slot")
  })

  it('at module top level there is no invocation: setTimeout throws a clear error', async () => {
    const out = await h.invoke('timers', { topLevel: true }) as { topLevel: { code: string; message: string } }
    expect(out.topLevel.code).toBe('ERR_SANDBOX_TIMER')
    expect(out.topLevel.message).toContain('only available while the component runs')
  })

  it('a timer callback that throws fails its invocation with that error', async () => {
    const error = await h.failure('timers', { throws: true })
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toContain('boom in a timer')
  })
})

describe('console', () => {
  it('console.* lands in the component log: levels, fields from (message, object), formatted arguments', async () => {
    const from = h.logs.length
    await h.invoke('console', {})
    const mine = () => h.logs.slice(from).filter((l) => l.component === 'console')
    await eventually(() => mine().length >= 5)
    const lines = mine().map((l) => ({ level: l.level, msg: l.msg, ...(l.fields ? { fields: l.fields } : {}) }))
    expect(lines[0]).toEqual({ level: 30, msg: 'priced', fields: { total: 3, currency: 'EUR' } })
    expect(lines[1]).toEqual({ level: 30, msg: 'count 2 of items [1,2]' })
    expect(lines[2]!.level).toBe(40)
    expect(lines[2]!.msg).toMatch(/^Error: careful\n\s+at /)
    expect(lines[3]).toEqual({ level: 20, msg: 'quiet' })
    expect(lines[4]).toEqual({ level: 50, msg: 'failed 42 null' })
  })
})

describe('fetch, Request, Response, Headers', () => {
  it('fetch to a granted loopback origin: method, headers and body out; status, headers and json() back; a body reads once', async () => {
    const out = await h.invoke('fetcher', { mode: 'post' })
    expect(out).toEqual({
      status: 200, ok: true, url: `${server.state.origin}/echo?x=1`, type: 'application/json', reply: 'yes', instance: true, redirected: false,
      used: true, second: 'TypeError',
      data: { method: 'POST', url: '/echo?x=1', type: 'application/json', custom: 'a', body: '{"hi":1}' },
    })
  })

  it('Request.clone() sends the same body twice; UTF-8 bytes as a body; default content types; Response.json()', async () => {
    expect(await h.invoke('fetcher', { mode: 'clone' })).toEqual({
      first: 'hé', again: 'hé', method: 'PUT', type: 'text/plain;charset=UTF-8',
      made: { status: 201, type: 'application/json', body: { n: 1 } }, bytes: [195, 169],
    })
  })

  it('fetch without a fetch grant rejects with ERR_CAPABILITY_DENIED, as ctx.fetch does', async () => {
    const out = await h.invoke('ungranted', {}) as { code: string; message: string }
    expect(out.code).toBe('ERR_CAPABILITY_DENIED')
    expect(out.message).toContain("component 'ungranted' is not granted")
  })

  it('AbortController aborts an in-flight fetch: it rejects with an AbortError DOMException and the engine drops the request', async () => {
    const closedBefore = server.state.slowClosed
    const out = await h.invoke('fetcher', { mode: 'abort' })
    expect(out).toEqual({ name: 'AbortError', isDom: true, code: 20, aborted: true, events: ['abort'] })
    await eventually(() => server.state.slowClosed > closedBefore)
  })

  it('AbortSignal.timeout rejects with a TimeoutError; an already aborted signal rejects with its reason before anything is sent', async () => {
    expect(await h.invoke('fetcher', { mode: 'timeout' })).toEqual({ name: 'TimeoutError' })
    expect(await h.invoke('fetcher', { mode: 'preaborted' })).toEqual({ reason: 'why' })
  })
})
