// Request bodies for the write routes: JSON only (by content type), capped while streaming (a lying or absent
// content-length cannot get past the cap), and malformed JSON answered as a 400 saying where it broke.
import type { Context } from 'koa'
import { RegistryHttpError } from '../http-error.ts'
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.ts'
import { give, take, type BodyBudget } from '../body-budget.ts'

export async function readJson(ctx: Context, maxBytes: number, budget?: BodyBudget): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new RegistryHttpError(415, 'ERR_REGISTRY_CONTENT_TYPE', `${ctx.method} ${ctx.path} takes a JSON body, but the request's content-type is '${ctx.get('content-type') || 'missing'}'`, "send the body with 'content-type: application/json'")
  }
  const declared = Number(ctx.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(ctx, maxBytes)
  // What this request holds of the budget: the bytes it has sent (not those it announced: a client announcing a large
  // upload and sending nothing would hold the budget for free).
  let held = 0
  const hold = (bytes: number): void => {
    if (!budget || bytes <= held) return
    take(budget, bytes - held, `${ctx.method} ${ctx.path}`)
    held = bytes
  }
  try {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length
      if (size > maxBytes) {
        ctx.req.destroy()
        throw tooLarge(ctx, maxBytes)
      }
      hold(size)
      chunks.push(chunk as Buffer)
    }
    const text = Buffer.concat(chunks).toString('utf8')
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw tooDeep(ctx)
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `the body of ${ctx.method} ${ctx.path} is not valid JSON: ${(error as Error).message}`, 'send a JSON document')
    }
  } finally {
    if (budget) give(budget, held)
  }
}

function tooLarge(ctx: Context, maxBytes: number): RegistryHttpError {
  return new RegistryHttpError(413, 'ERR_REGISTRY_BODY_TOO_LARGE', `the body of ${ctx.method} ${ctx.path} is larger than this registry's limit of ${maxBytes} bytes`, 'publish a smaller package, or ask the registry operator to raise the limit')
}

export function tooDeep(ctx: Context): RegistryHttpError {
  return new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `the body of ${ctx.method} ${ctx.path} nests deeper than ${MAX_JSON_DEPTH} levels`, 'send the document npm (or islet plugin publish) builds')
}

/** A plain JSON object, or a 400 naming what the endpoint needed. */
export function objectBody(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `the body must be a JSON object (${what})`, `send ${what}`)
  }
  return body as Record<string, unknown>
}
