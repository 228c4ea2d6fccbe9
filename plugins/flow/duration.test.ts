import { describe, expect, it } from 'vitest'
import { toMs } from './duration.ts'
import { backoffMs } from './retry.ts'

describe('durations', () => {
  it('reads milliseconds and text with a unit', () => {
    expect([250, '250ms', '2s', '1.5m', ' 1h '].map((v) => toMs(v, 'd'))).toEqual([250, 250, 2000, 90_000, 3_600_000])
  })

  it('refuses anything else, and more than 24h, naming the setting', () => {
    for (const bad of ['2 days', '-1s', -5, '25h', null, 'soon']) {
      expect(() => toMs(bad, "delay step 'wait' duration")).toThrow(expect.objectContaining({ code: 'ERR_FLOW_DURATION' }))
    }
    expect(() => toMs('soon', "delay step 'wait' duration")).toThrow(`delay step 'wait' duration must be milliseconds or text such as 250ms, 2s, 1m, 1h, at most 24h; got "soon"`)
  })
})

describe('retry backoff', () => {
  it('grows by the factor up to the cap, and jitter only ever shortens a wait', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, 100, 2, 500, 0))).toEqual([100, 200, 400, 500, 500])
    expect(backoffMs(3, 100, 2, 10_000, 0.5, () => 1)).toBe(200)
    expect(backoffMs(3, 100, 2, 10_000, 0.5, () => 0)).toBe(400)
  })
})
