// Unit tests of the address policy: every blocked family, the public neighbours of each range, and embedded IPv4.
import { describe, expect, it } from 'vitest'
import { blockedRangeOf } from './address-policy.ts'

describe('blockedRangeOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'], ['100.127.255.255', 'shared'],
    ['169.254.169.254', 'link-local'], ['169.254.0.1', 'link-local'],
    ['192.0.0.8', 'special-purpose'], ['198.18.0.1', 'benchmarking'], ['198.19.255.255', 'benchmarking'],
    ['192.0.2.1', 'documentation'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'], ['255.255.255.255', 'reserved'],
  ])('refuses IPv4 %s as %s', (address, range) => {
    expect(blockedRangeOf(address)).toBe(range)
  })

  it.each([
    '8.8.8.8', '1.1.1.1', '11.0.0.0', '172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0',
    '169.253.255.255', '192.169.0.1', '198.17.255.255', '198.20.0.0', '223.255.255.255',
  ])('allows public IPv4 %s', (address) => {
    expect(blockedRangeOf(address)).toBeUndefined()
  })

  it.each([
    ['::1', 'loopback'], ['[::1]', 'loopback'], ['::', 'unspecified'],
    ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'], ['febf::1', 'link-local'], ['fec0::1', 'site-local'],
    ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'], ['::127.0.0.1', 'ipv4-compatible'], ['64:ff9b:1::1', 'nat64-local'], ['100::1', 'discard'],
    ['2001::1', 'special-purpose'], ['2001:db8::1', 'documentation'], ['4000::1', 'reserved'], ['::2', 'ipv4-compatible'],
  ])('refuses IPv6 %s as %s', (address, range) => {
    expect(blockedRangeOf(address)).toBe(range)
  })

  it.each([
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::FFFF:7F00:0001', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'], ['::ffff:a00:1', 'private'], ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:0:7f00:1', 'loopback'], // IPv4-translated (SIIT)
    ['64:ff9b::7f00:1', 'loopback'], ['64:ff9b::10.0.0.1', 'private'], ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::1', 'loopback'], ['2002:a9fe:a9fe::', 'link-local'], ['2002:c0a8:101::1', 'private'],
  ])('judges IPv6 %s by its embedded IPv4 (%s)', (address, range) => {
    expect(blockedRangeOf(address)).toBe(range)
  })

  it.each([
    '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::808:808', '2002:808:808::1',
  ])('allows public IPv6 %s', (address) => {
    expect(blockedRangeOf(address)).toBeUndefined()
  })

  it.each(['', 'localhost', '1.2.3', '127.0.0.1.', '::ffff:127.0.0.256', 'fe80::1::1'])('fails closed on %j', (address) => {
    expect(blockedRangeOf(address)).toBe('invalid')
  })
})
