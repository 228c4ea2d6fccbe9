// Request body parsing with a size limit: JSON, text and url-encoded forms; anything else is a clear 415.
import type { IncomingMessage } from 'node:http'
import { HttpError } from './errors.ts'
import { jsonNestsDeeper } from '../core/json-depth.ts'

/**
 * How deep a JSON body may nest. Every consumer of the value recurses over it (validation, expressions, the JSON
 * answer that echoes it), and a 1 MB body can nest 500,000 levels: past a few thousand they overflow the stack.
 */
export const MAX_JSON_DEPTH = 256

/** Whether a request carries a body at all (GET with no length has none). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

interface MediaType {
  type: string
  isJson: boolean
  isForm: boolean
  charset: string
}

/** The last Content-Type header seen, parsed: clients send the same one request after request. */
let lastHeader: string | undefined
let lastMedia: MediaType | undefined

function mediaTypeOf(header: string): MediaType {
  if (header === lastHeader) return lastMedia!
  const type = header.split(';', 1)[0]!.trim().toLowerCase()
  const media = {
    type,
    isJson: type === 'application/json' || type.endsWith('+json'),
    isForm: type === 'application/x-www-form-urlencoded',
    charset: /charset\s*=\s*"?([\w-]+)/i.exec(header)?.[1] ?? 'utf-8',
  }
  lastHeader = header
  lastMedia = media
  return media
}

/**
 * The request's body, parsed by its media type: undefined at once when it has none (no promise to wait on), else one
 * promise for the value.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<unknown> | undefined {
  if (!hasBody(req)) return undefined
  const { type, isJson, isForm, charset } = mediaTypeOf(req.headers['content-type'] ?? '')
  if (!isJson && !isForm && !type.startsWith('text/')) {
    return Promise.reject(new HttpError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      type ? `content type '${type}' is not accepted; send application/json, text/* or a url-encoded form`
        : 'the request has a body but no Content-Type; send Content-Type: application/json'))
  }
  return readText(req, limit, charset, isJson ? parseJson : isForm ? parseForm : asText)
}

function parseJson(text: string): unknown {
  // Nesting deeper than the limit takes more opening brackets than a shorter text holds.
  if (text.length > MAX_JSON_DEPTH && jsonNestsDeeper(text, MAX_JSON_DEPTH)) {
    throw new HttpError('ERR_HTTP_BODY_TOO_DEEP', `the JSON body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, { maxDepth: MAX_JSON_DEPTH })
  }
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HttpError('ERR_HTTP_BAD_JSON', `the request body is not valid JSON: ${(error as Error).message}`)
  }
}

function parseForm(text: string): Record<string, string> {
  // A null-prototype object: form field names like __proto__ stay plain data.
  const form: Record<string, string> = Object.create(null)
  for (const [k, v] of new URLSearchParams(text)) form[k] = v
  return form
}

const asText = (text: string): string => text

/** One decoder per charset (by lower-cased label: a bounded set), made on first use; an unknown label is not kept. */
type Decoder = InstanceType<typeof TextDecoder>
const decoders = new Map<string, Decoder>()

function decoderFor(charset: string): Decoder {
  const label = charset.toLowerCase()
  let decoder = decoders.get(label)
  if (decoder) return decoder
  try {
    decoder = new TextDecoder(label)
  } catch {
    throw new HttpError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', `charset '${charset}' is not supported; send utf-8`)
  }
  decoders.set(label, decoder)
  return decoder
}

const unreadable = (why: string) => new HttpError('ERR_HTTP_BAD_BODY', `the request body could not be read: ${why}`)
const tooLarge = (limit: number) => new HttpError('ERR_HTTP_BODY_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`, { limit })

/**
 * The body as text, handed to `parse`: its bytes collected up to `limit` (readBytes), then decoded in one go (a
 * leading BOM dropped, malformed bytes as U+FFFD).
 */
function readText(req: IncomingMessage, limit: number, charset: string, parse: (text: string) => unknown): Promise<unknown> {
  let decoder: Decoder
  try {
    decoder = decoderFor(charset)
  } catch (error) {
    req.pause()
    // Too large is said first, as before the charset is looked at.
    const length = declaredLength(req)
    return Promise.reject(length !== null && length > limit ? tooLarge(limit) : error)
  }
  return readBytes(req, limit).then((bytes) => {
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch (failure) {
      throw unreadable((failure as Error).message)
    }
    return parse(text)
  })
}

/**
 * The body's bytes, collected up to `limit` (413 past it, and at once when Content-Length says so). A body that ends
 * short of or past its Content-Length, or whose connection is lost, is a 400.
 */
export function readBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  const length = declaredLength(req)
  if (length !== null && length > limit) {
    req.pause()
    return Promise.reject(tooLarge(limit))
  }
  if (!req.readable) return Promise.reject(unreadable('stream is not readable'))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let received = 0
    const cleanup = () => {
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.removeListener('error', onEnd)
      req.removeListener('aborted', onAborted)
      req.removeListener('close', onAborted)
    }
    const fail = (error: HttpError) => {
      cleanup()
      req.pause()
      reject(error)
    }
    function onData(chunk: Buffer): void {
      received += chunk.length
      if (received > limit) fail(tooLarge(limit))
      else if (length !== null && received > length) fail(unreadable('request size did not match content length'))
      else chunks.push(chunk)
    }
    function onEnd(error?: Error): void {
      if (error) return fail(unreadable(error.message))
      if (length !== null && received !== length) return fail(unreadable('request size did not match content length'))
      cleanup()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received))
    }
    // The connection went before the body was complete ('aborted', or a close without one).
    function onAborted(): void {
      fail(unreadable('request aborted'))
    }
    req.on('aborted', onAborted)
    req.on('close', onAborted)
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onEnd)
  })
}

function declaredLength(req: IncomingMessage): number | null {
  const declared = req.headers['content-length']
  const parsed = declared !== undefined && !Number.isNaN(Number(declared)) ? parseInt(declared, 10) : NaN
  return Number.isNaN(parsed) ? null : parsed
}
