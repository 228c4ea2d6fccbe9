// Errors the registry answers with, in the shape the npm CLI prints: `{ "error": "<message>" }` (npm shows
// `<status> <statusText> - <method> <url> - <error>` and nothing else), plus Islet's stable `code` and a `hint` for
// other clients. Because npm shows only `error`, the hint (how to fix) is part of it too, unless the message says it.
import type { Context, Next } from 'koa'
import { CodedError } from '@islet/sdk'

export class RegistryHttpError extends CodedError<string> {
  readonly status: number
  readonly hint: string | undefined
  constructor(status: number, code: string, message: string, hint?: string, details?: Record<string, unknown>) {
    super(code, message, details ? { details } : {})
    this.status = status
    this.hint = hint
  }
}

/** Answers thrown RegistryHttpErrors (and Koa's own 4xx, e.g. a body parser's) in npm's error shape; a 5xx hides its message. */
export async function npmErrors(ctx: Context, next: Next): Promise<void> {
  try {
    await next()
  } catch (error) {
    const e = error as { status?: number; expose?: boolean; message?: string }
    if (error instanceof RegistryHttpError) {
      ctx.status = error.status
      ctx.body = { error: errorText(error.message, error.hint), code: error.code, ...(error.hint ? { hint: error.hint } : {}),
        ...(Object.keys(error.details).length > 0 ? { details: error.details } : {}) }
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      ctx.status = e.status
      // Koa's own refusals (a body parser's, a malformed URL) say what, not how to fix: the hint is generic.
      ctx.body = { error: errorText(e.message ?? 'bad request', BAD_REQUEST_HINT), code: 'ERR_REGISTRY_BAD_REQUEST', hint: BAD_REQUEST_HINT }
    } else {
      ctx.status = 500
      ctx.body = { error: 'internal registry error', code: 'ERR_REGISTRY_INTERNAL' }
      ctx.app.emit('error', error, ctx)
    }
  }
}

const BAD_REQUEST_HINT = 'send what the npm CLI sends for this request (npm publish, npm view, npm dist-tag …)'

/** The message npm prints: what was refused, then how to fix it, the hint left out when the message already holds it. */
export function errorText(message: string, hint: string | undefined): string {
  if (!hint) return message
  const plain = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').replace(/[.;:\s]+$/, '').trim()
  if (plain(message).includes(plain(hint))) return message
  return `${message.replace(/[.;:\s]+$/, '')}${message.includes('\n') ? '\n  ' : '; '}${hint}`
}
