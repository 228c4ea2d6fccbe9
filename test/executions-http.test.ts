// Recorded executions over real HTTP on loopback: an `execution: async` route answers 202 and the run goes on in the
// background; its record (status, each step's timing, output size, error) is read through the app-facing
// http.executions router and the admin API; its events stream as SSE in order and the stream ends with it; cancel
// aborts the run's signal; a `record` route answers as usual and keeps the record too.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BusEvent } from '@islet/sdk'
import { json, startApp, type TestApp } from './support/app.ts'
import { gate, gatePlugin, readSse, resetGates } from './support/executions.ts'
import { tokenAuth } from './support/token-auth.ts'
import { until } from './support/until.ts'

const APP = `apiVersion: islet/v1
modules:
  - name: tok
    type: test.token
    config:
      optional: true
      tokens:
        t-admin: { subject: ops, scopes: [admin] }
        t-read: { subject: dashboard, scopes: ['admin:read'] }
        t-app: { subject: shop, scopes: [orders] }
  - name: admin
    type: islet.admin
    config: { auth: [tok] }
  - name: runs
    type: http.executions
    config: { prefix: /runs, requires: [orders] }
  - name: api
    type: http.router
    config:
      executions: runs
      routes:
        - { method: POST, path: /reports, pipeline: report, execution: async }
        - { method: POST, path: /hang, pipeline: hang, execution: async }
        - { method: POST, path: /broken, pipeline: broken, execution: async }
        - { method: POST, path: /quick, pipeline: quick, execution: record }
        - { method: POST, path: /plain, pipeline: quick }
        - { method: POST, path: /hold, pipeline: hang, execution: record }
        - { method: POST, path: /fanout, pipeline: fanout, execution: async }
  - name: web
    type: http.server
    config: { port: 0, host: 127.0.0.1, middleware: [tok, admin], routers: [api, runs] }
pipelines:
  report:
    steps:
      - name: first
        type: set
        config: { value: { n: '\${{ input.n }}' } }
      - name: wait
        type: test.gate
        config: { gate: report }
      - name: last
        type: set
        config: { value: { total: '\${{ steps.first.n * 2 }}' } }
  hang:
    steps:
      - name: hold
        type: test.gate
        config: { gate: never }
  broken:
    steps:
      - name: ok
        type: set
        config: { value: 1 }
      - name: boom
        type: fail
        config: { status: 422, code: REPORT_BROKEN, message: 'the report cannot be made' }
  fanout:
    steps:
      - name: each
        type: foreach
        config: { items: '\${{ input.items }}', concurrency: 2 }
        do:
          - name: double
            type: set
            config: { value: '\${{ item * 2 }}' }
      - name: sub
        type: call
        config: { pipeline: helper }
      - name: either
        type: parallel
        config: { wait: all }
        branches:
          left: [ { name: l, type: set, config: { value: 1 } } ]
          right: [ { name: r, type: set, config: { value: 2 } } ]
  helper:
    steps:
      - name: inner
        type: set
        config: { value: 1 }
  quick:
    steps:
      - name: answer
        type: set
        config: { value: { echoed: '\${{ input }}' } }
`

const auth = (token: string) => ({ authorization: `Bearer ${token}` })
const post = (t: TestApp, path: string, body: unknown = {}, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
const get = (t: TestApp, path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers })

let t: TestApp | undefined
beforeEach(() => resetGates())
afterEach(async () => {
  await t?.close()
  t = undefined
})

const open = async (env: Record<string, string> = {}) => (t = await startApp({ 'app.yaml': APP }, { plugins: [tokenAuth, gatePlugin], env }))

