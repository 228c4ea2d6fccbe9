// examples/fulfilment end to end, as its README tours it: its fake payment gateway and notification service and a
// real `islet run` process, all on loopback, on a copy of the example (so no data dir lands in the repo). The tests
// run in order over one app, as the tour does: a paid order, a failed one, shipping, then the report.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json } from './support/app.ts'
import { islet, killIslets, spawnIslet, type RunningIslet } from './support/cli.ts'
import { readSse } from './support/executions.ts'
import { until } from './support/until.ts'

const EXAMPLE = join(import.meta.dirname, '..', 'examples', 'fulfilment')
/** Payment attempts take 200 ms, 400 ms, 800 ms of backoff (less jitter); this is for a loaded 2-core machine. */
const PATIENCE = { ms: 30_000, everyMs: 50 }

const dir = mkdtempSync(join(tmpdir(), 'islet-fulfilment-'))
const app = join(dir, 'app')
const running: RunningIslet[] = []
let services: ChildProcess | undefined
let url = ''
let gateway = ''
let sink = ''

/** Starts fake-services.ts on free ports; resolves with the base URLs it prints once both listen. */
async function startServices(): Promise<{ payments: string; notifications: string }> {
  services = spawn(process.execPath, [join(app, 'fake-services.ts')], {
    env: { ...process.env, PAYMENTS_PORT: '0', NOTIFY_PORT: '0', FAIL_FIRST: '2' }, stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<never>((_, reject) => services!.once('exit', (code) => reject(new Error(`fake-services.ts exited (${code})`))))
  const first = new Promise<string>((resolve) => createInterface({ input: services!.stdout! }).once('line', resolve))
  return JSON.parse(await Promise.race([first, exited]))
}

const post = (path: string, body?: unknown) => fetch(`${url}${path}`, {
  method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
})
const getJson = async (base: string, path: string) => json(await fetch(`${base}${path}`))
const order = (id: string) => getJson(url, `/orders/${id}`)

/** Polls until the order has left awaiting-payment; the order as read then. */
async function settled(id: string): Promise<any> {
  let last: any
  await until(async () => (last = await order(id)).state !== 'awaiting-payment', { ...PATIENCE, explain: () => JSON.stringify(last) })
  return last
}

async function notification(id: string, topic: string): Promise<any> {
  let found: any
  await until(async () => {
    found = (await getJson(sink, '/notifications') as any[]).find((n) => n.order === id && n.topic === topic)
    return found !== undefined
  }, PATIENCE)
  return found
}

beforeAll(async () => {
  cpSync(EXAMPLE, app, { recursive: true })
  const urls = await startServices()
  gateway = urls.payments
  sink = urls.notifications
  const run = spawnIslet(['run', join(app, 'app.yaml')], {
    env: { PORT: '0', ISLET_DATA_DIR: join(dir, 'data'), PAYMENTS_URL: gateway, NOTIFY_URL: sink },
  })
  running.push(run)
  // An app that does not start (a component's example failing, say) ends the wait at once, with its stderr.
  const exited = run.exited.then((code) => { throw new Error(`islet run exited (${code}): ${run.stderr()}`) })
  url = String((await Promise.race([run.waitFor((l) => typeof l.url === 'string', 30_000), exited])).url)
})

afterAll(async () => {
  await killIslets(running)
  if (services && services.exitCode === null && services.signalCode === null) {
    const gone = new Promise((resolve) => services!.once('exit', resolve))
    services.kill('SIGKILL')
    await gone
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('examples/fulfilment', () => {
  it('validates clean', () => {
    const r = islet(['validate', join(EXAMPLE, 'app.yaml')])
    expect(r.stdout).toBe('1 file valid, 1 component compiled\n')
    expect(r.status).toBe(0)
  })

  let paid = ''
  it('an order is paid on the third attempt after two 503s: its history, the one charge, the receipt at the sink', async () => {
    const res = await post('/orders', { sku: 'TEA-1', qty: 2, email: 'ada@example.com', card: 'tok_visa' })
    expect(res.status).toBe(201)
    const created = await json(res)
    expect(created).toMatchObject({ state: 'awaiting-payment', total: 9, currency: 'EUR' })
    expect(res.headers.get('location')).toBe(`/orders/${created.id}`)
    paid = created.id

    const done = await settled(paid)
    expect(done).toMatchObject({ state: 'paid', allowed: ['ship'], data: { attempts: 3, chargeId: expect.stringMatching(/^ch_/) } })
    expect(done.history.map((h: any) => [h.from, h.to, h.event])).toEqual([[null, 'awaiting-payment', null], ['awaiting-payment', 'paid', 'paid']])
    // Three attempts reached the gateway under one idempotency key, and only the last one charged.
    expect((await getJson(gateway, '/charges'))[`order-${paid}`]).toEqual({
      attempts: 3, charge: { id: done.data.chargeId, order: paid, amount: 9, currency: 'EUR', attempts: 3 },
    })
    // The receipt component emitted orders.paid; the subscriber's http.request delivered it.
    expect(await notification(paid, 'orders.paid')).toEqual({
      topic: 'orders.paid', source: 'component:receipt', order: paid, to: 'ada@example.com', subject: `Order ${paid} is paid`,
      text: `2 × TEA-1, 9.00 EUR charged (${done.data.chargeId}). We will tell you when it ships.`,
    })
  })

  let failed = ''
  it('a card the gateway always refuses: four attempts, then the dead letters, the order payment-failed, the customer told', async () => {
    const res = await post('/orders', { sku: 'POT-1', qty: 1, email: 'bob@example.com', card: 'tok_broken' })
    expect(res.status).toBe(201)
    failed = (await json(res)).id

    const done = await settled(failed)
    expect(done).toMatchObject({ state: 'payment-failed', terminal: true, allowed: [], data: { reason: 'gateway answered 503', attempts: 4 } })
    let dead: any[] = []
    await until(async () => (dead = (await getJson(url, '/admin/queues/payments/dead')).jobs).length > 0, PATIENCE)
    expect(dead).toEqual([expect.objectContaining({
      state: 'dead', payload: { orderId: failed }, attempts: 4, key: `charge-${failed}`, error: expect.objectContaining({ code: 'ERR_PAYMENT_FAILED' }),
    })])
    expect((await getJson(gateway, '/charges'))[`order-${failed}`]).toEqual({ attempts: 4 })
    expect(await notification(failed, 'orders.payment-failed')).toMatchObject({ to: 'bob@example.com', subject: `We could not take payment for order ${failed}` })
  })

  it('ships the paid order; the failed one cannot be shipped; a bad body is refused field by field', async () => {
    const refused = await post(`/orders/${failed}/ship`)
    expect(refused.status).toBe(409)
    expect((await json(refused)).error).toMatchObject({ code: 'ERR_STATE_TRANSITION_INVALID', details: { state: 'payment-failed', allowed: [] } })

    const shipped = await post(`/orders/${paid}/ship`, { carrier: 'DHL' })
    expect(shipped.status).toBe(200)
    expect(await json(shipped)).toMatchObject({ state: 'shipped', terminal: true, data: { carrier: 'DHL' } })

    // Two fields, two patterns, each checked against its own.
    const bad = await post('/orders', { sku: 'tok_visa', qty: 1, email: 'ada@example.com', card: 'TEA-1' })
    expect(bad.status).toBe(400)
    const error = (await json(bad)).error
    expect(error.code).toBe('ERR_VALIDATION')
    expect(error.details.map((d: any) => d.path)).toEqual(['/sku', '/card'])
  })

  it('reports on demand as a recorded execution with an SSE event stream; the nightly job is armed for 02:00 UTC', async () => {
    const res = await post('/reports')
    expect(res.status).toBe(202)
    const { execution, links } = await json(res)
    expect(res.headers.get('location')).toBe(`/executions/${execution}`)

    const events = await readSse(await fetch(`${url}${links.events}`))
    expect(events[0]!.event).toBe('pipeline.started')
    expect(events.at(-1)).toMatchObject({ event: 'pipeline.completed', data: { status: 'completed' } })
    expect(events.filter((e) => e.event === 'step.completed').map((e) => e.data.step))
      .toEqual(['window', 'clock', 'figures', 'saved', 'sent', 'answer'])

    const figures = { placed: 2, paid: 1, revenue: 9, failed: 1 }
    expect(await getJson(url, `/executions/${execution}`)).toMatchObject({
      status: 'completed', output: { status: 200, body: { source: 'on demand', figures } },
    })
    expect((await getJson(url, '/reports')).reports).toEqual([expect.objectContaining({ source: 'on demand', ...figures })])
    expect(await getJson(sink, '/reports')).toEqual([expect.objectContaining({ source: 'on demand', figures: expect.objectContaining(figures) })])

    const status = await getJson(url, '/admin/status')
    const nightly = status.modules.find((m: any) => m.name === 'nightly')
    expect(nightly.detail.jobs[0]).toMatchObject({ name: 'daily-report', next: [expect.stringMatching(/T02:00:00\.000Z$/), expect.any(String), expect.any(String)] })
  })
})
