// Redirects of the fetch capability: every hop re-checked, capped, credentials kept to their origin, methods rewritten.
import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { capability, cleanup, privateCapability, refusal, serve } from '../test-servers.ts'

afterEach(cleanup)

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { Location: location })
  res.end('moved')
}

describe('re-checking each hop', () => {
  it('refuses a redirect to a loopback origin that is allowlisted but not granted private access', async () => {
    const b = await serve()
    const a = await serve((_req, res) => redirect(res, 302, `${b.origin}/internal`))
    const fetcher = capability({ origins: [a.origin, b.origin], privateOrigins: [a.origin] })
    const error = await refusal(fetcher.fetch({ url: a.origin }))
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.details).toMatchObject({ reason: 'blocked-address', range: 'loopback', origin: b.origin, redirect: 1 })
    expect(error.message).toContain(`redirect 1 to ${b.origin}`)
    expect(a.seen).toHaveLength(1)
    expect(b.connections).toBe(0)
  })

  it('refuses a redirect to an origin outside the allowlist', async () => {
    const b = await serve()
    const a = await serve((_req, res) => redirect(res, 301, `${b.origin}/`))
    const error = await refusal(privateCapability([a]).fetch({ url: a.origin }))
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.details).toMatchObject({ reason: 'origin-not-allowed', origin: b.origin, redirect: 1 })
    expect(b.connections).toBe(0)
  })

  it('refuses redirects to other schemes, credentials in the location, and the metadata address', async () => {
    const targets = ['file:///etc/passwd', 'http://user:pw@127.0.0.1/', 'http://169.254.169.254/latest/meta-data/']
    const a = await serve((req, res) => redirect(res, 302, targets[Number(req.url!.slice(1))]!))
    const fetcher = capability({ origins: [a.origin, 'http://169.254.169.254'], privateOrigins: [a.origin] })
    const reasons = []
    for (const index of targets.keys()) reasons.push((await refusal(fetcher.fetch({ url: `${a.origin}/${index}` }))).details.reason)
    expect(reasons).toEqual(['scheme', 'credentials', 'blocked-address'])
  })

  it('reports an unparseable location as ERR_FETCH_FAILED bad-redirect', async () => {
    const a = await serve((_req, res) => redirect(res, 302, 'http://[not-an-ip/'))
    const error = await refusal(privateCapability([a]).fetch({ url: a.origin }))
    expect([error.code, error.details.reason]).toEqual(['ERR_FETCH_FAILED', 'bad-redirect'])
  })
})

describe('following', () => {
  // /hop/N answers with a relative redirect to /hop/N-1; /hop/0 is the destination.
  const chain = (req: { url?: string }, res: ServerResponse) => {
    const n = Number(req.url!.split('/').pop())
    if (n > 0) redirect(res, 302, String(n - 1))
    else res.end('arrived')
  }

  it('follows a chain of relative redirects within one origin', async () => {
    const a = await serve(chain)
    const response = await privateCapability([a]).fetch({ url: `${a.origin}/hop/5` })
    expect(response).toMatchObject({ status: 200, body: 'arrived', url: `${a.origin}/hop/0` })
    expect(a.seen.map((seen) => seen.url)).toEqual(['/hop/5', '/hop/4', '/hop/3', '/hop/2', '/hop/1', '/hop/0'])
  })

  it('stops after maxRedirects with ERR_FETCH_FAILED too-many-redirects', async () => {
    const a = await serve(chain)
    const error = await refusal(privateCapability([a], { maxRedirects: 2 }).fetch({ url: `${a.origin}/hop/5` }))
    expect(error.code).toBe('ERR_FETCH_FAILED')
    expect(error.details).toMatchObject({ reason: 'too-many-redirects', limit: 2 })
    expect(a.seen).toHaveLength(3)
    const defaults = await refusal(privateCapability([a]).fetch({ url: `${a.origin}/hop/6` }))
    expect(defaults.details).toMatchObject({ reason: 'too-many-redirects', limit: 5 })
  })

  it('returns a redirect without a location as the response', async () => {
    const a = await serve((_req, res) => { res.statusCode = 302; res.end('no location') })
    expect(await privateCapability([a]).fetch({ url: a.origin })).toMatchObject({ status: 302, body: 'no location' })
  })
})

describe('credentials and methods across hops', () => {
  const secrets = { Authorization: 'Bearer secret', Cookie: 'session=1', 'X-Trace': 'keep' }

  it('strips authorization and cookie on a cross-origin hop between two granted origins', async () => {
    const c = await serve()
    const a = await serve((_req, res) => redirect(res, 307, `${c.origin}/landing`))
    const response = await privateCapability([a, c]).fetch({ url: a.origin, headers: secrets })
    expect(response.url).toBe(`${c.origin}/landing`)
    expect(a.seen[0]!.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'session=1' })
    expect(c.seen[0]!.headers.authorization).toBeUndefined()
    expect(c.seen[0]!.headers.cookie).toBeUndefined()
    expect(c.seen[0]!.headers['x-trace']).toBe('keep')
  })

  it('keeps them on a same-origin hop', async () => {
    const a = await serve((req, res) => (req.url === '/start' ? redirect(res, 302, '/next') : res.end('ok')))
    await privateCapability([a]).fetch({ url: `${a.origin}/start`, headers: secrets })
    expect(a.seen[1]!.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'session=1', 'x-trace': 'keep' })
  })

  it.each([
    [303, 'POST', 'GET'], [303, 'PUT', 'GET'], [302, 'POST', 'GET'], [301, 'POST', 'GET'],
    [307, 'POST', 'POST'], [308, 'PUT', 'PUT'], [302, 'PUT', 'PUT'],
  ])('a %i after %s continues as %s', async (status, method, expected) => {
    const a = await serve((req, res) => (req.url === '/form' ? redirect(res, status, '/result') : res.end('done')))
    await privateCapability([a]).fetch({
      url: `${a.origin}/form`, method, headers: { 'content-type': 'application/json' }, body: '{"n":1}',
    })
    const second = a.seen[1]!
    expect(second.method).toBe(expected)
    if (expected === 'GET') {
      expect(second.body).toBe('')
      expect(second.headers['content-type']).toBeUndefined()
      expect(second.headers['content-length']).toBeUndefined()
    } else {
      expect(second.body).toBe('{"n":1}')
      expect(second.headers['content-type']).toBe('application/json')
    }
  })
})
