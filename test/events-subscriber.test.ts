// events.subscriber and the emit step: pipelines run for bus events whose topics match (orders.*), what the emit
// step and components' emit publish reaches them, each subscription with its own concurrency, queue bound and error
// policy, durable subscriptions through a queue (queue.jobs contract), and bad topics refused at file:line:col.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defineModuleType, definePlugin, isRecord, type Plugin } from '@islet/sdk'
import { loadConfig } from '../runtime/config/load.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { jobQueue, type JobQueue } from '../plugins/queue/contract.ts'
import type { Subscriber, SubscriptionStatus } from '../plugins/events/index.ts'
import { editConfig, json, openTestApp, writeFiles, type OpenedApp } from './support/app.ts'
import { until } from './support/until.ts'
import { probePlugin } from './support/probe-plugin.ts'

const statusOf = (opened: OpenedApp, module = 'subs'): SubscriptionStatus[] => opened.engine.module<Subscriber>(module).status().subscriptions

const server = `  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /emit/:topic, pipeline: publish }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
`
const publishPipeline = `  publish:
    steps:
      - name: sent
        type: emit
        config: { topic: '\${{ params.topic }}', payload: '\${{ body }}' }
      - type: respond
        config: { body: '\${{ steps.sent }}' }
`

let opened: OpenedApp | undefined
afterEach(async () => {
  await opened?.close()
  opened = undefined
})

