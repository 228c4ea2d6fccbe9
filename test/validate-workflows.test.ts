// `islet validate` checks the references between workflow declarations (the plugins' checkApp, sdk/app-check.ts),
// through the real command, in text and `--format json`: each finding at file:line:col with a code and a hint; an
// error where the app cannot work as written (exit 1), a warning where it may be intended (exit 0).
import { describe, expect, it } from 'vitest'
import { isletAsync } from './support/cli.ts'
import { writeFiles } from './support/files.ts'

interface Found { code: string; severity: string; line: number; column: number; hint: string | null; message: string; path?: string; file: string }

/** Validates `yaml` as app.yaml both ways; every JSON diagnostic also printed as `app.yaml:line:col severity CODE`. */
async function validate(yaml: string): Promise<{ status: number | null; found: Found[] }> {
  const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
  try {
    const [text, json] = await Promise.all([isletAsync(['validate', 'app.yaml'], { cwd: dir }), isletAsync(['validate', 'app.yaml', '--format', 'json'], { cwd: dir })])
    expect(json.status).toBe(text.status)
    const found = (JSON.parse(json.stdout) as { diagnostics: Found[] }).diagnostics
    for (const d of found) {
      expect(d.file.endsWith('/app.yaml')).toBe(true)
      expect(text.stdout + text.stderr).toContain(`app.yaml:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`)
      expect(typeof d.hint).toBe('string')
    }
    return { status: text.status, found }
  } finally {
    cleanup()
  }
}

const brief = (d: Found) => `${d.line}:${d.column} ${d.severity} ${d.code}`

const MACHINE = `  - name: orders
    type: state.machine
    config:
      initial: new
      states:
        new: { on: { pay: paid, cancel: cancelled } }
        paid: { on: { ship: shipped } }
        shipped: { terminal: true }
        cancelled: { terminal: true }
`
const QUEUE = `  - name: jobs
    type: queue.sqlite
    config: { consumer: { pipeline: work } }
`
const WORK = `  work:
    steps: [{ type: log, config: { message: job } }]
`

