// A machine's own pipelines may use the state steps on that machine: an onEnter that moves another instance of it
// (a child paid → its parent ready). The steps reach the machine at their first run, not while the machine that
// compiles those pipelines is itself being created (the app used to fail to start: "module 'orders' is not started").
import { afterEach, describe, expect, it } from 'vitest'
import { json, startApp, type TestApp } from './support/app.ts'

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