async function post(topic: string, body: unknown) {
  const res = await fetch(`${opened!.url()}/emit/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await json(res) }
}

describe('events.subscriber', () => {
  it('runs its pipeline for each event an emit step publishes under a matching topic, with the payload as input and topic, source, at as meta', async () => {
    const probe = probePlugin()
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.*, pipeline: on-order }
${server}pipelines:
  on-order:
    steps: [{ type: probe.record }]
${publishPipeline}` }, { plugins: [probe.plugin] })
    await opened.started
    expect(await post('orders.created', { id: 1 })).toEqual({ status: 200, body: { topic: 'orders.created' } })
    await post('ordersx.created', { id: 2 }) // not under orders.
    await post('orders', { id: 3 }) // orders.* is the subtree below orders, not orders itself
    await post('orders.paid.late', { id: 4 })
    // A topic computed per run that is no topic fails that run (a 500 to the HTTP caller), and nothing is published.
    expect(await post('Orders.Created', { id: 5 })).toMatchObject({ status: 500 })
    const failed = opened.logs.filter((l) => Number(l.level) >= 50).map((l) => (l.err as { message: string }).message)
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatch(/^step 'sent' of pipeline 'publish' failed: 'Orders.Created' is not a topic \(an emitted topic is dotted segments/)
    await until(() => statusOf(opened!)[0]!.delivered === 2)
    expect(probe.seen.map((s) => s.input)).toEqual([{ id: 1 }, { id: 4 }])
    expect(probe.seen[0]!.meta).toMatchObject({ topic: 'orders.created', source: 'step:publish/sent', subscription: 'orders.*', attempt: 1 })
    expect(Date.parse(String(probe.seen[0]!.meta.at))).not.toBeNaN()
    expect(statusOf(opened)).toEqual([{ topic: 'orders.*', pipeline: 'on-order', delivered: 2, failed: 0, dropped: 0, retried: 0, inFlight: 0, queued: 0 }])
    // The same detail shows in the engine's status (GET /admin/status: modules[].detail).
    const subs = (opened.engine.status() as unknown as { modules: { name: string; detail: unknown }[] }).modules.find((m) => m.name === 'subs')
    expect(subs?.detail).toEqual({ subscriptions: statusOf(opened) })
  })

  it('a log step in a subscriber run writes each key once (the run logger does not repeat the step\'s pipeline)', async () => {
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.*, pipeline: on-order }
${server}pipelines:
  on-order:
    steps: [{ type: log, config: { message: 'order \${{ input.id }} seen' } }]
${publishPipeline}` })
    await opened.started
    await post('orders.created', { id: 7 })
    await until(() => opened!.rawLogs.some((l) => l.includes('order 7 seen')))
    const line = opened.rawLogs.find((l) => l.includes('order 7 seen'))!
    expect(line.match(/"pipeline":/g)).toHaveLength(1)
    expect(JSON.parse(line)).toMatchObject({ pipeline: 'on-order', subscription: 'orders.*', topic: 'orders.created', msg: 'order 7 seen' })
  })

  it("a component's emit reaches a subscriber pipeline", async () => {
    const probe = probePlugin()
    opened = await openTestApp({
      'components/announce.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent<unknown, { id: number }, { ok: boolean }>({
  name: 'announce',
  input: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
  examples: [{ input: { id: 1 }, output: { ok: true } }],
  async execute({ id }, ctx) {
    await ctx.emit('orders.announced', { id, by: 'component' })
    return { ok: true }
  },
})
`,
      'app.yaml': `apiVersion: islet/v1
components:
  - file: ./components/announce.ts
    grants: { emit: [orders.*] }
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.announced, pipeline: on-announced }
  - name: api
    type: http.router
    config: { routes: [{ method: POST, path: /announce, pipeline: announce }] }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  announce:
    steps:
      - { type: component, config: { component: announce } }
  on-announced:
    steps: [{ type: probe.record }]
`,
    }, { plugins: [probe.plugin] })
    await opened.started
    const res = await fetch(`${opened.url()}/announce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":7}' })
    expect(await json(res)).toEqual({ ok: true })
    await until(() => probe.seen.length === 1)
    expect(probe.seen[0]).toMatchObject({ input: { id: 7, by: 'component' }, meta: { topic: 'orders.announced', source: 'component:announce' } })
  }, 30_000)

  it('bounds each subscription: concurrency runs at once, maxQueued wait, the rest are dropped and counted; a held subscription never holds up another', async () => {
    const probe = probePlugin()
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: jobs.*, pipeline: slow, concurrency: 2, maxQueued: 1 }
        - { topic: jobs.*, pipeline: fast }
${server}pipelines:
  slow:
    steps: [{ type: probe.gate }]
  fast:
    steps: [{ type: probe.record }]
${publishPipeline}` }, { plugins: [probe.plugin] })
    await opened.started
    for (let i = 1; i <= 5; i++) await post('jobs.run', { i })
    await until(() => statusOf(opened!)[0]!.dropped === 2 && statusOf(opened!)[1]!.delivered === 5)
    expect(statusOf(opened)[0]).toMatchObject({ inFlight: 2, queued: 1, dropped: 2, delivered: 0 })
    expect(probe.seen.map((s) => s.input)).toEqual([1, 2, 3, 4, 5].map((i) => ({ i })))
    probe.release()
    await until(() => statusOf(opened!)[0]!.delivered === 3)
    expect(statusOf(opened)[0]).toMatchObject({ inFlight: 0, queued: 0, dropped: 2, delivered: 3, failed: 0 })
    expect(probe.gate.peak).toBe(2)
    expect(opened.logs.filter((l) => String(l.msg).startsWith('subscription full')).length).toBe(1)
  })

  it('stopping aborts the runs in flight and drops what waits, saying how many (in-process delivery is at most once)', async () => {
    const probe = probePlugin()
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: jobs.*, pipeline: slow, maxQueued: 5 }
${server}pipelines:
  slow:
    steps: [{ type: probe.gate }]
${publishPipeline}` }, { plugins: [probe.plugin] })
    await opened.started
    for (let i = 1; i <= 3; i++) await post('jobs.run', { i })
    await until(() => statusOf(opened!)[0]!.queued === 2)
    const logs = opened.logs
    await opened.close()
    opened = undefined
    expect(probe.gate.inside).toBe(0)
    expect(logs.some((l) => l.msg === 'stopping: 2 queued event(s) not delivered')).toBe(true)
    expect(logs.some((l) => String(l.msg).startsWith("event 'jobs.run' failed after 1 attempt(s)"))).toBe(true)
  })

  it('a reload that replaces the subscriber hands its subscriptions over: an event published while the old one drains is delivered once', async () => {
    const probe = probePlugin()
    const held = { stopping: false, release: () => {} }
    // A module whose first instance stops when told, after the subscriber in start order: while it stops, the old
    // subscriber still exists.
    const slowStop = definePlugin({ name: 'slowstop', version: '1.0.0', moduleTypes: [defineModuleType({
      type: 'slowstop.module', configSchema: { type: 'object' },
      create: () => ({ stop: () => (held.stopping ? undefined : new Promise<void>((done) => { held.stopping = true; held.release = done })) }),
    })] })
    const yaml = (concurrency: number) => `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.*, pipeline: on-order, concurrency: ${concurrency} }
  - name: holder
    type: slowstop.module
    dependsOn: [subs]
    config: { v: ${concurrency} }
${server}pipelines:
  on-order:
    steps: [{ type: probe.record }]
