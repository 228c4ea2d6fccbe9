// http.request's waits between attempts: the server's Retry-After read in both its forms, backoff that grows and
// stays within its bounds, and a wait a cancelled run cuts short.
import { describe, expect, it } from 'vitest'
import { backoffMs, retryAfterMs, sleep } from '../plugins/http/request-step-retry.ts'

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP-dates, and ignores what is neither', () => {
    const now = Date.parse('2026-12-03T00:00:00Z')
    expect(retryAfterMs('3', now)).toBe(3000)
    expect(retryAfterMs(' 0 ', now)).toBe(0)
    expect(retryAfterMs('Thu, 03 Dec 2026 00:00:05 GMT', now)).toBe(5000)
    expect(retryAfterMs('Wed, 02 Dec 2026 23:59:00 GMT', now)).toBe(0) // already past: try now
    expect(retryAfterMs('soon', now)).toBeUndefined()
    expect(retryAfterMs('-1', now)).toBeUndefined()
    expect(retryAfterMs(undefined, now)).toBeUndefined()
  })
})

describe('backoff', () => {
  it('doubles per retry up to the cap, between half and all of it (jitter)', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 100, 1000, () => 1))).toEqual([100, 200, 400, 800])
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 100, 1000, () => 0))).toEqual([50, 100, 200, 400])
    expect(backoffMs(10, 100, 1000, () => 1)).toBe(1000)
  })
})

describe('the wait', () => {
  it('ends with the run: an abort rejects it with the signal reason', async () => {
    const controller = new AbortController()
    const reason = new Error('run cancelled')
    const waiting = sleep(600_000, controller.signal)
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
    await expect(sleep(1, controller.signal)).rejects.toBe(reason)
  })
})
