// The admin API's gate: loopback peers only, in every form Node reports them.
import { describe, expect, it } from 'vitest'
import { isLoopback } from './loopback.ts'

describe('isLoopback', () => {
  it('accepts IPv4 loopback, IPv6 loopback and IPv4-mapped loopback', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true)
  })
  it('refuses everything else, including private and link-local addresses', () => {
    for (const a of ['10.0.0.1', '192.168.1.2', '169.254.169.254', '::ffff:10.0.0.1', 'fe80::1', '::', '0.0.0.0', '', undefined, 'localhost']) {
      expect(isLoopback(a)).toBe(false)
    }
  })
})
