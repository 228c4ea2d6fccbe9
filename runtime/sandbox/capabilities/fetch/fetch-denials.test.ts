// SSRF refusals of the fetch capability: each is ERR_CAPABILITY_DENIED with its reason, and no connection is made.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { answering, capability, cleanup, connectAttempts, refusal, serve, type TestServer } from '../test-servers.ts'

afterEach(cleanup)

let server: TestServer
let attemptsBefore: number
beforeEach(async () => {
  server = await serve()
  attemptsBefore = connectAttempts.count
})

/** The refusal happened before any socket: no connect attempt anywhere, nothing reached the server. */
function expectNoConnection(): void {
  expect(connectAttempts.count - attemptsBefore).toBe(0)
  expect(server.connections).toBe(0)
}

describe('origin allowlist', () => {
  it('refuses an origin that is not granted, naming it', async () => {
    const error = await refusal(capability({ origins: ['https://api.example.com'] }).fetch({ url: `${server.origin}/x` }))
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.details).toMatchObject({ reason: 'origin-not-allowed', origin: server.origin })
    expect(error.message).toBe(`fetch to ${server.origin} denied: this origin is not in the fetch grant`)
    expectNoConnection()
  })

  it('compares normalised origins: scheme and host case, default ports, other ports', async () => {
    const fetcher = capability({ origins: ['HTTP://API.Example.COM:80/'] })
    for (const url of ['https://api.example.com/', 'http://api.example.com:8080/', 'http://api.example.com.evil.test/']) {
      const error = await refusal(fetcher.fetch({ url }))
      expect(error.details.reason, url).toBe('origin-not-allowed')
    }
    // Same origin written differently passes the allowlist and only then meets the address check (an IP literal here).
    const loopback = capability({ origins: ['http://127.0.0.1:80'] })
    const error = await refusal(loopback.fetch({ url: 'HTTP://127.0.0.1/x' }))
    expect(error.details).toMatchObject({ reason: 'blocked-address', origin: 'http://127.0.0.1' })
    expectNoConnection()
  })

  it('says which grant opens a loopback or private origin', async () => {
    const error = await refusal(capability({ origins: [server.origin] }).fetch({ url: `${server.origin}/x` }))
    expect(error.details).toMatchObject({ reason: 'blocked-address', range: 'loopback' })
    expect(error.message).toBe(`fetch to ${server.origin} denied: the host is or resolves to a non-public address (loopback), and this origin is not granted` +
      ` private network access (to allow it, list ${server.origin} under privateOrigins in the component's fetch grant, besides origins)`)
    expectNoConnection()
  })

  it('refuses other schemes and credentials in the URL, without echoing the password', async () => {
    const fetcher = capability({ origins: [server.origin], privateOrigins: [server.origin] })
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'data:text/plain,hi', 'javascript:alert(1)']) {
      const error = await refusal(fetcher.fetch({ url }))
      expect([error.code, error.details.reason], url).toEqual(['ERR_CAPABILITY_DENIED', 'scheme'])
    }
    const error = await refusal(fetcher.fetch({ url: `http://user:hunter2@127.0.0.1:${server.port}/` }))
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.details).toMatchObject({ reason: 'credentials', origin: server.origin })
    expect(error.message).not.toContain('hunter2')
    expectNoConnection()
  })

  it('refuses methods outside GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', async () => {
    const fetcher = capability({ origins: [server.origin], privateOrigins: [server.origin] })
    for (const method of ['TRACE', 'CONNECT', 'TRACK', 'GET /x HTTP/1.1', '']) {
      const error = await refusal(fetcher.fetch({ url: server.origin, method }))
      expect([error.code, error.details.reason], method).toEqual(['ERR_CAPABILITY_DENIED', 'method-not-allowed'])
    }
    expectNoConnection()
  })
})

