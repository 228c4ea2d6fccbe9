// The http.request step against real servers on 127.0.0.1: what it sends and outputs, when it retries and how long it
// waits, its size cap and deadline, a cancelled run, and the SSRF guard it shares with the components' fetch
// capability. A "trap" listener on loopback catches any request that gets past a refusal.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, startApp, writeFiles, type TestApp } from './support/app.ts'
import { islet } from './support/cli.ts'
import { until } from './support/until.ts'

interface Upstream {
  origin: string
  port: number
  /** TCP connections accepted: a refusal must leave this at 0. */
  connections: number
  /** Requests by path and key (?key=), with when each arrived. */
  hits: Map<string, number[]>
  /** The keys of requests to /hang whose connection closed before an answer. */
  dropped: Set<string>
  close(): Promise<void>
}

type Route = (req: IncomingMessage, res: ServerResponse, body: string, count: number, up: Upstream) => void

/** What the upstream does, by path; `count` is the request's number for its path and ?key= (server-side, from 1). */
const ROUTES: Record<string, Route> = {
  '/echo': (req, res, body) => {
    const url = new URL(req.url!, 'http://x')
    res.setHeader('content-type', 'application/json')
    res.setHeader('set-cookie', 'secret=1')
    res.end(JSON.stringify({ method: req.method, query: url.search, type: req.headers['content-type'] ?? null,
      token: req.headers['x-token'] ?? null, body }))
  },
  '/text': (_req, res) => { res.setHeader('content-type', 'text/plain'); res.end('plain words') },
  '/flaky': (_req, res, _body, count) => {
    if (count <= 2) { res.statusCode = 503; res.end('try later'); return }
    res.setHeader('content-type', 'application/json; charset=utf-8')
    res.end(JSON.stringify({ ok: true, count }))
  },
  '/slow-down': (_req, res, _body, count) => {
    if (count === 1) { res.statusCode = 503; res.setHeader('retry-after', '1'); res.end() } else res.end('fine')
  },
  '/missing': (_req, res) => { res.statusCode = 404; res.setHeader('content-type', 'application/json'); res.end('{"error":"no such order"}') },
  '/big': (req, res) => {
    const url = new URL(req.url!, 'http://x')
    const size = Number(url.searchParams.get('n'))
    if (url.searchParams.get('declared') === '1') res.setHeader('content-length', String(size))
    // Written in pieces so that, undeclared, the cap must be found by counting the stream.
    for (let sent = 0; sent < size; sent += 100) res.write('x'.repeat(Math.min(100, size - sent)))
    res.end()
  },
  '/redirect': (req, res) => {
    res.statusCode = 302
    res.setHeader('location', new URL(req.url!, 'http://x').searchParams.get('to')!)
    res.end()
  },
  '/hang': (req, res, _body, _count, up) => {
    const key = new URL(req.url!, 'http://x').searchParams.get('key')!
    res.on('close', () => { if (!res.writableEnded) up.dropped.add(key) })
  },
}

