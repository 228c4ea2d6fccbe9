// The parts of the HTTP guards that depend on time or on header contents, driven directly: the rate limit's token
// buckets on a clock the test moves by hand, and the client address trustProxy derives from X-Forwarded-For.
import { describe, expect, it } from 'vitest'
import { TokenBuckets } from '../plugins/http/rate-limit.ts'
import { clientAddressOf } from '../plugins/http/client-address.ts'

function clocked(options: { ratePerSecond: number; burst: number; maxKeys?: number }) {
  let now = 1_000
  const buckets = new TokenBuckets({ maxKeys: 10_000, ...options, now: () => now })
  return { buckets, advance: (ms: number) => { now += ms } }
}

describe('token buckets', () => {
  it('allow a burst, then one request per 1/rate seconds; Retry-After is the wait for one token, rounded up', () => {
    const { buckets, advance } = clocked({ ratePerSecond: 2, burst: 3 })
    expect([1, 2, 3].map(() => buckets.take('a').allowed)).toEqual([true, true, true])
    expect(buckets.take('a')).toEqual({ allowed: false, remaining: 0, retryAfter: 1, reset: 2 })
    advance(499)
    expect(buckets.take('a').allowed).toBe(false)
    advance(1)
    expect(buckets.take('a')).toMatchObject({ allowed: true, remaining: 0 })
  })

  it('round Retry-After up to whole seconds and never below 1', () => {
    const { buckets, advance } = clocked({ ratePerSecond: 0.4, burst: 1 })
    buckets.take('a')
    // 2.5 s per token → 3
    expect(buckets.take('a')).toMatchObject({ allowed: false, retryAfter: 3 })
    advance(2_000)
    // 0.5 s left → 1
    expect(buckets.take('a')).toMatchObject({ allowed: false, retryAfter: 1 })
  })

  it('refill up to the burst, not beyond it, however long a caller was idle', () => {
    const { buckets, advance } = clocked({ ratePerSecond: 10, burst: 2 })
    buckets.take('a')
    advance(3_600_000)
    expect([1, 2, 3].map(() => buckets.take('a').allowed)).toEqual([true, true, false])
  })

  it('keep one bucket per key', () => {
    const { buckets } = clocked({ ratePerSecond: 1, burst: 1 })
    expect(buckets.take('a').allowed).toBe(true)
    expect(buckets.take('a').allowed).toBe(false)
    expect(buckets.take('b').allowed).toBe(true)
  })

  it('hold at most maxKeys buckets, dropping the least recently used', () => {
    const { buckets } = clocked({ ratePerSecond: 1, burst: 1, maxKeys: 3 })
    for (const key of ['a', 'b', 'c']) buckets.take(key)
    buckets.take('a') // a is now the most recently used; b the least
    buckets.take('d')
    expect(buckets.size).toBe(3)
    // a and c kept their empty buckets; b was dropped and starts full.
    expect(buckets.take('a').allowed).toBe(false)
    expect(buckets.take('c').allowed).toBe(false)
    expect(buckets.take('b').allowed).toBe(true)
    for (let i = 0; i < 100_000; i++) buckets.take(`k${i}`)
    expect(buckets.size).toBe(3)
  })
})

describe('client address (trustProxy)', () => {
  it('is the socket peer with trustProxy 0, whatever X-Forwarded-For says', () => {
    expect(clientAddressOf('127.0.0.1', '203.0.113.7', 0)).toBe('127.0.0.1')
  })

  it('is the n-th X-Forwarded-For entry from the right with trustProxy n', () => {
    const header = '198.51.100.1, 203.0.113.7 ,10.0.0.2'
    expect(clientAddressOf('127.0.0.1', header, 1)).toBe('10.0.0.2')
    expect(clientAddressOf('127.0.0.1', header, 2)).toBe('203.0.113.7')
    expect(clientAddressOf('127.0.0.1', header, 3)).toBe('198.51.100.1')
    // Several header lines count as one list.
    expect(clientAddressOf('127.0.0.1', ['198.51.100.1', '203.0.113.7'], 2)).toBe('198.51.100.1')
  })

  it('is the peer when the header is missing or shorter than the trusted hops', () => {
    expect(clientAddressOf('127.0.0.1', undefined, 1)).toBe('127.0.0.1')
    expect(clientAddressOf('127.0.0.1', '203.0.113.7', 2)).toBe('127.0.0.1')
  })

  it('drops a port, reads bracketed IPv6, and is undefined for an entry that is not an address', () => {
    expect(clientAddressOf('::1', '203.0.113.7:4711', 1)).toBe('203.0.113.7')
    expect(clientAddressOf('::1', '[2001:db8::1]:4711', 1)).toBe('2001:db8::1')
    expect(clientAddressOf('::1', '2001:db8::1', 1)).toBe('2001:db8::1')
    for (const junk of ['unknown', '', 'localhost', '1.2.3', '[1.2.3.4]']) expect(clientAddressOf('::1', junk, 1)).toBeUndefined()
  })
})
