// The worker-side half of the web globals: what guest code asks synchronously of its sandbox worker (never of the
// engine) through the bootstrap's workerCall: URL parsing (Node's WHATWG parser), randomness, hashing and HMAC.
// Every argument is checked again here (type and cap): the isolate already refused oversized ones before copying,
// but it is guest code's side of the wall. The worker (worker.ts) counts the calls per invocation and charges their
// time to the invocation's CPU budget: isolated-vm neither counts a host callback as the isolate's CPU time nor
// interrupts one on timeout.
import { createHash, createHmac, randomFillSync } from 'node:crypto'

const MiB = 1024 * 1024

/** Per-call caps (checked in the isolate before anything is copied, and again here) and the per-invocation count. */
export const GLOBAL_LIMITS = Object.freeze({
  /** Characters of a URL (or base) given to URL, URL.parse/canParse or a URL setter. */
  urlChars: 1 * MiB,
  /** Bytes of data one crypto.subtle digest/sign/verify call hashes. */
  digestBytes: 16 * MiB,
  /** Bytes of an HMAC key. */
  keyBytes: 64 * 1024,
  /** Bytes one crypto.getRandomValues call fills (the Web Crypto quota). */
  randomBytes: 65_536,
  /** Worker-side calls (URL parses and setters, randomness refills, digests, HMACs) one invocation may make. */
  callsPerInvocation: 10_000,
})

const HASHES: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }
const URL_SETTERS = new Set(['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'])

const ok = (payload: string): string => `1${payload}`
const refuse = (name: string, message: string): string => `0${name}\n${message}`

/** The components the guest's URL keeps, in this order (url.ts reads them by position). */
function components(url: URL): string {
  return JSON.stringify([url.href, url.origin, url.protocol, url.username, url.password, url.host, url.hostname, url.port,
    url.pathname, url.search, url.hash])
}

const isUrlText = (value: unknown): value is string => typeof value === 'string' && value.length <= GLOBAL_LIMITS.urlChars
const isBytes = (value: unknown, cap: number): value is ArrayBuffer => value instanceof ArrayBuffer && value.byteLength <= cap

/** Runs one call: '1' + payload, or '0' + error name + '\n' + message (the guest throws it as that error). */
export function runGlobalCall(op: unknown, a: unknown, b: unknown, c: unknown): string {
  switch (op) {
    case 'url': {
      if (!isUrlText(a) || (b !== undefined && !isUrlText(b))) return refuse('TypeError', 'URL: input over the cap')
      const url = URL.parse(a, b as string | undefined)
      return url === null ? refuse('TypeError', 'Invalid URL') : ok(components(url))
    }
    case 'url-set': {
      if (!isUrlText(a) || typeof b !== 'string' || !URL_SETTERS.has(b) || !isUrlText(c)) return refuse('TypeError', 'URL: bad setter call')
      const url = URL.parse(a)
      if (url === null) return refuse('TypeError', 'Invalid URL')
      try {
        ;(url as unknown as Record<string, string>)[b] = c
      } catch {
        return refuse('TypeError', `Invalid URL: '${c.slice(0, 100)}'`)
      }
      return ok(components(url))
    }
    case 'random': {
      if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > GLOBAL_LIMITS.randomBytes) return refuse('TypeError', 'random: bad length')
      return ok(randomFillSync(Buffer.allocUnsafe(a)).toString('latin1'))
    }
    case 'digest': {
      const hash = typeof a === 'string' ? HASHES[a] : undefined
      if (hash === undefined || !Object.hasOwn(HASHES, a as string)) return refuse('NotSupportedError', 'Unrecognized algorithm name')
      if (!isBytes(b, GLOBAL_LIMITS.digestBytes)) return refuse('TypeError', 'digest: data over the cap')
      return ok(createHash(hash).update(new Uint8Array(b)).digest().toString('latin1'))
    }
    case 'hmac': {
      const hash = typeof a === 'string' && Object.hasOwn(HASHES, a) ? HASHES[a] : undefined
      if (hash === undefined) return refuse('NotSupportedError', 'Unrecognized algorithm name')
      if (!isBytes(b, GLOBAL_LIMITS.keyBytes) || !isBytes(c, GLOBAL_LIMITS.digestBytes)) return refuse('TypeError', 'HMAC: key or data over the cap')
      return ok(createHmac(hash, new Uint8Array(b)).update(new Uint8Array(c)).digest().toString('latin1'))
    }
    default:
      return refuse('TypeError', 'unknown sandbox call')
  }
}