${publishPipeline}`
    const plugins = [probe.plugin, slowStop]
    opened = await openTestApp({ 'app.yaml': yaml(1) }, { plugins })
    await opened.started
    const reloading = opened.engine.reload(await editConfig(opened, yaml(2), plugins))
    await until(() => held.stopping)
    await post('orders.created', { during: 'drain' })
    await until(() => probe.seen.length >= 1)
    held.release()
    expect((await reloading).ok).toBe(true) // the old subscriber has stopped: whatever it would deliver, it has
    expect(probe.seen).toHaveLength(1)
    await post('orders.created', { after: 'reload' })
    await until(() => probe.seen.length === 2)
    expect(probe.seen.map((s) => s.input)).toEqual([{ during: 'drain' }, { after: 'reload' }])
    expect(statusOf(opened)[0]).toMatchObject({ delivered: 2 })
  })

  it('onError: retry runs a failing event again with meta.attempt counting up; onError: log counts the failure once', async () => {
    const probe = probePlugin()
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: pay.due, pipeline: flaky, onError: retry, retry: { attempts: 3, backoffMs: 1 } }
        - { topic: pay.due, pipeline: flaky }
${server}pipelines:
  flaky:
    steps:
      - type: probe.record
      - if: \${{ meta.attempt < 3 }}
        then: [{ type: fail, config: { status: 503, code: ERR_DOWNSTREAM, message: 'not yet' } }]
${publishPipeline}` }, { plugins: [probe.plugin] })
    await opened.started
    await post('pay.due', { n: 1 })
    await until(() => statusOf(opened!)[0]!.delivered === 1 && statusOf(opened!)[1]!.failed === 1)
    expect(statusOf(opened).map((s) => [s.delivered, s.failed, s.retried])).toEqual([[1, 0, 2], [0, 1, 0]])
    expect(probe.seen.map((s) => [s.meta.subscription, s.meta.attempt]).sort()).toEqual([['pay.due', 1], ['pay.due', 1], ['pay.due', 2], ['pay.due', 3]])
    expect(opened.logs.some((l) => l.level === 50 && String(l.msg).includes("event 'pay.due' failed after 1 attempt(s)"))).toBe(true)
  })

  it('a run that answers an error status (a respond step) failed: retried under onError: retry, counted failed and logged under log', async () => {
    const probe = probePlugin()
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: pay.due, pipeline: answers, onError: retry, retry: { attempts: 3, backoffMs: 1 } }
        - { topic: pay.due, pipeline: answers }
${server}pipelines:
  answers:
    steps:
      - type: probe.record
      - if: \${{ meta.attempt < 3 }}
        then: [{ type: respond, config: { status: 503, body: { error: { code: ERR_DOWNSTREAM, message: not yet } } } }]
      - type: respond
        config: { status: 202, body: { ok: true } }
${publishPipeline}` }, { plugins: [probe.plugin] })
    await opened.started
    await post('pay.due', { n: 1 })
    await until(() => statusOf(opened!).every((s) => s.delivered + s.failed === 1))
    expect(statusOf(opened).map((s) => [s.delivered, s.failed, s.retried])).toEqual([[1, 0, 2], [0, 1, 0]])
    expect(probe.seen.map((s) => s.meta.attempt).sort()).toEqual([1, 1, 2, 3])
    const failure = opened.logs.find((l) => l.level === 50 && String(l.msg).includes("event 'pay.due' failed after 1 attempt(s)"))
    expect(failure?.err).toMatchObject({ code: 'ERR_EVENTS_RUN_FAILED', details: { status: 503, answered: 'ERR_DOWNSTREAM' } })
  })

  it('a run refused with a 4xx (but 408, 429) is not retried: the event itself is wrong', async () => {
    const probe = probePlugin()
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: pay.due, pipeline: answers, onError: retry, retry: { attempts: 3, backoffMs: 1 } }
        - { topic: pay.due, pipeline: refuses, onError: retry, retry: { attempts: 3, backoffMs: 1 } }
        - { topic: pay.due, pipeline: throttled, onError: retry, retry: { attempts: 2, backoffMs: 1 } }
${server}pipelines:
  answers:
    steps:
      - type: probe.record
      - type: respond
        config: { status: 422, body: { error: { code: ERR_BAD_EVENT, message: no amount } } }
  refuses:
    steps:
      - type: probe.record
      - type: fail
        config: { status: 404, code: ERR_NO_ORDER, message: no such order }
  throttled:
    steps:
      - type: probe.record
      - type: fail
        config: { status: 429, code: ERR_SLOW_DOWN, message: later }
${publishPipeline}` }, { plugins: [probe.plugin] })
    await opened.started
    await post('pay.due', { n: 1 })
    await until(() => statusOf(opened!).every((s) => s.failed === 1))
    expect(statusOf(opened).map((s) => [s.pipeline, s.failed, s.retried])).toEqual([['answers', 1, 0], ['refuses', 1, 0], ['throttled', 1, 1]])
    expect(probe.seen.map((s) => s.meta.attempt)).toHaveLength(4)
  })

  it('durable: each event is enqueued (whole: topic, source, at, payload) on the queue module instead of run here', async () => {
    const jobs: { payload: unknown }[] = []
    // Test-only stand-in for queue.sqlite: provides the queue.jobs contract over an in-memory list.
    const memoryQueue: Plugin = definePlugin({ name: 'memq', version: '1.0.0', moduleTypes: [defineModuleType<object, JobQueue>({
      type: 'memq.queue', provides: [jobQueue], configSchema: { type: 'object' },
      create: (_config, ctx) => ({ name: ctx.name, enqueue: async (payload) => ({ id: String(jobs.push({ payload })), deduped: false }) }),
    })] })
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: jobs
    type: memq.queue
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: mail.*, durable: { queue: jobs } }
${server}pipelines:
${publishPipeline}` }, { plugins: [memoryQueue] })
    await opened.started
    await post('mail.send', { to: 'a@example.com' })
    await until(() => statusOf(opened!)[0]!.delivered === 1)
    expect(statusOf(opened)[0]).toMatchObject({ topic: 'mail.*', queue: 'jobs', delivered: 1 })
    expect(jobs).toHaveLength(1)
    expect(jobs[0]!.payload).toMatchObject({ topic: 'mail.send', source: 'step:publish/sent', subscription: 'mail.*', payload: { to: 'a@example.com' } })
    expect(String((jobs[0]!.payload as { id: string }).id)).toMatch(/^evt-/)
  })
})

describe('events config checks (islet validate)', () => {
  async function diagnosticsOf(yaml: string, plugins: Plugin[] = []) {
    const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
    try {
      const registry = createBuiltinRegistry()
      for (const p of plugins) registry.register(p)
      return (await loadConfig(join(dir, 'app.yaml'), { registry, env: {} })).diagnostics
    } finally {
      cleanup()
    }
  }

  it('refuses a bad topic pattern, an unknown pipeline, a subscription with neither pipeline nor queue, and a literal emit topic that is no topic, each at file:line:col', async () => {
    const diagnostics = await diagnosticsOf(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.cre*, pipeline: p }
        - { topic: Orders.Created, pipeline: p }
        - { topic: orders.*, pipeline: on-ordr }
        - { topic: orders.* }
pipelines:
  p:
    steps:
      - { type: emit, config: { topic: islet.config.reloaded } }
      - { type: emit, config: { topic: 'orders.*' } }
  on-order:
    steps: [{ type: log, config: { message: hi } }]
`)
    const shown = diagnostics.map((d) => ({ code: d.code, line: d.line, col: d.col, message: d.message, hint: d.hint }))
    expect(shown).toEqual(expect.arrayContaining([
      expect.objectContaining({ code: 'ERR_CONFIG_MODULE_CHECK', line: 7, col: 20, message: "'orders.cre*' is not a topic pattern", hint: expect.stringContaining('orders.*') }),
      expect.objectContaining({ code: 'ERR_CONFIG_MODULE_CHECK', line: 8, col: 20, hint: expect.stringContaining('lower case') }),
      expect.objectContaining({ code: 'ERR_CONFIG_MODULE_CHECK', line: 10, message: "subscription to 'orders.*' names neither a pipeline nor a durable queue" }),
      expect.objectContaining({ code: 'ERR_CONFIG_STEP_CHECK', line: 14, message: expect.stringContaining("under islet.*") }),
      expect.objectContaining({ code: 'ERR_CONFIG_STEP_CHECK', line: 15, message: "'orders.*' is not a topic" }),
    ]))
    const unknown = await diagnosticsOf(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.*, pipeline: on-ordr }
