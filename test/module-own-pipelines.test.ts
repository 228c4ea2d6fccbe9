// A module's own pipelines may use steps on that module: a state machine's onEnter moving another instance of it (a
// child paid → its parent ready), a queue's consumer enqueueing follow-up jobs on its own queue. Those pipelines are
// compiled before the module is created; their steps reach it at first use (the app used to fail to start:
// "module 'orders' is not started").
import { afterEach, describe, expect, it } from 'vitest'
import { json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'

const APP = `apiVersion: islet/v1
modules:
  - name: orders
    type: state.machine
    config:
      initial: new
      states:
        new: { on: { pay: paid, wait: waiting } }
        waiting: { on: { childPaid: ready } }
        paid: { onEnter: tell-parent }
        ready: { terminal: true }
  - name: web
    type: http.server
    config: { port: 0, host: 127.0.0.1, routers: [orders] }
pipelines:
  tell-parent:
    steps:
      - name: parent
        type: state.get
        config: { machine: orders, instance: parent }
      - type: state.transition
        config: { machine: orders, instance: parent, event: childPaid, payload: { child: '\${{ meta.instance }}' } }
`

let t: TestApp | undefined
afterEach(async () => { await t?.close(); t = undefined })

const post = (path: string, body?: unknown) => fetch(`${t!.url}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
})

const QUEUE_APP = `apiVersion: islet/v1
modules:
  - name: jobs
    type: queue.sqlite
    config:
      consumer: { pipeline: countdown }
  - name: api
    type: http.router
    config: { routes: [{ method: POST, path: /jobs, pipeline: submit }] }
  - name: web
    type: http.server
    config: { port: 0, host: 127.0.0.1, routers: [api] }
pipelines:
  submit:
    steps:
      - type: enqueue
        config: { queue: jobs, payload: { n: 3 } }
  countdown:
    steps:
      - type: log
        config: { message: 'countdown \${{ input.n }}' }
      - if: \${{ input.n > 0 }}
        then:
          - type: enqueue
            config: { queue: jobs, payload: { n: '\${{ input.n - 1 }}' } }
`

describe('a queue whose consumer enqueues on its own queue', () => {
  it('starts, and each job enqueues the next', async () => {
    t = await startApp({ 'app.yaml': QUEUE_APP })
    expect((await post('/jobs')).status).toBe(200)
    await until(() => t!.logs.some((l) => l.msg === 'countdown 0'))
    expect(t.logs.filter((l) => String(l.msg).startsWith('countdown ')).map((l) => l.msg)).toEqual(['countdown 3', 'countdown 2', 'countdown 1', 'countdown 0'])
  })
})

describe('a state machine whose own pipelines use its state steps', () => {
  it('starts, and an onEnter moves another instance of the same machine', async () => {
    t = await startApp({ 'app.yaml': APP })
    expect((await post('/orders', { id: 'parent' })).status).toBe(201)
    expect((await post('/orders/parent/wait')).status).toBe(200)
    expect((await post('/orders', { id: 'child' })).status).toBe(201)
    const paid = await post('/orders/child/pay')
    expect(paid.status).toBe(200)
    expect(await json(paid)).toMatchObject({ id: 'child', state: 'paid' })
    const parent = await json(await fetch(`${t.url}/orders/parent`))
    expect(parent).toMatchObject({ state: 'ready', terminal: true })
  })
})
