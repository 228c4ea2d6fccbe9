// Request body parsing with a size limit: JSON, text and url-encoded forms; anything else is a clear 415.
import type { IncomingMessage } from 'node:http'
import type getRawBodyType from 'raw-body'
import { HttpError } from './errors.ts'
import { jsonNestsDeeper } from '../core/json-depth.ts'

/**
 * How deep a JSON body may nest. Every consumer of the value recurses over it (validation, expressions, the JSON
 * answer that echoes it), and a 1 MB body can nest 500,000 levels: past a few thousand they overflow the stack.
 */
export const MAX_JSON_DEPTH = 256

/** raw-body, loaded with the first body read: the server's module, not its declaration, needs it (see server.ts). */
let getRawBody: typeof getRawBodyType | undefined

/** Whether a request carries a body at all (GET with no length has none). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!hasBody(req)) return undefined
  const header = req.headers['content-type'] ?? ''
  const type = header.split(';', 1)[0].trim().toLowerCase()
  const isJson = type === 'application/json' || type.endsWith('+json')
  const isForm = type === 'application/x-www-form-urlencoded'
  if (!isJson && !isForm && !type.startsWith('text/')) {
    throw new HttpError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      type ? `content type '${type}' is not accepted; send application/json, text/* or a url-encoded form`
        : 'the request has a body but no Content-Type; send Content-Type: application/json')
  }
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(header)?.[1] ?? 'utf-8'
  let text: string
  try {
    getRawBody ??= (await import('raw-body')).default
    text = await getRawBody(req, { length: req.headers['content-length'], limit, encoding: charset })
  } catch (error) {
    const e = error as { type?: string; message?: string }
    if (e.type === 'entity.too.large') {
      throw new HttpError('ERR_HTTP_BODY_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`, { limit })
    }
    if (e.type === 'encoding.unsupported') {
      throw new HttpError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', `charset '${charset}' is not supported; send utf-8`)
    }
    throw new HttpError('ERR_HTTP_BAD_BODY', `the request body could not be read: ${e.message ?? 'unknown error'}`)
  }
  if (isJson) {
    if (text.trim() === '') return undefined
    if (jsonNestsDeeper(text, MAX_JSON_DEPTH)) {
      throw new HttpError('ERR_HTTP_BODY_TOO_DEEP', `the JSON body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, { maxDepth: MAX_JSON_DEPTH })
    }
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new HttpError('ERR_HTTP_BAD_JSON', `the request body is not valid JSON: ${(error as Error).message}`)
    }
  }
  if (isForm) {
    // A null-prototype object: form field names like __proto__ stay plain data.
    const form: Record<string, string> = Object.create(null)
    for (const [k, v] of new URLSearchParams(text)) form[k] = v
    return form
  }
  return text
}

