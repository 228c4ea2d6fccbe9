// The built-in `http` plugin: Koa server, router, CORS and access log, declared through the public sdk only.
import { definePlugin } from '@islet/sdk'
import accessLog from './access-log.ts'
import cors from './cors.ts'
import executions from './executions.ts'
import rateLimit from './rate-limit.ts'
import request from './request-step.ts'
import router from './router.ts'
import server from './server.ts'
import trigger from './trigger.ts'

export type { HttpServer, ServerConfig } from './server.ts'
export type { MiddlewareProvider, RouterProvider } from './contracts.ts'

export default definePlugin({
  name: 'http',
  version: '0.1.0',
  islet: '^0.1.0',
  description: 'HTTP serving: server, router, CORS, access log, rate limit, recorded executions; outbound requests (http.request).',
  moduleTypes: [server, router, cors, accessLog, rateLimit, executions],
  stepTypes: [request],
  triggers: [trigger],
  // http.request goes out through the outbound service; routes with `execution:` and the http.executions router
  // record runs through the executions service.
  services: ['outbound', 'executions'],
})
