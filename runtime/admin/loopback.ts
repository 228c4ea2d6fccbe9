// Whether a peer address is on this machine: the admin API answers only loopback until authentication exists.
import { BlockList, isIP } from 'node:net'

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (isIP(v4) === 4) return LOOPBACK.check(v4, 'ipv4')
  return isIP(address) === 6 && LOOPBACK.check(address, 'ipv6')
}
