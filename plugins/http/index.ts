// The built-in `http` plugin: Koa server, router, CORS and access log, declared through the public sdk only.
import { definePlugin } from '@islet/sdk'
import accessLog from './access-log.ts'
import cors from './cors.ts'
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
  description: 'HTTP serving: server, router, CORS, access log, rate limit; outbound requests (http.request).',
  moduleTypes: [server, router, cors, accessLog, rateLimit],
  stepTypes: [request],
  triggers: [trigger],
  services: ['outbound'],
})
