// Who the client is, as http.server `trustProxy` says to believe it: the socket's peer, or the address the trusted
// proxies in front report in X-Forwarded-For. Rate limits, access logs and the admin API key on it.
import { isIP } from 'node:net'

/**
 * With `hops` 0 the peer, whatever the headers say: anyone can send X-Forwarded-For. With n > 0, n proxies stand in
 * front and each appends the address it received the request from, so the n-th entry from the right is what the
 * outermost trusted proxy saw; entries further left are the client's own claims. A header with fewer entries than
 * that means the request did not pass every trusted proxy: the peer. An entry that is not an IP address (a proxy
 * that writes something else) gives undefined, never a guess.
 */
export function clientAddressOf(peer: string | undefined, forwardedFor: string | string[] | undefined, hops: number): string | undefined {
  if (hops === 0 || forwardedFor === undefined) return peer
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',')
  if (entries.length < hops) return peer
  return address(entries[entries.length - hops]!.trim())
}

/** `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678` → the address alone; anything else → undefined. */
function address(entry: string): string | undefined {
  if (isIP(entry)) return entry
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(entry)
  if (bracketed) return isIP(bracketed[1]!) === 6 ? bracketed[1] : undefined
  const v4 = /^([\d.]+):\d{1,5}$/.exec(entry)
  return v4 && isIP(v4[1]!) === 4 ? v4[1] : undefined
}
