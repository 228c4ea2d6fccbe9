// Benchmark baseline: a bare Koa route doing the same work as quote.yaml — idiomatic Koa with @koa/router,
// @koa/bodyparser and a precompiled ajv validator; prints its URL as one JSON line.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import Router from '@koa/router'
import { bodyParser } from '@koa/bodyparser'
import { Ajv } from 'ajv'

const validate = new Ajv({ allErrors: true }).compile({
  type: 'object', additionalProperties: false, required: ['sku', 'qty'],
  properties: { sku: { type: 'string', pattern: '^[A-Z0-9-]{1,32}$' }, qty: { type: 'integer', minimum: 1, maximum: 1000 } },
})
const app = new Koa()
const router = new Router()
router.post('/quote', (ctx) => {
  const body = ctx.request.body as { sku: string; qty: number }
  if (!validate(body)) {
    ctx.status = 400
    ctx.body = { error: { code: 'ERR_VALIDATION', message: 'invalid', details: validate.errors } }
    return
  }
  ctx.body = { sku: body.sku, qty: body.qty, total: Math.round(body.qty * 9.99 * 100) / 100 }
})
app.use(bodyParser()).use(router.routes()).use(router.allowedMethods())
const server = createServer(app.callback()).listen(0, '127.0.0.1')
await once(server, 'listening')
console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
