// Module type `http.access-log`: one structured line per finished request, with its final status and duration.
import { defineModuleType, httpMiddleware } from '@islet/sdk'
import type { MiddlewareProvider, RequestState } from './contracts.ts'
import type { Middleware } from 'koa'

export interface AccessLogConfig {
  level: 'debug' | 'info'
}

export default defineModuleType<AccessLogConfig, MiddlewareProvider>({
  type: 'http.access-log',
  description: 'Logs method, path, status, duration and size of every request. List it under a server\'s `middleware`.',
  provides: [httpMiddleware],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { level: { enum: ['debug', 'info'], default: 'info' } },
  },
  create(config) {
    const middleware: Middleware<RequestState> = async (kctx, next) => {
      const started = performance.now()
      // Log on 'finish', not after next(): errors are turned into responses further out, and only then is the
      // status final.
      kctx.res.once('finish', () => {
        kctx.state.logger[config.level]({
          method: kctx.method, path: kctx.path, status: kctx.res.statusCode,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
          bytes: Number(kctx.res.getHeader('content-length') ?? 0),
        }, 'request completed')
      })
      await next()
    }
    return { middleware }
  },
})
