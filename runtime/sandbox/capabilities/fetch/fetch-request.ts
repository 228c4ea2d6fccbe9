// Turns a guest's fetch request DTO into a checked request: URL policy, method, sanitised headers, capped body.
import { denied, invalidRequest, tooLarge, type Hop } from './fetch-errors.ts'
import type { FetchGrantConfig } from './fetch-grant.ts'
import { checkTarget } from './fetch-policy.ts'

/** What crosses the sandbox boundary when a component calls `ctx.fetch(url, init)`. */
export interface FetchRequestDto {
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
}

export interface CheckedRequest {
  url: URL
  hop: Hop
  method: string
  /** Lower-cased names; a Map so no header name can collide with an object's prototype. */
  headers: Map<string, string>
  body: string | undefined
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

// Framing and connection headers are the host's business: a guest setting them could smuggle a second request or
// lie about the body. accept-encoding is dropped because bodies are not decompressed (and a zip bomb is not read).
const DROPPED = new Set([
  'host', 'connection', 'content-length', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'keep-alive', 'expect',
  'http2-settings', 'accept-encoding',
])

const MAX_URL_LENGTH = 8 * 1024
const MAX_HEADERS = 64
const MAX_HEADER_BYTES = 16 * 1024
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Node's own rule for header values: no control characters but tab (so no CR/LF injection), Latin-1 only.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/

export function checkRequest(request: FetchRequestDto, config: FetchGrantConfig): CheckedRequest {
  const unparsed: Hop = { origin: '(invalid URL)', redirect: 0 }
  if (request === null || typeof request !== 'object') throw invalidRequest(unparsed, 'invalid-request', 'the request must be an object')
  if (typeof request.url !== 'string') throw invalidRequest(unparsed, 'invalid-url', 'the URL must be a string')
  if (request.url.length > MAX_URL_LENGTH) throw tooLarge(unparsed, 'request-url', `the URL is longer than ${MAX_URL_LENGTH} characters`, MAX_URL_LENGTH)
  const url = URL.parse(request.url)
  if (url === null) throw invalidRequest(unparsed, 'invalid-url', 'the URL does not parse (it must be absolute)')
  const hop = checkTarget(url, config, 0)

  const method = typeof request.method === 'string' ? request.method.toUpperCase() : request.method === undefined ? 'GET' : ''
  if (!METHODS.has(method)) {
    throw denied(hop, 'method-not-allowed', `method must be one of ${[...METHODS].join(', ')}`,
      { method: typeof request.method === 'string' ? request.method.slice(0, 32) : typeof request.method })
  }
  const headers = checkHeaders(request.headers, hop)

  let body = request.body
  if (body !== undefined) {
    if (typeof body !== 'string') throw invalidRequest(hop, 'invalid-body', 'the body must be a string')
    if (method === 'GET' || method === 'HEAD') throw invalidRequest(hop, 'invalid-body', `a ${method} request cannot have a body`)
    const bytes = Buffer.byteLength(body)
    if (bytes > config.maxRequestBytes) {
      throw tooLarge(hop, 'request-body', `the request body is ${bytes} bytes, over the ${config.maxRequestBytes}-byte limit`, config.maxRequestBytes)
    }
    // What fetch() would send for a string body, so servers parse it the same way in and out of the sandbox.
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8')
  }
  return { url, hop, method, headers, body }
}

function checkHeaders(input: unknown, hop: Hop): Map<string, string> {
  const headers = new Map<string, string>()
  if (input === undefined) return headers
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidRequest(hop, 'invalid-header', 'headers must be an object of strings')
  }
  const entries = Object.entries(input)
  if (entries.length > MAX_HEADERS) {
    throw tooLarge(hop, 'request-headers', `more than ${MAX_HEADERS} request headers`, MAX_HEADERS)
  }
  let bytes = 0
  for (const [rawName, value] of entries) {
    if (!TOKEN.test(rawName)) throw invalidRequest(hop, 'invalid-header', `'${rawName.slice(0, 64)}' is not a valid header name`)
    if (typeof value !== 'string' || BAD_VALUE.test(value)) {
      throw invalidRequest(hop, 'invalid-header', `header '${rawName}' must be a string of Latin-1 characters without control characters`)
    }
    bytes += rawName.length + value.length
    if (bytes > MAX_HEADER_BYTES) {
      throw tooLarge(hop, 'request-headers', `request headers exceed ${MAX_HEADER_BYTES} bytes`, MAX_HEADER_BYTES)
    }
    const name = rawName.toLowerCase()
    if (DROPPED.has(name) || name.startsWith('proxy-')) continue
    const previous = headers.get(name)
    headers.set(name, previous === undefined ? value.trim() : `${previous}, ${value.trim()}`)
  }
  return headers
}
