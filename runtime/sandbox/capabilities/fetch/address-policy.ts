// Which IP addresses a sandboxed fetch may not reach unless its origin is granted private access.
import { BlockList, isIPv4, isIPv6 } from 'node:net'

type Family = 'ipv4' | 'ipv6'

/** One labelled range; the label becomes `details.range` of a refusal, so it names a kind, never a host. */
interface Range { label: string; list: BlockList }

function range(label: string, family: Family, subnets: Array<[string, number]>): Range {
  const list = new BlockList()
  for (const [network, prefix] of subnets) list.addSubnet(network, prefix, family)
  return { label, list }
}

// IANA special-purpose IPv4 registry, plus multicast and the reserved block. Anything here is refused.
const V4_RANGES: Range[] = [
  range('loopback', 'ipv4', [['127.0.0.0', 8]]),
  range('unspecified', 'ipv4', [['0.0.0.0', 8]]),
  range('private', 'ipv4', [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]]),
  range('shared', 'ipv4', [['100.64.0.0', 10]]), // carrier-grade NAT: often the provider's internal network
  range('link-local', 'ipv4', [['169.254.0.0', 16]]), // includes the cloud metadata address 169.254.169.254
  range('special-purpose', 'ipv4', [['192.0.0.0', 24], ['192.88.99.0', 24]]),
  range('documentation', 'ipv4', [['192.0.2.0', 24], ['198.51.100.0', 24], ['203.0.113.0', 24]]),
  range('benchmarking', 'ipv4', [['198.18.0.0', 15]]),
  range('multicast', 'ipv4', [['224.0.0.0', 4]]),
  range('reserved', 'ipv4', [['240.0.0.0', 4]]), // includes the broadcast address 255.255.255.255
]

// IPv6 ranges inside or around global unicast that are still not the public internet. Forms embedding an IPv4
// address are handled separately, before these, so that ::ffff:127.0.0.1 is judged as 127.0.0.1.
const V6_RANGES: Range[] = [
  range('unspecified', 'ipv6', [['::', 128]]),
  range('loopback', 'ipv6', [['::1', 128]]),
  range('ipv4-compatible', 'ipv6', [['::', 96]]), // deprecated ::a.b.c.d; nothing public lives there
  range('link-local', 'ipv6', [['fe80::', 10]]),
  range('site-local', 'ipv6', [['fec0::', 10]]),
  range('unique-local', 'ipv6', [['fc00::', 7]]),
  range('multicast', 'ipv6', [['ff00::', 8]]),
  range('nat64-local', 'ipv6', [['64:ff9b:1::', 48]]), // local-use NAT64: translates to the operator's own network
  range('discard', 'ipv6', [['100::', 64]]),
  range('special-purpose', 'ipv6', [['2001::', 23]]), // Teredo, ORCHID, AMT and other protocol assignments
  range('documentation', 'ipv6', [['2001:db8::', 32], ['3fff::', 20]]),
  range('special-purpose', 'ipv6', [['5f00::', 16]]), // SRv6 segment identifiers
]

// Everything public in IPv6 is inside 2000::/3; the rest is refused (fail closed) unless it embeds a public IPv4.
const GLOBAL_UNICAST = range('global', 'ipv6', [['2000::', 3]])

/** The IPv6 prefixes that carry an IPv4 address, and which 16-bit words hold it. */
const EMBEDDING: Array<{ prefix: Range; words: [number, number] }> = [
  { prefix: range('ipv4-mapped', 'ipv6', [['::ffff:0:0', 96]]), words: [6, 7] },
  { prefix: range('ipv4-translated', 'ipv6', [['::ffff:0:0:0', 96]]), words: [6, 7] },
  { prefix: range('nat64', 'ipv6', [['64:ff9b::', 96]]), words: [6, 7] },
  { prefix: range('6to4', 'ipv6', [['2002::', 16]]), words: [1, 2] },
]

/**
 * The kind of blocked range `address` falls in ('loopback', 'private', 'link-local', …), or undefined when it is a
 * public address. Anything that is not a valid IP address is reported as 'invalid': callers fail closed.
 */
export function blockedRangeOf(address: string): string | undefined {
  // A zone (fe80::1%eth0) only scopes a link-local address; judge the address itself.
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  const ip = bare.split('%')[0]!
  if (isIPv4(ip)) return V4_RANGES.find((r) => r.list.check(ip, 'ipv4'))?.label
  if (!isIPv6(ip)) return 'invalid'
  for (const { prefix, words } of EMBEDDING) {
    if (!prefix.list.check(ip, 'ipv6')) continue
    const w = ipv6Words(ip)
    const v4 = `${w[words[0]]! >> 8}.${w[words[0]]! & 0xff}.${w[words[1]]! >> 8}.${w[words[1]]! & 0xff}`
    return blockedRangeOf(v4)
  }
  const hit = V6_RANGES.find((r) => r.list.check(ip, 'ipv6'))
  if (hit) return hit.label
  return GLOBAL_UNICAST.list.check(ip, 'ipv6') ? undefined : 'reserved'
}

/**
 * Whether `origin` names a non-public address outright (an IP literal in a blocked range, or localhost): an origin
 * that can only work when also granted in privateOrigins. Hostnames are judged by their DNS answers at fetch time.
 */
export function namesNonPublicAddress(origin: string): boolean {
  let host: string
  try {
    host = new URL(origin).hostname
  } catch {
    return false
  }
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true
  return (isIPv4(bare) || isIPv6(bare)) && blockedRangeOf(bare) !== undefined
}

/** The eight 16-bit words of a valid IPv6 address (already checked with isIPv6). */
function ipv6Words(ip: string): number[] {
  let text = ip
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  if (tail.includes('.')) {
    // A dotted IPv4 tail (::ffff:127.0.0.1) is two words.
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, rest] = text.split('::') as [string, string | undefined]
  const headWords = head === '' ? [] : head.split(':')
  const restWords = rest === undefined || rest === '' ? [] : rest.split(':')
  const zeros = new Array<string>(8 - headWords.length - restWords.length).fill('0')
  return [...headWords, ...zeros, ...restWords].map((word) => Number.parseInt(word, 16))
}

/** A connection refused by the address policy; fetch.ts turns it into ERR_CAPABILITY_DENIED naming the hop. */
export class BlockedAddressError extends Error {
  readonly range: string
  constructor(range: string) {
    super(`connection to a ${range} address refused`)
    this.name = 'BlockedAddressError'
    this.range = range
  }
}
