// The JSON body of the small write endpoints (login, dist-tags): the app's body parser may have read it already
// (ctx.request.body); otherwise it is read here, capped, and must be `application/json`. Errors in npm's shape.
import type { Context } from 'koa'
import { RegistryHttpError } from '../http-error.ts'
import { tooDeep } from './body.ts'
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.ts'

export async function jsonBody(ctx: Context, limitBytes = 64 * 1024): Promise<unknown> {
  const parsed = (ctx.request as { body?: unknown }).body
  if (parsed !== undefined) return parsed
  if (!ctx.is('application/json')) {
    throw new RegistryHttpError(415, 'ERR_REGISTRY_CONTENT_TYPE', `${ctx.method} ${ctx.path} takes a JSON body, not ${ctx.get('content-type') || 'no content type'}: send Content-Type: application/json`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limitBytes) throw new RegistryHttpError(413, 'ERR_REGISTRY_BODY_TOO_LARGE', `${ctx.method} ${ctx.path}: the body is larger than ${limitBytes} bytes`, 'send a smaller body, or ask the registry operator to raise the limit')
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw tooDeep(ctx)
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `${ctx.method} ${ctx.path}: the body is not valid JSON (${(error as Error).message})`, 'send a JSON document')
  }
}
