// HTTP end to end on an ephemeral loopback port: routing, pipelines, the JSON error shape, limits, request ids,
// health, CORS, access log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineStepType, definePlugin, StepError } from '@islet/sdk'
import { json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'

const APP = `
apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      prefix: /v1
      routes:
        - { method: POST, path: /quote, pipeline: quote }
        - { method: GET, path: /items/:id, pipeline: item }
        - { method: POST, path: /big, pipeline: echo, bodyLimit: 4kb }
        - { method: POST, path: /echo, pipeline: echo }
        - { method: GET, path: /boom, pipeline: boom }
        - { method: GET, path: /teapot, pipeline: teapot }
        - { method: POST, path: /parse, pipeline: parse, bodyLimit: 128kb }
        - { method: GET, path: /bigint, pipeline: bigint }
        - { method: GET, path: /bad-details, pipeline: bad-details }
  - name: log
    type: http.access-log
  - name: cors
    type: http.cors
    config: { origins: ['https://shop.example'] }
  - name: web
    type: http.server
    config:
      port: 0
      bodyLimit: 256b
      middleware: [log, cors]
      routers: [api]
pipelines:
  quote:
    steps:
      - type: validate
        config:
          schema:
            type: object
            additionalProperties: false
            required: [sku, qty]
            properties:
              sku: { type: string }
              qty: { type: integer, minimum: 1 }
      - name: quote
        type: set
        config:
          value: { sku: '\${{ body.sku }}', total: '\${{ body.qty * 2.5 }}', requestId: '\${{ request.id }}' }
      - if: \${{ body.qty > 100 }}
        then:
          - type: respond
            config: { status: 202, body: { bulk: true, quote: '\${{ steps.quote }}' } }
      - type: respond
        config:
          headers: { x-quote-sku: '\${{ body.sku }}' }
          body: \${{ steps.quote }}
  item:
    steps:
      - type: respond
        config: { body: { id: '\${{ params.id }}', q: '\${{ query.q }}' } }
  echo:
    steps:
      - type: respond
        config: { body: { got: '\${{ body }}' } }
  boom:
    steps:
      - type: test.explode
  teapot:
    steps:
      - type: test.teapot
  parse:
    steps:
      - type: test.parse
  bigint:
    steps:
      - type: test.bigint
  bad-details:
    steps:
      - type: test.bad-details
`

const testPlugin = definePlugin({
  name: 'test-steps', version: '1.0.0',
  stepTypes: [
    defineStepType({ type: 'test.explode', configSchema: { type: 'object' }, create: () => () => { throw new Error('secret internal detail at /srv/app.js:12') } }),
    // parseJson refuses text nested deeper than a body may be: a plugin's step can still return such a value.
    defineStepType({ type: 'test.parse', configSchema: { type: 'object' }, create: () => (scope) => JSON.parse(String(scope.input)) as unknown }),
    defineStepType({ type: 'test.bigint', configSchema: { type: 'object' }, create: () => () => ({ n: 1n }) }),
    defineStepType({ type: 'test.bad-details', configSchema: { type: 'object' }, create: () => () => { throw new StepError({ status: 422, code: 'ERR_ODD', message: 'odd details', details: { n: 1n } }) } }),
    defineStepType({ type: 'test.teapot', configSchema: { type: 'object' }, create: () => () => { throw new StepError({ status: 418, code: 'ERR_TEAPOT', message: 'short and stout', details: { spout: true } }) } }),
  ],
})

let app: TestApp
beforeAll(async () => { app = await startApp({ 'app.yaml': APP }, { plugins: [testPlugin] }) })
afterAll(() => app.close())

const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(app.url + path, { method: 'POST', body, headers })

describe('routing and pipelines', () => {
  it('runs validate → set → respond and answers JSON with headers from expressions', async () => {
    const res = await post('/v1/quote', JSON.stringify({ sku: 'A1', qty: 4 }))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-quote-sku')).toBe('A1')
    const body = await json(res)
    expect(body).toEqual({ sku: 'A1', total: 10, requestId: res.headers.get('x-request-id') })
  })

  it('takes the explicit branch when its condition holds', async () => {
    const res = await post('/v1/quote', JSON.stringify({ sku: 'A1', qty: 200 }))
    expect(res.status).toBe(202)
    expect(await json(res)).toMatchObject({ bulk: true, quote: { total: 500 } })
  })

  it('exposes path params and query to expressions', async () => {
    const res = await fetch(`${app.url}/v1/items/abc-1?q=blue`)
    expect(await json(res)).toEqual({ id: 'abc-1', q: 'blue' })
  })

  it('answers a validation failure with 400 and the schema errors in the error shape', async () => {
    const res = await post('/v1/quote', JSON.stringify({ sku: 'A1', qty: 0, extra: 1 }))
    expect(res.status).toBe(400)
    const { error } = await json(res)
    expect(error.code).toBe('ERR_VALIDATION')
    expect(error.requestId).toBe(res.headers.get('x-request-id'))
    expect(JSON.stringify(error.details)).toContain('qty')
  })
})

describe('errors keep one JSON shape', () => {
  it('unknown route → 404', async () => {
    const res = await fetch(`${app.url}/nope`)
    expect(res.status).toBe(404)
    const { error } = await json(res)
    expect(error).toMatchObject({ code: 'ERR_HTTP_NOT_FOUND', requestId: res.headers.get('x-request-id') })
  })

  it('wrong method on a known path → 405 with Allow', async () => {
    const res = await fetch(`${app.url}/v1/quote`)
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
    expect((await json(res)).error.code).toBe('ERR_HTTP_METHOD_NOT_ALLOWED')
  })

  it('a body over the server limit → 413; a route may raise its own limit', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1000) })
    const res = await post('/v1/echo', big)
    expect(res.status).toBe(413)
    expect((await json(res)).error.code).toBe('ERR_HTTP_BODY_TOO_LARGE')
    expect((await post('/v1/big', big)).status).toBe(200)
  })

  it('malformed JSON → 400; a body of another media type → 415', async () => {
    const bad = await post('/v1/echo', '{"a":')
    expect(bad.status).toBe(400)
    expect((await json(bad)).error.code).toBe('ERR_HTTP_BAD_JSON')
    const xml = await post('/v1/echo', '<a/>', { 'content-type': 'application/xml' })
    expect(xml.status).toBe(415)
  })

  it('a step throwing an unexpected error → 500 without its message, stack or paths; the log has it', async () => {
    const res = await fetch(`${app.url}/v1/boom`)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(text).not.toContain('secret')
    expect(text).not.toContain('/srv')
    const { error } = JSON.parse(text)
    expect(error.code).toBe('ERR_INTERNAL')
    const logged = app.logs.find((l) => l.requestId === error.requestId && l.level === 50)
    expect(JSON.stringify(logged)).toContain('secret internal detail')
  })

  it('a StepError keeps its status, code, message and details', async () => {
    const res = await fetch(`${app.url}/v1/teapot`)
    expect(res.status).toBe(418)
    expect((await json(res)).error).toMatchObject({ code: 'ERR_TEAPOT', message: 'short and stout', details: { spout: true } })
  })
})

