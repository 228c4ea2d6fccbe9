// The fetch capability against real loopback servers: requests that pass, what the guest gets back, limits and failures.
import { createServer, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { IsletError } from '../../../errors.ts'
import { createFetchCapability } from './fetch.ts'
import { answering, capability, cleanup, privateCapability, refusal, serve } from '../test-servers.ts'

afterEach(cleanup)

describe('allowed requests', () => {
  it('GETs with headers and returns status, final URL, lower-cased headers and body', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(201, { 'X-Answer': '42', 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('héllo')
    })
    const response = await privateCapability([server]).fetch({
      url: `${server.origin}/things?id=1#frag`, headers: { 'X-Custom': 'yes', Authorization: 'Bearer t' },
    })
    expect(response).toMatchObject({ status: 201, url: `${server.origin}/things?id=1`, body: 'héllo' })
    expect(response.headers['x-answer']).toBe('42')
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(server.seen[0]).toMatchObject({ method: 'GET', url: '/things?id=1' })
    expect(server.seen[0]!.headers).toMatchObject({ 'x-custom': 'yes', authorization: 'Bearer t', host: `127.0.0.1:${server.port}` })
  })

  it('POSTs a string body with its content-type, and defaults the content-type like fetch()', async () => {
    const server = await serve((_req, res, body) => res.end(body.toUpperCase()))
    const fetcher = privateCapability([server])
    const json = await fetcher.fetch({
      url: server.origin, method: 'post', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 1 }),
    })
    expect(json.body).toBe('{"A":1}')
    expect(server.seen[0]).toMatchObject({ method: 'POST', body: '{"a":1}' })
    expect(server.seen[0]!.headers['content-type']).toBe('application/json')
    expect(server.seen[0]!.headers['content-length']).toBe('7')
    await fetcher.fetch({ url: server.origin, method: 'PUT', body: 'plain' })
    expect(server.seen[1]!.headers['content-type']).toBe('text/plain;charset=UTF-8')
  })

  it('drops hop-by-hop and framing headers the guest tries to set', async () => {
    const server = await serve()
    await privateCapability([server]).fetch({
      url: server.origin, method: 'POST', body: 'x',
      headers: {
        Host: 'evil.example', Connection: 'close', 'Content-Length': '999', 'Transfer-Encoding': 'chunked', Upgrade: 'h2c',
        TE: 'trailers', Trailer: 'x', 'Keep-Alive': '1', 'Proxy-Authorization': 'Basic x', 'Proxy-Foo': '1',
        'Accept-Encoding': 'gzip', 'X-Ok': 'kept',
      },
    })
    const seen = server.seen[0]!.headers
    expect(seen.host).toBe(`127.0.0.1:${server.port}`)
    expect(seen['content-length']).toBe('1')
    expect(seen['x-ok']).toBe('kept')
    for (const name of ['transfer-encoding', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-authorization', 'proxy-foo', 'accept-encoding']) {
      expect(seen[name], name).toBeUndefined()
    }
  })

  it('resolves hostnames through the lookup hook and pins the connection to its answer', async () => {
    const server = await serve()
    const origin = `http://api.test:${server.port}`
    const lookup = answering('127.0.0.1')
    const response = await capability({ origins: [origin], privateOrigins: [origin] }, { lookup }).fetch({ url: `${origin}/x` })
    expect(response.status).toBe(200)
    expect(server.seen[0]!.headers.host).toBe(`api.test:${server.port}`)
    expect(lookup.calls).toEqual(['api.test'])
  })
})

describe('responses', () => {
  it('drops set-cookie', async () => {
    const server = await serve((_req, res) => {
      res.setHeader('Set-Cookie', ['session=secret; HttpOnly', 'other=1'])
      res.setHeader('X-Visible', '1')
      res.end()
    })
    const { headers } = await privateCapability([server]).fetch({ url: server.origin })
    expect(headers['set-cookie']).toBeUndefined()
    expect(headers['x-visible']).toBe('1')
  })

  it('returns a plain object that a __proto__ header cannot pollute', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, ['__proto__', 'polluted', 'constructor', 'c', 'X-Dup', 'a', 'X-Dup', 'b'])
      res.end()
    })
    const { headers } = await privateCapability([server]).fetch({ url: server.origin })
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype)
    expect(Object.hasOwn(headers, '__proto__')).toBe(false)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(headers.constructor).toBe('c') // an own string, harmless
    expect(headers['x-dup']).toBe('a, b')
    expect(Object.values(headers).every((value) => typeof value === 'string')).toBe(true)
  })

  it('refuses a body declared larger than maxResponseBytes', async () => {
    const server = await serve((_req, res) => res.end('x'.repeat(5000)))
    const error = await refusal(privateCapability([server], { maxResponseBytes: 1000 }).fetch({ url: server.origin }))
    expect(error.code).toBe('ERR_FETCH_TOO_LARGE')
    expect(error.details).toMatchObject({ reason: 'response-body', limit: 1000, origin: server.origin })
  })

  it('stops reading an endless streamed body at maxResponseBytes', async () => {
    let closed: () => void
    const serverSawClose = new Promise<void>((resolve) => { closed = resolve })
    const server = await serve((_req, res) => {
      const timer = setInterval(() => res.write('y'.repeat(1024)), 1)
      res.on('close', () => { clearInterval(timer); closed() })
    })
    const error = await refusal(privateCapability([server], { maxResponseBytes: 16 * 1024 }).fetch({ url: server.origin }))
    expect(error.code).toBe('ERR_FETCH_TOO_LARGE')
    expect(error.details.reason).toBe('response-body')
    await serverSawClose // the connection was dropped, not drained
  })

  it('does not count a HEAD response’s content-length as a body', async () => {
    const server = await serve((_req, res) => { res.setHeader('Content-Length', '999999'); res.end() })
    const response = await privateCapability([server], { maxResponseBytes: 10 }).fetch({ url: server.origin, method: 'HEAD' })
    expect(response).toMatchObject({ status: 200, body: '' })
  })
})

