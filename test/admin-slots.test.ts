// The slot routes of the admin API against the real engine: deploy as JSON and as multipart, a dry run that stores
// nothing, a refused deploy's 422 with located diagnostics, promote, rollback, versions, sources, diffs, logs as JSON
// and followed over SSE, invoke, the audit; and the 400s that keep a malformed request from doing anything.
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'
import { tokenAuth } from './support/token-auth.ts'

const APP = `apiVersion: islet/v1
components:
  - slot: pricing
    description: Prices a cart
    grants: { kv: true }
modules:
  - name: admin
    type: islet.admin
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /quote, pipeline: quote }]
  - name: web
    type: http.server
    config: { port: 0, middleware: [admin], routers: [api] }
pipelines:
  quote:
    steps:
      - { name: q, type: component, config: { component: pricing, input: '\${{ body }}' } }
      - type: respond
        config: { body: '\${{ steps.q }}' }
`

/** A pricing component multiplying by `factor`; it logs each call. */
const pricing = (factor: number) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing',
  input: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
  examples: [{ input: { n: 2 }, output: { total: ${2 * factor} } }],
  execute(input: { n: number }, ctx) {
    ctx.log.info('quoted', { n: input.n })
    return { total: input.n * ${factor} }
  },
})
`
/** The same, its factor imported from a second file. */
const PRICING_WITH_RATES = `import { defineComponent } from '@islet/sdk'
import { FACTOR } from './lib/rates.ts'
export default defineComponent({
  name: 'pricing',
  examples: [{ input: { n: 2 }, output: { total: 2 * FACTOR } }],
  execute(input: { n: number }) {
    return { total: input.n * FACTOR }
  },
})
`
/** Does not compile: a syntax error on line 3. */
const BROKEN = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing' +,
  execute: () => ({}),
})
`

let app: TestApp
let base: string
beforeAll(async () => {
  app = await startApp({ 'app.yaml': APP })
  base = `${app.url}/admin/slots/pricing`
}, 60_000)
afterAll(() => app?.close())