async function upstream(): Promise<Upstream> {
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const url = new URL(req.url!, 'http://x')
    const key = `${url.pathname}?${url.searchParams.get('key') ?? ''}`
    const times = up.hits.get(key) ?? []
    times.push(performance.now())
    up.hits.set(key, times)
    const route = ROUTES[url.pathname]
    if (route) route(req, res, body, times.length, up)
    else res.end('trap reached')
  })
  server.on('connection', () => { up.connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const up: Upstream = {
    origin: `http://127.0.0.1:${port}`, port, connections: 0, hits: new Map(), dropped: new Set(),
    close: () => { server.closeAllConnections(); return new Promise((resolve) => server.close(() => resolve())) },
  }
  return up
}

let up: Upstream
let trap: Upstream
let app: TestApp

/** One route per pipeline: GET /<name> runs pipeline <name>. */
function appYaml(pipelines: Record<string, string>): string {
  const routes = Object.keys(pipelines).map((name) => `        - { method: GET, path: /${name}, pipeline: ${name} }`).join('\n')
  const body = Object.entries(pipelines).map(([name, steps]) => `  ${name}:\n    steps:\n${steps}`).join('\n')
  return `apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
${routes}
  - name: web
    type: http.server
    config: { port: 0, routers: [api], requestTimeoutMs: 60000 }
pipelines:
${body}
`
}

/** A pipeline of one http.request step named `call` (config lines indented under it), answering its output. */
const call = (config: string) => `      - name: call
        type: http.request
        config:
${config.trim().split('\n').map((line) => `          ${line.trim()}`).join('\n')}
      - type: respond
        config: { body: '\${{ steps.call }}' }`

beforeAll(async () => {
  up = await upstream()
  trap = await upstream()
  const local = `allow: ['${up.origin}']\nprivateOrigins: ['${up.origin}']`
  app = await startApp({
    'app.yaml': appYaml({
      echo: call(`method: PUT
        url: '${up.origin}/echo'
        ${local}
        headers: { x-token: '\${{ query.token }}' }
        query: { page: '\${{ query.page }}', tag: [a, b], skip: null }
        body: { id: '\${{ query.id }}', n: 2 }`),
      text: call(`url: '${up.origin}/text'\n${local}`),
      flaky2: call(`url: '${up.origin}/flaky?key=\${{ query.key }}'\n${local}\nretries: 2\nretryDelayMs: 1`),
      flaky1: call(`url: '${up.origin}/flaky?key=\${{ query.key }}'\n${local}\nretries: 1\nretryDelayMs: 1`),
      flakynever: call(`url: '${up.origin}/flaky?key=\${{ query.key }}'\n${local}\nretries: 1\nretryDelayMs: 1\nfailOn: never`),
      hang2: call(`url: '${up.origin}/hang?key=\${{ query.key }}'\n${local}\ntimeoutMs: 200\nretries: 1\nretryDelayMs: 1`),
      post: call(`method: POST\nurl: '${up.origin}/flaky?key=\${{ query.key }}'\n${local}`),
      slowdown: call(`url: '${up.origin}/slow-down?key=\${{ query.key }}'\n${local}\nretries: 1\nretryDelayMs: 1`),
      missing: call(`url: '${up.origin}/missing'\n${local}`),
      tolerant: call(`url: '${up.origin}/missing'\n${local}\nfailOn: never`),
      expected: call(`url: '${up.origin}/missing'\n${local}\nexpect: [200, 404]`),
      big: call(`url: '${up.origin}/big?n=\${{ query.n }}&declared=\${{ query.declared }}'\n${local}\nmaxBytes: 1000\nparse: text`),
      hang: call(`url: '${up.origin}/hang?key=\${{ query.key }}'\n${local}\ntimeoutMs: 300`),
      held: call(`url: '${up.origin}/hang?key=\${{ query.key }}'\n${local}\ntimeoutMs: 60000`),
      redirect: call(`url: '${up.origin}/redirect?to=\${{ query.to }}'\n${local}`),
      anywhere: call(`url: '\${{ query.url }}'\n${local}`),
      guarded: call(`url: '\${{ query.url }}'
        allow: ['http://localhost:${trap.port}', 'http://2130706433:${trap.port}', 'http://[::ffff:127.0.0.1]:${trap.port}']`),
      opened: call(`url: '\${{ query.url }}'\nallow: ['http://localhost:${trap.port}']\nprivateOrigins: ['http://localhost:${trap.port}']`),
    }),
  })
})

afterAll(async () => {
  await app?.close()
  await up?.close()
  await trap?.close()
})

const get = (path: string, init?: RequestInit) => fetch(`${app.url}${path}`, init)

describe('http.request: what it sends and outputs', () => {
  it('sends the method, headers, query and a JSON body built from the run, and outputs { status, headers, body } with JSON parsed', async () => {
    const res = await get('/echo?token=t-1&page=3&id=o-9')
    expect(res.status).toBe(200)
    const out = await json(res)
    expect(out.status).toBe(200)
    expect(out.body).toEqual({ method: 'PUT', query: '?page=3&tag=a&tag=b', type: 'application/json', token: 't-1', body: '{"id":"o-9","n":2}' })
    expect(out.headers['content-type']).toBe('application/json')
    expect(out.headers['set-cookie']).toBeUndefined()
  })

  it('outputs a text body as text', async () => {
    expect((await json(await get('/text'))).body).toBe('plain words')
  })

  it('fails on a status outside 2xx with the status and the start of the body; expect and failOn: never let it through', async () => {
    const res = await get('/missing')
    expect(res.status).toBe(502)
    const { error } = await json(res)
    expect(error.code).toBe('ERR_HTTP_REQUEST_STATUS')
    expect(error.message).toContain('answered 404')
    expect(error.details).toMatchObject({ status: 404, excerpt: '{"error":"no such order"}' })
    expect(await json(await get('/tolerant'))).toMatchObject({ status: 404, body: { error: 'no such order' } })
    expect(await json(await get('/expected'))).toMatchObject({ status: 404 })
  })
})

describe('http.request: retries', () => {
  it('retries a GET that fails twice and outputs the third answer', async () => {
    const out = await json(await get('/flaky2?key=a'))
    expect(out).toMatchObject({ status: 200, body: { ok: true, count: 3 } })
    expect(up.hits.get('/flaky?a')).toHaveLength(3)
  })

  it('gives up after its retries and fails with the last status', async () => {
    const res = await get('/flaky1?key=b')
    expect(res.status).toBe(502)
    expect((await json(res)).error).toMatchObject({ code: 'ERR_HTTP_REQUEST_STATUS', details: { status: 503, attempts: 2 } })
    expect(up.hits.get('/flaky?b')).toHaveLength(2)
  })

  it('with failOn: never, still retries and then outputs the last answer', async () => {
    expect(await json(await get('/flakynever?key=h'))).toMatchObject({ status: 503, body: 'try later' })
    expect(up.hits.get('/flaky?h')).toHaveLength(2)
  })

  it('retries a timed-out attempt, and says how many were made when the last one times out too', async () => {
    const res = await get('/hang2?key=g')
    expect(res.status).toBe(504)
    // Attempts, not arrivals: on a loaded machine an attempt can time out before its request reaches the server.
    expect((await json(res)).error).toMatchObject({ code: 'ERR_HTTP_REQUEST_TIMEOUT', details: { attempts: 2 } })
  })

  it('never sends a POST twice', async () => {
    const res = await get('/post?key=c')
    expect((await json(res)).error.code).toBe('ERR_HTTP_REQUEST_STATUS')
    expect(up.hits.get('/flaky?c')).toHaveLength(1)
  })

  it("waits as long as the server's Retry-After asks before trying again", async () => {
    expect(await json(await get('/slowdown?key=d'))).toMatchObject({ status: 200, body: 'fine' })
    const [first, second] = up.hits.get('/slow-down?d')!
    // Retry-After: 1 against a 1 ms backoff: the gap is the server's second, measured where the requests arrive.
    expect(second! - first!).toBeGreaterThanOrEqual(950)
  })
})

describe('http.request: limits and cancellation', () => {
  it('fails a response over maxBytes, counted as it streams or declared up front', async () => {
    for (const declared of ['0', '1']) {
      const res = await get(`/big?n=5000&declared=${declared}`)
      expect(res.status).toBe(502)
      expect((await json(res)).error).toMatchObject({ code: 'ERR_HTTP_REQUEST_TOO_LARGE', details: { limit: 1000 } })
    }
    expect((await json(await get('/big?n=1000&declared=0'))).body).toHaveLength(1000)
  })

  it('fails with 504 when the upstream does not answer within timeoutMs', async () => {
    const res = await get('/hang?key=e')
    expect(res.status).toBe(504)
    expect((await json(res)).error).toMatchObject({ code: 'ERR_HTTP_REQUEST_TIMEOUT', details: { timeoutMs: 300 } })
  })

  it('aborts the outbound request when its run is cancelled (the client goes away)', async () => {
    const client = new AbortController()
    const pending = get('/held?key=f', { signal: client.signal }).catch(() => 'aborted')
    await until(() => up.hits.has('/hang?f'))
    client.abort()
    expect(await pending).toBe('aborted')
    await until(() => up.dropped.has('f'))
  })
})

describe('http.request: the SSRF guard', () => {
  it('refuses a URL outside the allow list, naming the origin and the list, before connecting', async () => {
    const res = await get(`/anywhere?url=${encodeURIComponent(`${trap.origin}/x`)}`)
    expect(res.status).toBe(502)
    const { error } = await json(res)
    expect(error.code).toBe('ERR_HTTP_REQUEST_ORIGIN_DENIED')
    expect(error.message).toContain(trap.origin)
    expect(error.message).toContain(up.origin)
    expect(error.details.allow).toEqual([up.origin])
    expect(trap.connections).toBe(0)
  })

  it('checks every redirect hop against the allow list', async () => {
    const { error } = await json(await get(`/redirect?to=${encodeURIComponent(`${trap.origin}/x`)}`))
    expect(error).toMatchObject({ code: 'ERR_HTTP_REQUEST_ORIGIN_DENIED', details: { redirect: 1, origin: trap.origin } })
    expect(trap.connections).toBe(0)
  })

  it('refuses allowlisted names and spellings that are loopback without privateOrigins, before any byte reaches the listener', async () => {
    const spellings = [`http://localhost:${trap.port}/x`, `http://2130706433:${trap.port}/x`, `http://0177.0.0.1:${trap.port}/x`,
      `http://[::ffff:127.0.0.1]:${trap.port}/x`, `http://127.1:${trap.port}/x`]
    for (const url of spellings) {
      const res = await get(`/guarded?url=${encodeURIComponent(url)}`)
      const { error } = await json(res)
      expect({ url, code: error.code, range: error.details.range }).toEqual({ url, code: 'ERR_HTTP_REQUEST_ADDRESS_DENIED', range: 'loopback' })
      expect(error.message).toContain('privateOrigins')
    }
    expect(trap.connections).toBe(0)
    // The same name with privateOrigins does reach the listener: the refusals above were the guard, not the network.
    expect(await json(await get(`/opened?url=${encodeURIComponent(`http://localhost:${trap.port}/x`)}`))).toMatchObject({ status: 200, body: 'trap reached' })
    expect(trap.connections).toBeGreaterThan(0)
  })
})

describe('islet validate on http.request', () => {
  it('flags a written-out URL outside allow, a private origin not allowed and retries on POST, each at file:line:col', () => {
    const { dir, cleanup } = writeFiles({
      'app.yaml': `apiVersion: islet/v1
pipelines:
  notify:
    steps:
      - type: http.request
        config:
          method: POST
          url: https://hooks.example.net/orders/\${{ input.id }}
          allow: [https://hooks.example.com]
          privateOrigins: [http://127.0.0.1:9]
          retries: 2
`,
    })
    try {
      const r = islet(['validate', join(dir, 'app.yaml')])
      expect(r.status).not.toBe(0)
      const out = r.stdout + r.stderr
      expect(out).toMatch(/app\.yaml:8:16 error ERR_CONFIG_STEP_CHECK the url's origin https:\/\/hooks\.example\.net is not in allow \(https:\/\/hooks\.example\.com\)/)
      expect(out).toMatch(/app\.yaml:10:28 error ERR_CONFIG_STEP_CHECK private origin 'http:\/\/127\.0\.0\.1:9' is not listed in allow/)
      expect(out).toMatch(/app\.yaml:11:20 error ERR_CONFIG_STEP_CHECK retries are only made for idempotent methods .* not POST/)
    } finally {
      cleanup()
    }
  })
})
