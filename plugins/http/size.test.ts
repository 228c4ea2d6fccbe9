// Sizes as people write them in config.
import { describe, expect, it } from 'vitest'
import { parseSize } from './size.ts'

describe('parseSize', () => {
  it('reads integers and unit strings', () => {
    expect(parseSize(512)).toBe(512)
    expect(parseSize('64kb')).toBe(65_536)
    expect(parseSize('1.5 MB')).toBe(1_572_864)
    expect(parseSize('10b')).toBe(10)
  })
  it('rejects anything else with the accepted forms', () => {
    expect(() => parseSize('lots')).toThrow(/write e.g. 512kb or 1mb/)
  })
})