pipelines:
  on-order:
    steps: [{ type: log, config: { message: hi } }]
`)
    // Errors only: nothing here publishes to orders.*, which validate also warns about (validate-workflows.test.ts).
    expect(unknown.filter((d) => d.severity === 'error')).toMatchObject([{ code: 'ERR_CONFIG_UNKNOWN_REFERENCE', line: 7, col: 40, hint: expect.stringContaining('on-order') }])
  })

  it('refuses a retry backoff longer than a day, which a timer could not wait (it would retry at once)', async () => {
    const diagnostics = await diagnosticsOf(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.*, pipeline: p, onError: retry, retry: { backoffMs: 1000, maxBackoffMs: 3000000000 } }
pipelines:
  p:
    steps: [{ type: log, config: { message: hi } }]
`)
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_SCHEMA', line: 7, col: 99, message: expect.stringContaining('86400000') }])
  })

  it("a pipeline only events run that reads HTTP's body is refused, pointing to input", async () => {
    const diagnostics = await diagnosticsOf(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config: { subscriptions: [{ topic: a.b, pipeline: p }] }
pipelines:
  p:
    steps: [{ type: log, config: { message: '\${{ body.id }}' } }]
`)
    expect(diagnostics.filter((d) => d.severity === 'error')).toMatchObject([{ code: 'ERR_CONFIG_TRIGGER_VARIABLE', line: 8, hint: expect.stringContaining('input') }])
    expect(isRecord(diagnostics[0])).toBe(true)
  })
})
