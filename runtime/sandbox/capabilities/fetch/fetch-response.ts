// Turns an undici response into what a guest may see: plain string headers and a size-capped UTF-8 body.
import type { Readable } from 'node:stream'
import type { IncomingHttpHeaders } from 'node:http'
import { tooLarge, type Hop } from './fetch-errors.ts'

/** What crosses back into the sandbox. */
export interface FetchResponseDto {
  status: number
  /** The final URL, after redirects, without its fragment. */
  url: string
  /** Lower-cased names, string values (repeated headers joined with ', '), no set-cookie. */
  headers: Record<string, string>
  body: string
}

// Cookies a server sets are not the guest's to keep or replay elsewhere; the jar stays empty on purpose.
const HIDDEN = new Set(['set-cookie', 'set-cookie2'])

/**
 * Copies headers into a fresh plain object. Names come from the remote server, so each is defined as an own data
 * property (never assigned, which for '__proto__' would reach the prototype), and '__proto__' itself is dropped so
 * that later code copying the object with plain assignment cannot trip over it either.
 */
export function copyResponseHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const copy: Record<string, string> = {}
  for (const rawName of Object.keys(headers)) {
    const name = rawName.toLowerCase()
    const value = headers[rawName]
    if (HIDDEN.has(name) || name === '__proto__' || value === undefined) continue
    const text = Array.isArray(value) ? value.join(', ') : String(value)
    const previous = Object.hasOwn(copy, name) ? copy[name] : undefined
    Object.defineProperty(copy, name, {
      value: previous === undefined ? text : `${previous}, ${text}`,
      enumerable: true, writable: true, configurable: true,
    })
  }
  return copy
}

/**
 * Reads at most `limit` bytes and decodes them as UTF-8. A larger body is refused as soon as it is known to be
 * too large (from `declaredLength`, the content-length of a response that has a body, or while streaming) and the
 * rest is never read: the stream is destroyed.
 */
export async function readCappedText(body: Readable, declaredLength: string | undefined, limit: number, hop: Hop): Promise<string> {
  const declared = Number(declaredLength)
  if (declaredLength !== undefined && Number.isFinite(declared) && declared > limit) {
    discard(body)
    throw tooLarge(hop, 'response-body', `the response body is ${declared} bytes, over the ${limit}-byte limit`, limit)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      discard(body)
      throw tooLarge(hop, 'response-body', `the response body is over the ${limit}-byte limit`, limit)
    }
    chunks.push(chunk)
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks, size))
}

/** Drops the rest of a body; undici reports the destroy as an AbortError that nobody is left to handle. */
function discard(body: Readable): void {
  body.on('error', () => {})
  body.destroy()
}