describe('a response JSON cannot represent still gets the JSON error shape, logged', () => {
  it('a body nested 30,000 deep (built from a text body), or holding a BigInt → 500 ERR_HTTP_RESPONSE_UNSERIALISABLE', async () => {
    // Koa serialised the body after every middleware had returned: its failure was a plain-text 500, unlogged.
    const deep = post('/v1/parse', `${'['.repeat(30_000)}${']'.repeat(30_000)}`, { 'content-type': 'text/plain' })
    for (const res of [await deep, await fetch(`${app.url}/v1/bigint`)]) {
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      const { error } = await json(res)
      expect(error).toMatchObject({ code: 'ERR_HTTP_RESPONSE_UNSERIALISABLE', requestId: res.headers.get('x-request-id') })
      expect(app.logs.some((l) => l.requestId === error.requestId && l.level === 50)).toBe(true)
    }
  })

  it('an error whose details cannot be serialised is answered without them, and logged', async () => {
    const res = await fetch(`${app.url}/v1/bad-details`)
    expect(res.status).toBe(422)
    const { error } = await json(res)
    expect(error).toEqual({ code: 'ERR_ODD', message: 'odd details', requestId: res.headers.get('x-request-id') })
    expect(app.logs.some((l) => l.requestId === error.requestId && l.level === 50)).toBe(true)
  })
})

describe('request ids, health, middleware', () => {
  it('propagates a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } })
    expect(kept.headers.get('x-request-id')).toBe('abc-123')
    const replaced = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'bad id {"inject":1}' } })
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('/healthz and /readyz answer 200 once started', async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${app.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await json(ready)).toEqual({ status: 'ready' })
  })

  it('CORS: allowed origins get headers and preflights; others get none', async () => {
    const ok = await fetch(`${app.url}/v1/items/1`, { headers: { origin: 'https://shop.example' } })
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    const other = await fetch(`${app.url}/v1/items/1`, { headers: { origin: 'https://evil.example' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const preflight = await fetch(`${app.url}/v1/quote`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    expect(preflight.headers.get('vary')).toBe('Origin')
    expect(ok.headers.get('access-control-expose-headers')).toBe('x-request-id')
    expect(other.headers.get('vary')).toBe('Origin')
    // An error answer from further in keeps the CORS headers, so the browser lets the page read the error.
    const missing = await fetch(`${app.url}/v1/nowhere`, { headers: { origin: 'https://shop.example' } })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    // OPTIONS without Access-Control-Request-Method is not a preflight: it goes on to the routes.
    const plain = await fetch(`${app.url}/v1/quote`, { method: 'OPTIONS', headers: { origin: 'https://shop.example' } })
    expect(plain.status).toBe(405)
  })

  it('logs one access line per request with request id, module, status and duration', async () => {
    const res = await fetch(`${app.url}/v1/items/7`, { headers: { 'x-request-id': 'trace-me-7' } })
    await res.text()
    const isLine = (l: Record<string, unknown>) => l.requestId === 'trace-me-7' && l.msg === 'request completed'
    await until(() => app.logs.some(isLine)) // written after the response is sent
    const line = app.logs.find(isLine)
    expect(line).toMatchObject({ module: 'web', method: 'GET', path: '/v1/items/7', status: 200 })
    expect(typeof line?.durationMs).toBe('number')
  })
})
