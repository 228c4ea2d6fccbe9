// The server's own request listener answers exactly as Koa's callback does: same status, headers and bytes for every
// kind of body a middleware can set (the listener replaces Koa's per-request machinery, not its semantics).
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Koa from 'koa'
import type { RequestState } from './contracts.ts'
import { createRequestHandler } from './request-handler.ts'

/** One answer per path: each a body kind or status Koa's respond treats on its own. */
function app(): Koa<RequestState> {
  const koa = new Koa<RequestState>()
  koa.silent = true
  koa.use(async (kctx) => {
    const answers: Record<string, () => void> = {
      '/string': () => { kctx.body = 'hello' },
      '/html': () => { kctx.body = '<p>hi</p>' },
      '/buffer': () => { kctx.body = Buffer.from([1, 2, 3]) },
      '/object': () => { kctx.body = { a: 1, b: [true, null] } },
      '/stream': () => { kctx.body = Readable.from(['a', 'b', 'c']) },
      '/web-stream': () => { kctx.body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('web')); c.close() } }) },
      '/blob': () => { kctx.body = new Blob(['blob']) },
      '/null': () => { kctx.body = null },
      '/status-only': () => { kctx.status = 418 },
      '/no-content': () => { kctx.status = 204; kctx.body = 'dropped' },
      '/not-modified': () => { kctx.status = 304; kctx.body = { dropped: true } },
      '/raw': () => { kctx.respond = false; kctx.res.statusCode = 299; kctx.res.end('raw') },
      '/throws': () => { throw Object.assign(new Error('nope'), { status: 422, expose: true }) },
    }
    const answer = answers[kctx.path]
    if (answer) answer()
  })
  return koa
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void
const servers: { close(): void }[] = []
let koaUrl = ''
let oursUrl = ''

async function listen(listener: Listener): Promise<string> {
  const server = createServer(listener)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  koaUrl = await listen(app().callback())
  oursUrl = await listen(createRequestHandler(app()))
})
afterAll(() => servers.forEach((s) => s.close()))

/** Status, headers (but the date) and bytes of one answer. */
function fetchRaw(base: string, path: string, method: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const { date: _date, ...headers } = res.headers
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('latin1') })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

const PATHS = ['/string', '/html', '/buffer', '/object', '/stream', '/web-stream', '/blob', '/null', '/status-only',
  '/no-content', '/not-modified', '/raw', '/throws', '/missing']

describe('the request handler', () => {
  for (const method of ['GET', 'HEAD']) {
    it(`answers ${method} requests as Koa's callback does, for every kind of body`, async () => {
      for (const path of PATHS) {
        const [koa, ours] = await Promise.all([fetchRaw(koaUrl, path, method), fetchRaw(oursUrl, path, method)])
        expect({ path, ...ours }).toEqual({ path, ...koa })
      }
    })
  }
})
