// The undici Agent behind one component's fetch: each connection is checked on the address it actually uses.
import { lookup as dnsLookup } from 'node:dns'
import { isIPv6, type LookupFunction, type Socket } from 'node:net'
import { Agent, buildConnector } from 'undici'
import { BlockedAddressError, blockedRangeOf } from './address-policy.ts'
import type { FetchGrantConfig } from './fetch-grant.ts'

/** The pool of one fetch grant: its private origins skip the address checks (see createGuardedAgent). */
export function createPinnedAgent(config: FetchGrantConfig, lookup: LookupFunction = dnsLookup as LookupFunction): Agent {
  return createGuardedAgent({ timeoutMs: config.timeoutMs, isPrivate: (origin) => config.privateOrigins.has(origin) }, lookup)
}

export interface GuardOptions {
  /** Connect, headers and body timeout of the pool (a call's own deadline is its abort signal). */
  timeoutMs: number
  /** Whether connections to this origin (serialised like URL.origin) skip the address checks. */
  isPrivate(origin: string): boolean
}

/**
 * An Agent whose connector validates addresses as it connects. The lookup it hands to `net.connect` checks every
 * DNS answer and returns only checked ones, so the address connected to is the address checked: no second lookup
 * an attacker's DNS could answer differently (rebinding). After connecting, the peer address is checked again,
 * which also covers IP-literal hosts, where Node skips the lookup. Origins `isPrivate` accepts skip both checks.
 * One grant's pool (createPinnedAgent), or the engine's outbound service's two (runtime/outbound).
 */
export function createGuardedAgent(options: GuardOptions, lookup: LookupFunction = dnsLookup as LookupFunction): Agent {
  const strict = buildConnector({ lookup: checkedLookup(lookup), timeout: options.timeoutMs })
  const open = buildConnector({ lookup, timeout: options.timeoutMs })
  const connect: buildConnector.connector = (connectOptions, callback) => {
    const isPrivate = options.isPrivate(originOf(connectOptions))
    const connector = isPrivate ? open : strict
    connector(connectOptions, (error: Error | null, socket: Socket | null) => {
      if (error !== null || socket === null) {
        callback(error ?? new Error('connection failed'), null)
        return
      }
      const range = isPrivate ? undefined : blockedRangeOf(socket.remoteAddress ?? '')
      if (range !== undefined) {
        socket.destroy()
        callback(new BlockedAddressError(range), null)
        return
      }
      callback(null, socket)
    })
  }
  return new Agent({ connect, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs })
}

/** Resolves every address (`all: true`) and refuses if any one is blocked, then answers in the shape asked for. */
function checkedLookup(lookup: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, answer, family) => {
      if (error) {
        callback(error, [])
        return
      }
      const addresses = typeof answer === 'string' ? [{ address: answer, family: family ?? (isIPv6(answer) ? 6 : 4) }] : answer
      if (addresses.length === 0) {
        callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), [])
        return
      }
      // One blocked answer refuses them all: a public answer next to a private one is how rebinding gets in.
      for (const { address } of addresses) {
        const range = blockedRangeOf(address)
        if (range !== undefined) {
          callback(new BlockedAddressError(range), [])
          return
        }
      }
      if (options.all) callback(null, addresses)
      else callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}

/** The origin a connection is for, serialised like `URL.origin`, to look up the private grant. */
function originOf(options: buildConnector.Options): string {
  const host = options.host ?? (isIPv6(options.hostname) ? `[${options.hostname}]:${options.port}` : `${options.hostname}:${options.port}`)
  try {
    return new URL(`${options.protocol}//${host}`).origin
  } catch {
    return 'null' // never granted: the strict connector handles it
  }
}