describe('IP-literal hosts', () => {
  // Each origin is allowlisted but not granted private access, so only the address policy can refuse it.
  it.each([
    ['127.0.0.1', 'loopback'],
    ['2130706433', 'loopback'], // decimal
    ['0x7f000001', 'loopback'], // hex
    ['0x7f.1', 'loopback'], // hex, short form
    ['127.1', 'loopback'], // short form
    ['0177.0.0.1', 'loopback'], // octal
    ['0.0.0.0', 'unspecified'], // connects to this host on Linux
    ['[::1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[64:ff9b::7f00:1]', 'loopback'],
    ['[2002:7f00:1::]', 'loopback'],
  ])('treats %s like its address and refuses it (%s)', async (host, range) => {
    const url = new URL(`http://${host}:${server.port}/secret`)
    const fetcher = capability({ origins: [url.origin] })
    const error = await refusal(fetcher.fetch({ url: `http://${host}:${server.port}/secret` }))
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.details).toMatchObject({ reason: 'blocked-address', range, origin: url.origin })
    expectNoConnection()
  })

  it('normalises the tricky IPv4 forms to 127.0.0.1 (WHATWG URL does it; this pins that we rely on it)', () => {
    for (const host of ['2130706433', '0x7f000001', '0x7f.1', '127.1', '0177.0.0.1']) {
      expect(new URL(`http://${host}:${server.port}/`).origin).toBe(server.origin)
    }
  })

  it.each([
    ['169.254.169.254', 'link-local'], ['10.0.0.1', 'private'], ['192.168.0.1', 'private'], ['100.64.0.1', 'shared'],
    ['[fd00::1]', 'unique-local'], ['[fe80::1]', 'link-local'], ['255.255.255.255', 'reserved'], ['224.0.0.1', 'multicast'],
  ])('refuses %s (%s) without trying to connect', async (host, range) => {
    const origin = `http://${host}`
    const error = await refusal(capability({ origins: [origin] }).fetch({ url: `${origin}/latest/meta-data/` }))
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.details).toMatchObject({ reason: 'blocked-address', range, origin })
    expectNoConnection()
  })
})

describe('resolved addresses (DNS)', () => {
  it('refuses a granted hostname that resolves to loopback', async () => {
    const origin = `http://api.test:${server.port}`
    const lookup = answering('127.0.0.1')
    const error = await refusal(capability({ origins: [origin] }, { lookup }).fetch({ url: `${origin}/x` }))
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.details).toMatchObject({ reason: 'blocked-address', range: 'loopback', origin })
    expect(error.message).not.toContain('127.0.0.1') // the internal address is not revealed to the guest
    expect(lookup.calls).toEqual(['api.test'])
    expect(server.connections).toBe(0)
  })

  it('refuses when any answer is private, even next to a public one', async () => {
    const origin = `http://api.test:${server.port}`
    const lookup = answering('93.184.215.14', '10.0.0.7')
    const error = await refusal(capability({ origins: [origin] }, { lookup }).fetch({ url: origin }))
    expect(error.details).toMatchObject({ reason: 'blocked-address', range: 'private' })
    expect(server.connections).toBe(0)
  })

  it.each([
    ['::ffff:127.0.0.1', 'loopback'], ['169.254.169.254', 'link-local'], ['::1', 'loopback'], ['fd00::1', 'unique-local'],
  ])('refuses an answer of %s (%s)', async (address, range) => {
    const origin = `http://api.test:${server.port}`
    const error = await refusal(capability({ origins: [origin] }, { lookup: answering(address) }).fetch({ url: origin }))
    expect([error.code, error.details.reason, error.details.range]).toEqual(['ERR_CAPABILITY_DENIED', 'blocked-address', range])
    expect(server.connections).toBe(0)
  })

  it('grants private access per origin, not per host: another port of the same host stays refused', async () => {
    const granted = `http://api.test:${server.port}`
    const other = `http://api.test:${server.port + 1 === 65536 ? 1 : server.port + 1}`
    const fetcher = capability({ origins: [granted, other], privateOrigins: [granted] }, { lookup: answering('127.0.0.1') })
    expect((await fetcher.fetch({ url: granted })).status).toBe(200)
    const error = await refusal(fetcher.fetch({ url: other }))
    expect(error.details).toMatchObject({ reason: 'blocked-address', origin: other })
  })
})