describe('request limits', () => {
  it('refuses a body over maxRequestBytes before connecting', async () => {
    const server = await serve()
    const error = await refusal(privateCapability([server], { maxRequestBytes: 10 }).fetch({ url: server.origin, method: 'POST', body: 'é'.repeat(6) }))
    expect(error.code).toBe('ERR_FETCH_TOO_LARGE')
    expect(error.details).toMatchObject({ reason: 'request-body', limit: 10 })
    expect(server.connections).toBe(0)
  })

  it('caps the header count and size, and rejects malformed headers, bodies and URLs', async () => {
    const server = await serve()
    const fetcher = privateCapability([server])
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-h${i}`, 'v']))
    const cases: Array<[Promise<unknown>, string, string]> = [
      [fetcher.fetch({ url: server.origin, headers: many }), 'ERR_FETCH_TOO_LARGE', 'request-headers'],
      [fetcher.fetch({ url: server.origin, headers: { 'x-big': 'v'.repeat(17 * 1024) } }), 'ERR_FETCH_TOO_LARGE', 'request-headers'],
      [fetcher.fetch({ url: server.origin, headers: { 'x-a': 'ok\r\nX-Injected: 1' } }), 'ERR_FETCH_INVALID_REQUEST', 'invalid-header'],
      [fetcher.fetch({ url: server.origin, headers: { 'bad name': 'v' } }), 'ERR_FETCH_INVALID_REQUEST', 'invalid-header'],
      [fetcher.fetch({ url: server.origin, headers: { 'x-a': 1 as unknown as string } }), 'ERR_FETCH_INVALID_REQUEST', 'invalid-header'],
      [fetcher.fetch({ url: server.origin, body: 'x' }), 'ERR_FETCH_INVALID_REQUEST', 'invalid-body'],
      [fetcher.fetch({ url: server.origin, method: 'POST', body: {} as string }), 'ERR_FETCH_INVALID_REQUEST', 'invalid-body'],
      [fetcher.fetch({ url: '/relative' }), 'ERR_FETCH_INVALID_REQUEST', 'invalid-url'],
      [fetcher.fetch({ url: `${server.origin}/${'a'.repeat(9000)}` }), 'ERR_FETCH_TOO_LARGE', 'request-url'],
    ]
    for (const [promise, code, reason] of cases) {
      const error = await refusal(promise)
      expect([error.code, error.details.reason]).toEqual([code, reason])
    }
    expect(server.connections).toBe(0)
  })
})

describe('failures', () => {
  it('times out with ERR_FETCH_FAILED reason timeout', async () => {
    const server = await serve(() => {}) // never answers
    const error = await refusal(privateCapability([server], { timeoutMs: 200 }).fetch({ url: server.origin }))
    expect(error.code).toBe('ERR_FETCH_FAILED')
    expect(error.details).toMatchObject({ reason: 'timeout', timeoutMs: 200, origin: server.origin })
  })

  it('stops when the caller aborts, with reason aborted', async () => {
    const server = await serve(() => {})
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const error = await refusal(privateCapability([server]).fetch({ url: server.origin }, controller.signal))
    expect(error.code).toBe('ERR_FETCH_FAILED')
    expect(error.details.reason).toBe('aborted')
  })

  it('reports a refused connection as a short network error without internals', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const origin = `http://127.0.0.1:${port}`
    const error = await refusal(capability({ origins: [origin], privateOrigins: [origin] }).fetch({ url: origin }))
    expect(error.code).toBe('ERR_FETCH_FAILED')
    expect(error.details).toMatchObject({ reason: 'network', code: 'ECONNREFUSED' })
    expect(error.message).toBe(`fetch to ${origin} failed: network error (ECONNREFUSED)`)
  })

  it('refuses calls after close(), which is idempotent', async () => {
    const server = await serve()
    const fetcher = privateCapability([server])
    await Promise.all([fetcher.close(), fetcher.close()])
    const error = await refusal(fetcher.fetch({ url: server.origin }))
    expect([error.code, error.details.reason]).toEqual(['ERR_FETCH_FAILED', 'closed'])
  })
})

describe('grant validation', () => {
  it.each([
    [{ origins: ['https://api.example.com/v1'] }, 'origins[0]'],
    [{ origins: ['api.example.com'] }, 'origins[0]'],
    [{ origins: ['ftp://files.example.com'] }, 'origins[0]'],
    [{ origins: ['https://api.example.com?x'] }, 'origins[0]'],
    [{ origins: ['https://u:secret@api.example.com'] }, 'origins[0]'],
    [{ origins: ['https://a.example', 7] }, 'origins[1]'],
    [{ origins: ['https://a.example'], privateOrigins: ['https://b.example'] }, 'privateOrigins[0]'],
    [{ origins: [], timeoutMs: 0 }, 'timeoutMs'],
    [{ origins: [], maxRedirects: 1.5 }, 'maxRedirects'],
    [{ origins: 'https://a.example' }, 'origins'],
  ])('rejects %j naming %s', (grant, field) => {
    let thrown: unknown
    try {
      createFetchCapability(grant as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(IsletError)
    expect((thrown as IsletError).code).toBe('ERR_CAPABILITY_GRANT_INVALID')
    expect((thrown as IsletError).details.field).toBe(field)
    expect((thrown as IsletError).message).toContain(field)
    expect((thrown as IsletError).message).not.toContain('secret')
  })
})