describe('execution: async routes', () => {
  it('answer 202 with the execution id, status and links at once; polling shows it completed with each step recorded', async () => {
    const app = await open()
    const bus: BusEvent[] = []
    app.engine.events.subscribe('islet.step.*', (e) => { bus.push(e) })
    const res = await post(app, '/reports', { n: 21 }, { 'x-request-id': 'req-report-1' })
    expect(res.status).toBe(202)
    const answer = await json(res)
    expect(answer).toMatchObject({ execution: expect.stringMatching(/^ex_/), status: 'running' })
    const id = answer.execution
    expect(answer.links).toEqual({ self: `/runs/${id}`, events: `/runs/${id}/events`, cancel: `/runs/${id}/cancel` })
    expect(res.headers.get('location')).toBe(`/runs/${id}`)

    // Still running while the gate is closed: the 202 did not wait for the pipeline.
    await until(() => gate('report').entered === 1)
    expect(await json(await get(app, `/runs/${id}`, auth('t-app')))).toMatchObject({ status: 'running', pipeline: 'report', trigger: 'http' })
    gate('report').open()

    let record: any
    await until(async () => (record = await json(await get(app, `/runs/${id}`, auth('t-app')))).status !== 'running')
    expect(record).toMatchObject({ status: 'completed', pipeline: 'report', runId: 'req-report-1', output: { status: 200, body: { total: 42 } } })
    expect(record.inputBytes).toBe(JSON.stringify({ n: 21 }).length)
    expect(record.steps.map((s: any) => [s.name, s.status])).toEqual([['first', 'completed'], ['wait', 'completed'], ['last', 'completed']])
    for (const step of record.steps) {
      expect(step.durationMs).toBeGreaterThanOrEqual(0)
      expect(Date.parse(step.endedAt)).toBeGreaterThanOrEqual(Date.parse(step.startedAt))
    }
    expect(record.steps[0].outputBytes).toBe(JSON.stringify({ n: 21 }).length)
    expect(record.steps[2].outputBytes).toBe(JSON.stringify({ total: 42 }).length)
    // Recorded runs' step events reach bus subscribers too.
    await until(() => bus.filter((e) => (e.payload as any).execution === id).length === 6)
    expect(bus.filter((e) => (e.payload as any).execution === id).map((e) => e.topic))
      .toEqual(['islet.step.started', 'islet.step.completed', 'islet.step.started', 'islet.step.completed', 'islet.step.started', 'islet.step.completed'])
  })

  it('streams every event of the execution as SSE, in order, and ends the stream when the execution ends', async () => {
    const app = await open()
    const { execution: id } = await json(await post(app, '/reports', { n: 1 }))
    await until(() => gate('report').entered === 1)
    // Opened mid-run: the events so far are replayed, the rest follow live.
    const stream = await get(app, `/runs/${id}/events`, auth('t-app'))
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toBe('text/event-stream')
    const reading = readSse(stream)
    gate('report').open()
    const events = await reading
    expect(events.map((e) => [e.event, e.data.step ?? null])).toEqual([
      ['pipeline.started', null],
      ['step.started', 'first'], ['step.completed', 'first'],
      ['step.started', 'wait'], ['step.completed', 'wait'],
      ['step.started', 'last'], ['step.completed', 'last'],
      ['pipeline.completed', null],
    ])
    expect(events.map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(events.every((e) => e.data.execution === id && e.data.pipeline === 'report')).toBe(true)

    // After the end: the admin stream replays all of it and ends at once; Last-Event-ID resumes after a given event.
    const replay = await readSse(await get(app, `/admin/executions/${id}/events`, auth('t-read')))
    expect(replay.map((e) => e.event)).toEqual(events.map((e) => e.event))
    const resumed = await readSse(await get(app, `/runs/${id}/events`, { ...auth('t-app'), 'last-event-id': '6' }))
    expect(resumed.map((e) => e.id)).toEqual(['7', '8'])
  })

  it('names the steps of each block run and of a called pipeline by their path, so concurrent items and branches can be told apart', async () => {
    const app = await open()
    const { execution } = await json(await post(app, '/fanout', { items: [5, 7, 9] }))
    await until(async () => (await json(await get(app, `/runs/${execution}`, auth('t-app')))).status === 'completed')
    const record = await json(await get(app, `/runs/${execution}`, auth('t-app')))
    expect(record.output).toEqual({ status: 200, body: { left: 1, right: 2 } })
    const names = record.steps.map((s: { name: string; status: string }) => `${s.name} ${s.status}`).sort()
    expect(names).toEqual([
      'each completed', 'each[0].double completed', 'each[1].double completed', 'each[2].double completed',
      'either completed', 'either[left].l completed', 'either[right].r completed',
      'sub completed', 'sub.inner completed',
    ])
    expect(record.steps.find((s: { name: string }) => s.name === 'each[1].double').outputBytes).toBe(2)
  })

  it('cancel aborts the signal of a hung run: the step sees the abort and the execution ends cancelled', async () => {
    const app = await open()
    const { execution: id } = await json(await post(app, '/hang'))
    await until(() => gate('never').entered === 1)
    const stream = readSse(await get(app, `/runs/${id}/events`, auth('t-app')))
    const cancelled = await post(app, `/runs/${id}/cancel`, undefined, auth('t-app'))
    expect(cancelled.status).toBe(200)
    expect(await json(cancelled)).toMatchObject({ id, status: 'cancelled', error: { code: 'ERR_EXECUTION_CANCELLED' } })
    expect(gate('never').aborts).toEqual(['ERR_EXECUTION_CANCELLED'])
    const record = await json(await get(app, `/runs/${id}`, auth('t-app')))
    expect(record).toMatchObject({ status: 'cancelled', error: { code: 'ERR_EXECUTION_CANCELLED' } })
    expect(record.steps).toMatchObject([{ name: 'hold', status: 'failed', error: { code: 'ERR_EXECUTION_CANCELLED' } }])
    // The open stream ends with the execution, its last event saying how.
    const events = await stream
    expect(events.at(-1)).toMatchObject({ event: 'pipeline.failed', data: { status: 'cancelled' } })
    // Cancelling what already ended is a conflict that says how it ended.
    const again = await post(app, `/runs/${id}/cancel`, undefined, auth('t-app'))
    expect(again.status).toBe(409)
    expect((await json(again)).error).toMatchObject({ code: 'ERR_EXECUTION_ENDED' })
  })

  it('records a failed step with its code, and the execution failed with it', async () => {
    const app = await open()
    const { execution: id } = await json(await post(app, '/broken'))
    let record: any
    await until(async () => (record = await json(await get(app, `/runs/${id}`, auth('t-app')))).status !== 'running')
    expect(record).toMatchObject({ status: 'failed', error: { code: 'REPORT_BROKEN', message: 'the report cannot be made' } })
    expect(record.steps).toMatchObject([
      { name: 'ok', status: 'completed', outputBytes: 1 },
      { name: 'boom', status: 'failed', error: { code: 'REPORT_BROKEN' } },
    ])
    expect(record.output).toBeUndefined()
  })
})

describe('execution: record routes', () => {
  it('answer as the pipeline does and keep the record, named by X-Execution-Id; a plain route records nothing', async () => {
    const app = await open()
    const res = await post(app, '/quick', { a: 1 })
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ echoed: { a: 1 } })
    const id = res.headers.get('x-execution-id')!
    expect(id).toMatch(/^ex_/)
    expect(await json(await get(app, `/runs/${id}`, auth('t-app')))).toMatchObject({
      status: 'completed', pipeline: 'quick', output: { status: 200, body: { echoed: { a: 1 } } }, steps: [{ name: 'answer', status: 'completed' }],
    })
    const plain = await post(app, '/plain', { a: 2 })
    expect(plain.headers.get('x-execution-id')).toBeNull()
    expect((await json(await get(app, '/admin/executions?pipeline=quick', auth('t-read')))).map((e: any) => e.id)).toEqual([id])
  })
})

