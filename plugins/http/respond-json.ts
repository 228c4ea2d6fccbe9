// An object body becomes its JSON text here, inside the request core's error handling, instead of in Koa's respond:
// there a body JSON cannot represent (nested too deep for the stack, a cycle, a BigInt) throws past every middleware
// and Koa answers a plain-text 500 with no request id and no log line. Setting the text straight away also spares
// Koa typing the body twice (object, then string).
import type { Context } from 'koa'
import type { RequestState } from './contracts.ts'
import { HttpError } from './errors.ts'

/** What Koa sets for an object body: kept byte for byte. */
const JSON_TYPE = 'application/json; charset=utf-8'

/** Whether Koa would answer `body` as JSON of an object (not a string, Buffer, stream, number or null). */
export function isObjectBody(body: unknown): body is object {
  return body !== null && typeof body === 'object' && !Buffer.isBuffer(body) && typeof (body as { pipe?: unknown }).pipe !== 'function'
}

/** Sets the response body; an object as its JSON text, typed as JSON unless a Content-Type is set already. */
export function answerJson(kctx: Context & { state: RequestState }, body: unknown): void {
  if (!isObjectBody(body)) {
    kctx.body = body
    return
  }
  let text: string
  try {
    text = JSON.stringify(body)
  } catch (error) {
    throw new HttpError('ERR_HTTP_RESPONSE_UNSERIALISABLE',
      `the response body could not be turned into JSON; the server log has details under request id ${kctx.state.requestId}`,
      undefined, error)
  }
  const res = kctx.res
  // Once headers are out (middleware answered on its own) Koa's set() would do nothing; setHeader would throw.
  if (!res.headersSent && !res.hasHeader('Content-Type')) res.setHeader('Content-Type', JSON_TYPE)
  kctx.body = text
}
