// Which rate-limit bucket a client address falls in. One IPv6 user holds a whole prefix (a /64 at least: every host
// on a LAN picks addresses from it at will), so a bucket per IPv6 address would let one client mint fresh buckets; and
// one IPv4 client reads as `a.b.c.d` or `::ffff:a.b.c.d` depending on the listener and the proxy.
import { isIP } from 'node:net'

/**
 * `a.b.c.d` for IPv4 (IPv4-mapped IPv6 included, in any spelling), the first `prefix` bits of an IPv6 address as
 * `2001:db8:1:2::/64`; anything else (undefined, not an address) unchanged, so it still gets a bucket of its own.
 */
export function addressBucket(address: string | undefined, prefix: number): string {
  if (address === undefined) return ''
  if (isIP(address) !== 6) return address
  const groups = ipv6Groups(address)
  if (groups === undefined) return address
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.')
  }
  const kept = groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, prefix - i * 16))
    return bits === 16 ? g : g & ((0xffff << (16 - bits)) & 0xffff)
  })
  return `${kept.map((g) => g.toString(16)).join(':')}/${prefix}`
}

/** The eight 16-bit groups of an IPv6 address `isIP` accepted (`::` expanded, a trailing dotted quad, a zone dropped). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, '')
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)))
  const front = parse(head)
  const back = tail === undefined ? [] : parse(tail)
  const groups = tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back]
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}