describe('execution: record routes whose caller goes away', () => {
  it('abort the run with the request: the step sees it and the execution ends failed with the reason', async () => {
    const app = await open()
    const client = new AbortController()
    const request = fetch(`${app.url}/hold`, { method: 'POST', signal: client.signal }).catch(() => 'gone')
    await until(() => gate('never').entered === 1)
    const [running] = await json(await get(app, '/admin/executions?pipeline=hang', auth('t-read')))
    expect(running).toMatchObject({ status: 'running', trigger: 'http' })
    client.abort()
    expect(await request).toBe('gone')
    let record: any
    await until(async () => (record = await json(await get(app, `/runs/${running.id}`, auth('t-app')))).status !== 'running')
    expect(record).toMatchObject({ status: 'failed', error: { code: 'ERR_HTTP_CLIENT_CLOSED' } })
    expect(gate('never').aborts).toEqual(['ERR_HTTP_CLIENT_CLOSED'])
  })
})

describe('who may read and cancel executions', () => {
  it('admin routes: admin:read lists and reads, only admin cancels; the app router is behind the app\'s own auth', async () => {
    const app = await open()
    const { execution: hung } = await json(await post(app, '/hang'))
    await until(() => gate('never').entered === 1)
    await post(app, '/quick', { b: 1 })

    const listed = await json(await get(app, '/admin/executions?status=running', auth('t-read')))
    expect(listed.map((e: any) => e.id)).toEqual([hung])
    expect((await json(await get(app, '/admin/executions?pipeline=quick&limit=1', auth('t-read'))))).toMatchObject([{ pipeline: 'quick', status: 'completed' }])
    expect(await json(await get(app, `/admin/executions/${hung}`, auth('t-read')))).toMatchObject({ id: hung, status: 'running' })
    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect(await json(await get(app, `/admin/executions?since=${future}`, auth('t-read')))).toEqual([])
    expect((await json(await get(app, '/admin/executions?since=2000-01-01T00:00:00Z', auth('t-read')))).length).toBe(2)

    const refused = await post(app, `/admin/executions/${hung}/cancel`, undefined, auth('t-read'))
    expect(refused.status).toBe(403)
    expect((await json(refused)).error).toMatchObject({ code: 'ERR_ADMIN_FORBIDDEN', details: { needs: ['admin'] } })
    expect(gate('never').aborts).toEqual([])
    const done = await post(app, `/admin/executions/${hung}/cancel`, undefined, auth('t-admin'))
    expect(done.status).toBe(200)
    expect(await json(done)).toMatchObject({ status: 'cancelled' })

    expect((await get(app, '/admin/executions', auth('t-app'))).status).toBe(403)
    const unknown = await get(app, '/admin/executions/ex_nope', auth('t-read'))
    expect(unknown.status).toBe(404)
    expect((await json(unknown)).error.code).toBe('ERR_EXECUTION_UNKNOWN')
    const bad = await get(app, '/admin/executions?status=done', auth('t-read'))
    expect(bad.status).toBe(400)
    expect((await json(bad)).error.message).toContain('running, completed, failed, cancelled, interrupted')

    // The app-facing router: its requires: [orders] is the app's auth, not the admin's.
    expect((await get(app, `/runs/${hung}`)).status).toBe(401)
    expect((await get(app, `/runs/${hung}`, auth('t-read'))).status).toBe(403)
    const missing = await get(app, '/runs/ex_nope', auth('t-app'))
    expect(missing.status).toBe(404)
    expect((await json(missing)).error.code).toBe('ERR_EXECUTION_UNKNOWN')
    expect((await fetch(`${app.url}/runs/${hung}/cancel`, { headers: auth('t-app') })).status).toBe(405)
  })
})

describe('retention', () => {
  it('prunes ended executions beyond the count in the background, newest kept', async () => {
    const app = await open({ ISLET_EXECUTIONS_MAX_COUNT: '2', ISLET_EXECUTIONS_PRUNE_EVERY: '20ms' })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) ids.push((await post(app, '/quick', { i })).headers.get('x-execution-id')!)
    let listed: any[] = []
    await until(async () => (listed = await json(await get(app, '/admin/executions', auth('t-read')))).length === 2)
    expect(listed.map((e) => e.id)).toEqual([ids[3], ids[2]])
    expect((await get(app, `/runs/${ids[0]}`, auth('t-app'))).status).toBe(404)
  })
})