describe('islet validate: references between workflow declarations', () => {
  it('a state step naming an unknown machine: error, and the hint names only state machines', async () => {
    const { status, found } = await validate(`apiVersion: islet/v1
modules:
${MACHINE}${QUEUE}pipelines:
${WORK}  p:
    steps:
      - type: state.get
        config: { machine: ordres, instance: '1' }
      - type: state.transition
        config: { machine: jobz, instance: '1', event: pay }
      - type: enqueue
        config: { queue: order }
`)
    expect(status).toBe(1)
    expect(found.map((d) => [brief(d), d.hint])).toEqual([
      ['21:28 error ERR_CONFIG_UNKNOWN_REFERENCE', "did you mean 'orders'?"],
      // jobz is one edit from the queue jobs, but a transition needs a machine.
      ['23:28 error ERR_CONFIG_UNKNOWN_REFERENCE', 'declared modules that provide state.machine: orders'],
      ['25:26 error ERR_CONFIG_UNKNOWN_REFERENCE', 'declared modules that provide queue.jobs: jobs'],
    ])
  })

  it("state.transition with a literal event its machine does not have: error listing the machine's events", async () => {
    const { status, found } = await validate(`apiVersion: islet/v1
modules:
${MACHINE}pipelines:
  p:
    steps:
      - type: state.transition
        config: { machine: orders, instance: '1', event: pya }
      - type: state.transition
        config: { machine: orders, instance: '1', event: refund }
      - type: state.transition
        config: { machine: orders, instance: '1', event: ship }
      - type: state.transition
        config: { machine: orders, instance: '1', event: '\${{ input.event }}' }
`)
    expect(status).toBe(1)
    expect(found.map((d) => [brief(d), d.path, d.hint])).toEqual([
      ['16:58 error ERR_STATE_EVENT_UNKNOWN', 'pipelines.p.steps.0.config.event', "did you mean 'pay'? events of 'orders': pay, cancel, ship"],
      ['18:58 error ERR_STATE_EVENT_UNKNOWN', 'pipelines.p.steps.1.config.event', "events of 'orders': pay, cancel, ship"],
    ])
    expect(found[1]!.message).toBe("machine 'orders' has no event 'refund': no state of it has a transition on it, so this step could only fail")
  })

  it('an emit step with a literal topic nothing subscribes to: warning, the app stays valid', async () => {
    const { status, found } = await validate(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config: { subscriptions: [{ topic: orders.*, pipeline: on-order }] }
pipelines:
  on-order:
    steps: [{ type: log, config: { message: hi } }]
  p:
    steps:
      - { type: emit, config: { topic: orders.created } }
      - { type: emit, config: { topic: order.created } }
      - { type: emit, config: { topic: 'mail.\${{ input.kind }}' } }
`)
    expect(status).toBe(0)
    expect(found.map((d) => [brief(d), d.path, d.message])).toEqual([
      ['12:40 warning ERR_EVENTS_NO_SUBSCRIBER', 'pipelines.p.steps.1.config.topic', "nothing in this app subscribes to 'order.created': its events are dropped"],
    ])
    expect(found[0]!.hint).toContain('orders.* are subscribed to')
  })

  it('a misspelt topic on either side: the warning names the near one', async () => {
    const { status, found } = await validate(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config: { subscriptions: [{ topic: order.shiped, pipeline: on-order }] }
pipelines:
  on-order:
    steps: [{ type: log, config: { message: hi } }]
  p:
    steps:
      - { type: emit, config: { topic: order.shipped } }
`)
    expect(status).toBe(0)
    expect(found.map((d) => [brief(d), d.hint!.slice(0, d.hint!.indexOf('?') + 1)])).toEqual([
      ['5:40 warning ERR_EVENTS_NO_PUBLISHER', "did you mean 'order.shipped'?"],
      ['11:40 warning ERR_EVENTS_NO_SUBSCRIBER', "did you mean 'order.shiped'?"],
    ])
  })

  it('a component emit grant of a literal topic nothing subscribes to: warning at the grant', async () => {
    const { status, found } = await validate(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config: { subscriptions: [{ topic: prices.changed, pipeline: on-price }] }
pipelines:
  on-price:
    steps: [{ type: log, config: { message: hi } }]
components:
  - slot: pricing
    grants: { emit: [prices.changed, prices.dropped, audit.*] }
`)
    expect(status).toBe(0)
    expect(found.map((d) => [brief(d), d.path])).toEqual([['11:38 warning ERR_EVENTS_NO_SUBSCRIBER', 'components.0.grants.emit.1']])
  })

  it('a subscription nothing can publish to: warning; emit steps, grants, queues\' dead letters and engine topics feed one', async () => {
    const { status, found } = await validate(`apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: orders.*, pipeline: log }
        - { topic: mail.sent, pipeline: log }
        - { topic: islet.config.*, pipeline: log }
        - { topic: prices.changed, pipeline: log }
        - { topic: invoices.*, pipeline: log }
        - { topic: queue.payments.dead, pipeline: log }
  - name: payments
    type: queue.sqlite
    config: { consumer: { pipeline: log } }
pipelines:
  log:
    steps: [{ type: log, config: { message: hi } }]
  p:
    steps:
      - { type: emit, config: { topic: 'orders.\${{ input.status }}' } }
components:
  - slot: pricing
    grants: { emit: [prices.*] }
`)
    expect(status).toBe(0)
    expect(found.map((d) => [brief(d), d.path])).toEqual([
      ['8:20 warning ERR_EVENTS_NO_PUBLISHER', 'modules.0.config.subscriptions.1.topic'],
      ['11:20 warning ERR_EVENTS_NO_PUBLISHER', 'modules.0.config.subscriptions.4.topic'],
    ])
    expect(found[0]!.hint).toContain('topics this app publishes: orders.*, prices.*')
  })

  it('an enqueue step or durable subscription to a queue without a consumer: warning at each', async () => {
    const { status, found } = await validate(`apiVersion: islet/v1
modules:
${QUEUE}  - name: outbox
    type: queue.sqlite
  - name: subs
    type: events.subscriber
    config: { subscriptions: [{ topic: mail.*, durable: { queue: outbox } }, { topic: orders.*, durable: { queue: jobs } }] }
pipelines:
${WORK}  p:
    steps:
      - { type: enqueue, config: { queue: outbox } }
      - { type: enqueue, config: { queue: jobs } }
      - { type: emit, config: { topic: mail.sent } }
      - { type: emit, config: { topic: orders.paid } }
`)
    expect(status).toBe(0)
    expect(found.map((d) => [brief(d), d.path])).toEqual([
      ['10:66 warning ERR_QUEUE_NO_CONSUMER', 'modules.2.config.subscriptions.0.durable.queue'],
      ['16:43 warning ERR_QUEUE_NO_CONSUMER', 'pipelines.p.steps.0.config.queue'],
    ])
    expect(found[1]!.hint).toBe("give module 'outbox' (app.yaml:6) a consumer: { pipeline: <name> }, unless another app on this data directory consumes it")
  })
})
