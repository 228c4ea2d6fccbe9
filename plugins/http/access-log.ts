// Module type `http.access-log`: one structured line per finished request, with its final status and duration.
import { defineModuleType, httpMiddleware, type HttpMiddleware, type MiddlewareProvider } from '@islet/sdk'

export interface AccessLogConfig {
  level: 'debug' | 'info'
}

export default defineModuleType<AccessLogConfig, MiddlewareProvider>({
  type: 'http.access-log',
  description: 'Logs method, path, status, duration, size and client address (see http.server trustProxy) of every request. List it under a server\'s `middleware`.',
  provides: [httpMiddleware],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { level: { enum: ['debug', 'info'], default: 'info' } },
  },
  create(config) {
    const middleware: HttpMiddleware = (http, next) => {
      const started = performance.now()
      const { method, path, clientAddress } = http.request
      // Logged once the response is sent, not after next(): errors are turned into responses further out, and only
      // then is the status final.
      http.onFinish(({ status, bytes }) => {
        http.logger[config.level]({
          method, path, status, durationMs: Math.round((performance.now() - started) * 100) / 100, bytes, clientAddress,
        }, 'request completed')
      })
      return next()
    }
    return { middleware }
  },
})