const post = (path: string, body?: unknown) => fetch(`${base}${path}`, {
  method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
})
const get = async (path: string) => {
  const res = await fetch(`${base}${path}`)
  expect(res.status, `GET ${path}`).toBe(200)
  return json(res)
}
const quote = async (n: number) => {
  const res = await fetch(`${app.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) })
  return { status: res.status, body: await json(res) }
}
/** Stages a version of pricing(factor) and returns its id. */
const stage = async (factor: number) => {
  const res = await post('/versions', { files: { 'index.ts': pricing(factor) }, message: `factor ${factor}` })
  const body = await json(res)
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body.version.id as number
}

describe('admin slot routes', () => {
  it('lists the slot and describes it', async () => {
    const slots = await json(await fetch(`${app.url}/admin/slots`))
    expect(slots).toEqual([expect.objectContaining({ name: 'pricing', description: 'Prices a cart', live: null })])
    expect(await get('')).toMatchObject({ name: 'pricing', grants: { kv: true } })
    const unknown = await fetch(`${app.url}/admin/slots/nope`)
    expect(unknown.status).toBe(404)
    expect((await json(unknown)).error).toMatchObject({ code: 'ERR_SLOT_UNKNOWN', requestId: unknown.headers.get('x-request-id') })
    // Nothing promoted yet: invoking the slot says so.
    const empty = await post('/invoke', { input: { n: 1 } })
    expect(empty.status).toBe(503)
    expect((await json(empty)).error.code).toBe('ERR_SLOT_EMPTY')
  })

  it('a dry run validates and stores nothing', async () => {
    const before = (await get('/versions')).length
    const res = await post('/versions?dryRun=1', { files: { 'index.ts': pricing(2) } })
    const result = await json(res)
    expect(res.status).toBe(200)
    expect(result).toMatchObject({ ok: true, slot: 'pricing', dryRun: true, promoted: false })
    expect(result.version).toBeUndefined()
    expect(result.steps.map((s: { name: string }) => s.name)).toContain('compile')
    expect(await get('/versions')).toHaveLength(before)
  })

  it('stages a JSON deploy, promotes it, and the pipeline calling the slot serves it', async () => {
    const id = await stage(3)
    const version = await get(`/versions/${id}`)
    expect(version).toMatchObject({ slot: 'pricing', id, status: 'staged', author: 'loopback', message: 'factor 3', entry: 'index.ts' })
    expect(version.hash).toMatch(/^[0-9a-f]{64}$/)
    const res = await post(`/versions/${id}/promote`)
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ ok: true, promoted: true, version: { id, status: 'live' } })
    expect(await quote(5)).toEqual({ status: 200, body: { total: 15 } })
    expect((await get('')).live).toBe(id)
    // /admin/status lists the slots with their live version, next to the components.
    const status = await json(await fetch(`${app.url}/admin/status`))
    expect(status.slots).toEqual([{ name: 'pricing', live: id, examplesRequired: true, deployers: ['admin'] }])
  })

  it('deploys multipart files with their paths and promotes in the same call; source and diff show them', async () => {
    const previous = await stage(4)
    const form = new FormData()
    form.append('file', new Blob([PRICING_WITH_RATES]), 'index.ts')
    form.append('file', new Blob(['export const FACTOR = 7\n']), 'lib/rates.ts')
    form.append('message', 'rates in their own file')
    const res = await fetch(`${base}/versions?promote=1`, { method: 'POST', body: form })
    const result = await json(res)
    expect(res.status, JSON.stringify(result)).toBe(200)
    expect(result).toMatchObject({ ok: true, promoted: true, version: { status: 'live', message: 'rates in their own file' } })
    expect(await quote(2)).toEqual({ status: 200, body: { total: 14 } })
    const id = result.version.id as number
    expect(await get(`/versions/${id}/source`)).toEqual({ files: { 'index.ts': PRICING_WITH_RATES, 'lib/rates.ts': 'export const FACTOR = 7\n' } })
    const diff = await fetch(`${base}/diff?from=${previous}&to=${id}`)
    expect(diff.status).toBe(200)
    expect(diff.headers.get('content-type')).toMatch(/^text\/x-diff/)
    const text = await diff.text()
    expect(text).toContain('+++ b/lib/rates.ts')
    expect(text).toContain('+export const FACTOR = 7')
    expect(text).toMatch(/^-    return \{ total: input\.n \* 4 \}$/m)
  })

  it('a refused deploy answers 422 with the DeployResult and located diagnostics; the live version keeps serving', async () => {
    const live = (await get('')).live
    const before = await quote(1)
    const res = await post('/versions?promote=1', { files: { 'index.ts': BROKEN } })
    const result = await json(res)
    expect(res.status).toBe(422)
    expect(result).toMatchObject({ ok: false, promoted: false, dryRun: false, version: { status: 'rejected' } })
    const error = result.diagnostics.find((d: { severity: string }) => d.severity === 'error')
    expect(error).toMatchObject({ code: expect.stringMatching(/^ERR_/), file: 'index.ts', line: 3 })
    expect(result.steps.find((s: { name: string }) => s.name === 'compile').status).toBe('failed')
    expect((await get('')).live).toBe(live)
    expect(await quote(1)).toEqual(before)
    // A dry run that fails is refused the same way, and stores nothing.
    const count = (await get('/versions')).length
    const dry = await post('/versions?dryRun=1', { files: { 'index.ts': BROKEN } })
    expect(dry.status).toBe(422)
    expect(await json(dry)).toMatchObject({ ok: false, dryRun: true })
    expect(await get('/versions')).toHaveLength(count)
  })

  it('rolls back to the version live before, or to the one named', async () => {
    const first = await stage(10)
    expect((await post(`/versions/${first}/promote`)).status).toBe(200)
    const second = await stage(20)
    expect((await post(`/versions/${second}/promote`)).status).toBe(200)
    expect((await quote(1)).body).toEqual({ total: 20 })
    const back = await post('/rollback')
    expect(back.status).toBe(200)
    expect(await json(back)).toMatchObject({ ok: true, promoted: true, version: { id: first } })
    expect((await quote(1)).body).toEqual({ total: 10 })
    const to = await post('/rollback', { to: second })
    expect(to.status).toBe(200)
    expect((await quote(1)).body).toEqual({ total: 20 })
    const versions = await get('/versions')
    expect(versions.find((v: { id: number }) => v.id === second).status).toBe('live')
    expect(versions.find((v: { id: number }) => v.id === first).status).not.toBe('live')
  })

  it('invokes the live version and keeps its log lines, as JSON and followed over SSE', async () => {
    const id = await stage(6)
    expect((await post(`/versions/${id}/promote`)).status).toBe(200)
    const invoked = await post('/invoke', { input: { n: 7 } })
    expect(invoked.status).toBe(200)
    expect(await json(invoked)).toMatchObject({ ok: true, version: id, output: { total: 42 } })
    await until(async () => (await get('/logs')).some((e: { fields?: { n?: number } }) => e.fields?.n === 7))
    const entries = await get('/logs')
    const last = entries.at(-1)
    expect(last).toMatchObject({ level: 'info', message: 'quoted', version: id })
    expect(await get(`/logs?after=${last.seq}`)).toEqual([])

    // Following: the stream opens after the last line seen, then carries a line logged later.
    const stream = follow(`${base}/logs?after=${last.seq}`, (e) => e.fields?.n === 11)
    await stream.ready
    expect((await quote(11)).body).toEqual({ total: 66 })
    const line = await stream.line
    expect(line).toMatchObject({ message: 'quoted', fields: { n: 11 }, version: id })
    expect(line.seq).toBeGreaterThan(last.seq)

    // A client that reconnects (EventSource) with Last-Event-ID gets what it missed from the buffer first.
    const resumed = follow(`${base}/logs?follow=1`, () => true, { 'last-event-id': String(last.seq) })
    expect(await resumed.line).toEqual(line)
  })

  it('keeps an audit of who did what', async () => {
    const audit = await json(await fetch(`${app.url}/admin/audit?slot=pricing`))
    expect(Array.isArray(audit)).toBe(true)
    const actions = new Set(audit.map((e: { action: string }) => e.action))
    for (const action of ['dry-run', 'deploy', 'promote', 'rollback', 'invoke']) expect(actions, action).toContain(action)
    expect(audit.every((e: { principal: string; slot: string }) => e.principal === 'loopback:loopback' && e.slot === 'pricing')).toBe(true)
    expect(audit.some((e: { result: string }) => e.result === 'refused')).toBe(true)
  })

  it('refuses malformed requests with 400 naming the field, and they change nothing', async () => {
    const count = (await get('/versions')).length
    const cases: { res: Promise<Response>; field: string; message: RegExp }[] = [
      // A mistyped flag would otherwise stage a version its sender meant only to check.
      { res: post('/versions?dryrun=1', { files: { 'index.ts': pricing(1) } }), field: 'dryrun', message: /did you mean 'dryRun'/ },
      { res: post('/versions?dryRun=yes', { files: { 'index.ts': pricing(1) } }), field: 'dryRun', message: /dryRun=1 or dryRun=0/ },
      { res: post('/versions', { files: ['index.ts'] }), field: 'files', message: /maps each path/ },
      { res: post('/versions', { files: { 'index.ts': 1 } }), field: 'files.index.ts', message: /its UTF-8 text as a string/ },
      { res: post('/versions', { file: {} }), field: 'file', message: /did you mean 'files'/ },
      { res: post('/versions', {}), field: 'files', message: /no files/ },
      { res: fetch(`${base}/versions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"files":' }), field: 'body', message: /not valid JSON/ },
      { res: fetch(`${base}/versions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }), field: 'Content-Type', message: /application\/json/ },
      { res: fetch(`${base}/versions`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b' }, body: 'nope' }), field: 'body', message: /does not begin with its boundary/ },
      { res: post('/versions/abc/promote'), field: 'the version id in the path', message: /1, 2, 3/ },
      { res: post('/rollback', { to: 'last' }), field: 'to', message: /version ids/ },
      { res: fetch(`${base}/diff?from=1`), field: 'to', message: /\?from=<version id>&to=<version id>/ },
    ]
    for (const c of cases) {
      const res = await c.res
      const body = await json(res)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(body.error).toMatchObject({ code: 'ERR_ADMIN_BAD_REQUEST', details: { field: c.field } })
      expect(body.error.message).toMatch(c.message)
    }
    expect(await get('/versions')).toHaveLength(count)
  })

  it('answers 404 for an unknown version or route, 405 with Allow, 413 past the body limit', async () => {
    const version = await fetch(`${base}/versions/9999`)
    expect(version.status).toBe(404)
    expect((await json(version)).error.code).toBe('ERR_SLOT_VERSION_UNKNOWN')
    const route = await fetch(`${base}/nothing-here`)
    expect(route.status).toBe(404)
    expect((await json(route)).error).toMatchObject({ code: 'ERR_ADMIN_NOT_FOUND', message: expect.stringMatching(/POST \/admin\/slots\/:slot\/rollback/) })
    const method = await fetch(`${base}/versions`, { method: 'DELETE' })
    expect(method.status).toBe(405)
    expect(method.headers.get('allow')).toBe('GET, POST')
    expect((await json(method)).error.code).toBe('ERR_ADMIN_METHOD_NOT_ALLOWED')
    const count = (await get('/versions')).length
    const big = await post('/versions', { files: { 'index.ts': `// ${'x'.repeat(1024 * 1024)}` } })
    expect(big.status).toBe(413)
    expect((await json(big)).error.code).toBe('ERR_HTTP_BODY_TOO_LARGE')
    expect(await get('/versions')).toHaveLength(count)
  })
})

