// Benchmark baseline: a Koa route doing the same work as quote.yaml; prints its URL as one JSON line.
// Default: idiomatic Koa with @koa/router, @koa/bodyparser and a precompiled ajv validator.
// `bare`: the floor the ratios are taken against: one middleware, the body read and JSON.parse'd by hand,
// the same rules checked by hand, no router, no body parser. BENCH_PORT picks the port (default: any free one).
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'

interface Quote { sku: string; qty: number }
type Handler = ReturnType<Koa['callback']>
const total = (q: Quote) => ({ sku: q.sku, qty: q.qty, total: Math.round(q.qty * 9.99 * 100) / 100 })

// The router, body parser and ajv are imported only for this one, so the floor's memory holds none of them.
async function routed(): Promise<Handler> {
  const [{ default: Router }, { bodyParser }, { Ajv }] = await Promise.all([import('@koa/router'), import('@koa/bodyparser'), import('ajv')])
  const validate = new Ajv({ allErrors: true }).compile({
    type: 'object', additionalProperties: false, required: ['sku', 'qty'],
    properties: { sku: { type: 'string', pattern: '^[A-Z0-9-]{1,32}$' }, qty: { type: 'integer', minimum: 1, maximum: 1000 } },
  })
  const app = new Koa()
  const router = new Router()
  router.post('/quote', (ctx) => {
    const body = ctx.request.body as Quote
    if (!validate(body)) {
      ctx.status = 400
      ctx.body = { error: { code: 'ERR_VALIDATION', message: 'invalid', details: validate.errors } }
      return
    }
    ctx.body = total(body)
  })
  return app.use(bodyParser()).use(router.routes()).use(router.allowedMethods()).callback()
}

const LIMIT = 64 * 1024
const SKU = /^[A-Z0-9-]{1,32}$/

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > LIMIT) { req.destroy(); reject(Object.assign(new Error('body too large'), { status: 413 })) } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function valid(body: unknown): body is Quote {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false
  const { sku, qty, ...rest } = body as Record<string, unknown>
  return Object.keys(rest).length === 0 && typeof sku === 'string' && SKU.test(sku) && Number.isInteger(qty) && (qty as number) >= 1 && (qty as number) <= 1000
}

function bare(): Handler {
  return new Koa().use(async (ctx) => {
    if (ctx.path !== '/quote') { ctx.status = 404; return }
    if (ctx.method !== 'POST') { ctx.status = 405; return }
    let body: unknown
    try {
      body = JSON.parse(await readBody(ctx.req))
    } catch (error) {
      ctx.status = (error as { status?: number }).status ?? 400
      ctx.body = { error: { code: 'ERR_BAD_BODY', message: 'the body must be JSON' } }
      return
    }
    if (!valid(body)) { ctx.status = 400; ctx.body = { error: { code: 'ERR_VALIDATION', message: 'invalid' } }; return }
    ctx.body = total(body)
  }).callback()
}

const handler = process.argv[2] === 'bare' ? bare() : await routed()
const server = createServer(handler).listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1')
await once(server, 'listening')
console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
