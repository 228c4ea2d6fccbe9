// Errors the registry answers with, in the shape the npm CLI prints: `{ "error": "<message>" }` (npm shows
// `<status> <statusText> - <method> <url> - <error>`), plus Islet's stable `code` and a `hint` for everyone else.
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
      ctx.body = { error: error.message, code: error.code, ...(error.hint ? { hint: error.hint } : {}),
        ...(Object.keys(error.details).length > 0 ? { details: error.details } : {}) }
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      ctx.status = e.status
      ctx.body = { error: e.message ?? 'bad request', code: 'ERR_REGISTRY_BAD_REQUEST' }
    } else {
      ctx.status = 500
      ctx.body = { error: 'internal registry error', code: 'ERR_REGISTRY_INTERNAL' }
      ctx.app.emit('error', error, ctx)
    }
  }
}
