// http.rate-limit against a client that varies its address. An IPv6 user is routed a whole /64 (2^64 addresses, any
// of which its machine may use as source); a bucket per address would give it a fresh bucket per request. The same
// client written as an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack listener reports) or in another
// IPv6 spelling is still one client. Addresses reach the server as a trusted proxy's X-Forwarded-For (trustProxy 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type TestApp } from '../support/app.ts'

let app: TestApp
beforeAll(async () => {
  app = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: limit
    type: http.rate-limit
    config: { ratePerSecond: 0.0001, burst: 1, by: address }
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /hello, pipeline: ok }]
  - name: web
    type: http.server
    config: { port: 0, trustProxy: 1, middleware: [limit], routers: [api] }
pipelines:
  ok:
    steps:
      - type: respond
        config: { body: hi }
` })
})
afterAll(async () => { await app?.close() })

const from = (address: string) => fetch(`${app.url}/hello`, { headers: { 'x-forwarded-for': address } }).then((r) => r.status)

describe('rate-limit buckets by client, not by address spelling', () => {
  it('puts every address of one IPv6 /64 in one bucket, whatever its spelling; another /64 has its own', async () => {
    expect(await from('2001:db8:1:2::1')).toBe(200)
    expect(await from('2001:db8:1:2::abcd')).toBe(429)
    expect(await from('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(429)
    expect(await from('2001:0DB8:0001:0002:0000:0000:0000:0005')).toBe(429)
    expect(await from('[2001:db8:1:2::7]:443')).toBe(429)
    expect(await from('2001:db8:1:3::1')).toBe(200)
  })

  it('counts an IPv4 client once, as a.b.c.d or as ::ffff:a.b.c.d', async () => {
    expect(await from('198.51.100.7')).toBe(200)
    expect(await from('::ffff:198.51.100.7')).toBe(429)
    expect(await from('::ffff:c633:6407')).toBe(429)
    expect(await from('198.51.100.8')).toBe(200)
  })
})