/** Follows the slot's log over SSE until a line matching `match` arrives. */
function follow(url: string, match: (entry: any) => boolean, headers: Record<string, string> = { accept: 'text/event-stream' }): { ready: Promise<void>; line: Promise<any> } {
  let ready!: () => void
  const readyP = new Promise<void>((resolve) => { ready = resolve })
  const line = new Promise<any>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        reject(new Error(`status ${res.statusCode} ${res.headers['content-type']}`))
      }
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        if (buffer.includes(': connected')) ready()
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (!data) continue
          const entry = JSON.parse(data)
          if (!/^event: log$/m.test(block) || /^id: (\d+)$/m.exec(block)?.[1] !== String(entry.seq)) {
            reject(new Error(`an SSE log event without 'event: log' and 'id: <seq>': ${block}`))
          } else if (match(entry)) { resolve(entry); req.destroy() }
        }
      })
    })
    req.on('error', reject)
    req.end()
  })
  return { ready: readyP, line }
}

describe('admin slot routes with tokens', () => {
  // A server on 0.0.0.0: nothing is answered without a token; scopes decide the rest (checked by the slots service).
  const TOKENS_APP = `apiVersion: islet/v1
components:
  - slot: pricing
    deployers: ['deploy:pricing']
modules:
  - name: tok
    type: test.token
    config:
      tokens:
        t-read: { subject: dashboard, scopes: [admin:read] }
        t-deploy: { subject: agent, scopes: ['deploy:pricing'] }
        t-other: { subject: stranger, scopes: ['deploy:other'] }
  - name: admin
    type: islet.admin
    config: { auth: [tok] }
  - name: web
    type: http.server
    config: { port: 0, host: 0.0.0.0, middleware: [admin] }
`
  let t: TestApp
  let slot: string
  beforeAll(async () => {
    t = await startApp({ 'app.yaml': TOKENS_APP }, { plugins: [tokenAuth] })
    slot = `${t.url.replace('//0.0.0.0:', '//127.0.0.1:')}/admin/slots/pricing`
  }, 60_000)
  afterAll(() => t?.close())

  const as = (token: string | undefined, path: string, body?: unknown) => fetch(`${slot}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

  it('a deployer deploys and reads its slot; a reader reads but may not deploy; others get 403 naming the scopes', async () => {
    const deployed = await as('t-deploy', '/versions?promote=1', { files: { 'index.ts': pricing(2) } })
    const result = await json(deployed)
    expect(deployed.status, JSON.stringify(result)).toBe(200)
    expect(result).toMatchObject({ ok: true, promoted: true, version: { author: 'agent' } })

    expect((await as('t-read', '/versions')).status).toBe(200)
    const readerDeploys = await as('t-read', '/versions', { files: { 'index.ts': pricing(3) } })
    expect(readerDeploys.status).toBe(403)
    const refusal = (await json(readerDeploys)).error
    expect(refusal.code).toBe('ERR_ADMIN_FORBIDDEN')
    expect(refusal.message).toContain('deploy:pricing')

    for (const path of ['', '/versions', '/logs']) {
      const res = await as('t-other', path)
      expect(res.status, path).toBe(403)
      expect((await json(res)).error.code).toBe('ERR_ADMIN_FORBIDDEN')
    }
    const versions = await json(await as('t-deploy', '/versions'))
    expect(versions).toHaveLength(1)
  })

  it('answers no token 401 and a bad token 401 before any slot route runs', async () => {
    const none = await as(undefined, '/versions', { files: { 'index.ts': pricing(5) } })
    expect(none.status).toBe(401)
    expect((await json(none)).error.code).toBe('ERR_ADMIN_AUTH_REQUIRED')
    const bad = await as('t-forged', '/versions')
    expect(bad.status).toBe(401)
    expect((await json(await as('t-read', '/versions'))).every((v: { author: string }) => v.author === 'agent')).toBe(true)
  })

  it('the audit names the principal; the whole log needs admin or admin:read, one slot its deployer scope', async () => {
    const audit = (token: string, query: string) => fetch(`${slot.replace(/\/slots\/pricing$/, '')}/audit${query}`, { headers: { authorization: `Bearer ${token}` } })
    const own = await audit('t-deploy', '?slot=pricing')
    expect(own.status).toBe(200)
    const entries = await json(own)
    // `via:subject`: a token's subject cannot pass for another kind of principal (a JWT with sub 'loopback', say).
    expect(entries).toContainEqual(expect.objectContaining({ principal: 'test-token:agent', action: 'deploy', slot: 'pricing', result: 'ok' }))
    // The reader's refused deploy is there, naming the scope it lacked; the 401s (no token, a forged one) are not.
    expect(entries).toContainEqual(expect.objectContaining({
      principal: 'test-token:dashboard', action: 'deploy', slot: 'pricing', result: 'refused', detail: expect.stringContaining('deploy:pricing'),
    }))
    expect(entries.every((e: { principal: string }) => ['test-token:agent', 'test-token:dashboard'].includes(e.principal))).toBe(true)
    const all = await audit('t-deploy', '')
    expect(all.status).toBe(403)
    expect((await json(all)).error.code).toBe('ERR_ADMIN_FORBIDDEN')
    expect((await audit('t-read', '')).status).toBe(200)
  })
})
