// The checks every hop of a fetch passes before a connection is even attempted: scheme, credentials, allowlist, literal IP.
import { isIP } from 'node:net'
import type { IsletError } from '../../../errors.ts'
import { blockedRangeOf } from './address-policy.ts'
import { denied, type Hop } from './fetch-errors.ts'
import type { FetchGrantConfig } from './fetch-grant.ts'

/**
 * Refuses `url` unless it is http(s), carries no credentials, has an allowlisted origin and, when its host is an IP
 * literal, that address is public or the origin is granted private access. Hostnames are checked later, on the
 * address actually connected to (see fetch-connector.ts), so a DNS answer cannot change between check and use.
 */
export function checkTarget(url: URL, config: FetchGrantConfig, redirect: number): Hop {
  // WHATWG URL has already normalised the host: 0x7f.1, 2130706433 and 127.1 all arrive here as 127.0.0.1.
  const hop: Hop = { origin: url.origin === 'null' ? url.protocol : url.origin, redirect }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw denied(hop, 'scheme', `only http: and https: URLs may be fetched, not ${url.protocol}`, { scheme: url.protocol })
  }
  if (url.username !== '' || url.password !== '') {
    throw denied(hop, 'credentials', 'URLs must not carry credentials (user:password@); send an authorization header')
  }
  if (!config.origins.has(url.origin)) {
    throw denied(hop, 'origin-not-allowed', 'this origin is not in the fetch grant')
  }
  const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  if (isIP(literal) !== 0 && !config.privateOrigins.has(url.origin)) {
    const range = blockedRangeOf(literal)
    if (range !== undefined) throw addressDenied(hop, range)
  }
  return hop
}

export function addressDenied(hop: Hop, range: string): IsletError {
  return denied(hop, 'blocked-address',
    // The one denial an app author meets when a component talks to a service of their own (on loopback, on the LAN):
    // say which grant opens it. The origin is the component's own request, so naming it tells untrusted code nothing.
    `the host is or resolves to a non-public address (${range}), and this origin is not granted private network access` +
      ` (to allow it, list ${hop.origin} under privateOrigins in the component's fetch grant, besides origins)`,
    { range })
}
