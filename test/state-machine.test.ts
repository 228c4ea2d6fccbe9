// state.machine end to end: a real engine, real loopback HTTP, the real state.db. Transitions on one instance are
// serialised (50 at once: each in the history exactly once, the version counts them), an invalid event is a 409 that
// lists the allowed ones, guards decide with the instance's data, the payload and the caller, and an action that
// fails leaves the instance where it was.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SignJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFiles } from './support/files.ts'
import { json } from './support/app.ts'
import { startStateApp, type StateApp } from './support/state-app.ts'
import type { StateMachineModule } from '../plugins/state/index.ts'

const SECRET = 'state-machine-test-secret-0123456789abcdef'

const APP = `apiVersion: islet/v1
modules:
  - name: jwt
    type: auth.jwt
    config: { secret: '${SECRET}', optional: true }
  - name: audit
    type: storage.sqlite
    config: { file: audit.db, migrations: ./migrations }
  - name: orders
    type: state.machine
    config:
      initial: new
      http: { prefix: /orders }
      states:
        new:
          on:
            pay:
              to: paid
              guard: \${{ payload.amount >= data.total && principal.subject != 'mallory' }}
              action: charge
              set: { paidWith: '\${{ payload.method }}' }
            cancel: cancelled
            note: new
        paid:
          onEnter: entered
          on: { ship: shipped }
        shipped: { terminal: true }
        cancelled: { terminal: true }
  - name: tickets
    type: state.machine
    config:
      initial: open
      http: { requires: ['tickets:write'] }
      states:
        open:
          on:
            close: closed
            triage: [{ to: urgent, guard: '\${{ payload.level >= 3 }}' }, { to: open }]
        urgent: { on: { close: closed } }
        closed: { terminal: true }
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /step/:id/:event, pipeline: by-step }
        - { method: POST, path: /make, pipeline: make }
        - { method: GET, path: /peek/:id, pipeline: peek }
  - name: web
    type: http.server
    config: { port: 0, middleware: [jwt], routers: [orders, tickets, api] }
pipelines:
  charge:
    steps:
      - type: sql.exec
        config:
          db: audit
          sql: INSERT INTO calls (kind, machine, instance, from_state, to_state, event, method) VALUES ('charge', :m, :i, :f, :t, :e, :method)
          params: { m: '\${{ meta.machine }}', i: '\${{ meta.instance }}', f: '\${{ meta.from }}', t: '\${{ meta.to }}', e: '\${{ meta.event }}', method: '\${{ input.method }}' }
      - if: \${{ input.method == 'bounced-card' }}
        then:
          - type: fail
            config: { status: 402, code: ERR_PAYMENT_DECLINED, message: 'the card was declined' }
  entered:
    steps:
      - type: sql.exec
        config:
          db: audit
          sql: INSERT INTO calls (kind, machine, instance, from_state, to_state, event, method) VALUES ('enter', :m, :i, :f, :t, :e, :who)
          params: { m: '\${{ meta.machine }}', i: '\${{ meta.instance }}', f: '\${{ meta.from }}', t: '\${{ meta.to }}', e: '\${{ meta.event }}', who: '\${{ principal.subject }}' }
  make:
    steps:
      - name: made
        type: state.create
        config: { machine: orders, id: '\${{ body.ref }}', data: { total: '\${{ body.total }}' } }
      - type: respond
        config: { status: 201, body: { id: '\${{ steps.made.id }}', state: '\${{ steps.made.state }}' } }
  peek:
    steps:
      - name: seen
        type: state.get
        config: { machine: orders, instance: '\${{ params.id }}', history: true }
      - type: respond
        config: { body: { state: '\${{ steps.seen.state }}', total: '\${{ steps.seen.data.total }}', entries: '\${{ length(steps.seen.history) }}' } }
  by-step:
    steps:
      - type: state.transition
        config: { machine: orders, instance: '\${{ params.id }}', event: '\${{ params.event }}', payload: '\${{ body }}' }
`

const MIGRATION = `CREATE TABLE calls (kind TEXT, machine TEXT, instance TEXT, from_state TEXT, to_state TEXT, event TEXT, method TEXT);`

let app: StateApp
let dir: string
let cleanup: () => void

beforeEach(async () => {
  ({ dir, cleanup } = writeFiles({ 'app.yaml': APP, 'migrations/001_calls.sql': MIGRATION }))
  app = await startStateApp(dir)
})
afterEach(async () => {
  await app.stop()
  cleanup()
})

const token = (sub: string, scope?: string) => new SignJWT({ sub, ...(scope ? { scope } : {}) }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET))

async function call(method: string, path: string, body?: unknown, as?: string, scope?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (as) headers.authorization = `Bearer ${await token(as, scope)}`
  const res = await fetch(`${app.url()}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  return { status: res.status, body: res.status === 204 ? undefined : await json(res) }
}

function auditRows(): Record<string, unknown>[] {
  const db = new Database(join(dir, 'data', 'audit.db'), { readonly: true })
  try {
    return db.prepare('SELECT * FROM calls ORDER BY rowid').all() as Record<string, unknown>[]
  } finally {
    db.close()
  }
}

describe('state.machine over HTTP', () => {
  it('creates, reads with history, lists with a state filter, and transitions through its routes', async () => {
    const created = await call('POST', '/orders', { id: 'o-1', data: { total: 30 } }, 'alice')
    expect(created).toMatchObject({ status: 201, body: { machine: 'orders', id: 'o-1', state: 'new', version: 0, data: { total: 30 }, allowed: ['pay', 'cancel', 'note'] } })
    expect((await call('POST', '/orders', { id: 'o-2', data: { total: 5 } })).status).toBe(201)

    const paid = await call('POST', '/orders/o-1/pay', { amount: 30, method: 'card' }, 'alice')
    expect(paid).toMatchObject({ status: 200, body: { state: 'paid', version: 1, data: { total: 30, paidWith: 'card' }, allowed: ['ship'] } })

    const read = await call('GET', '/orders/o-1')
    expect(read.status).toBe(200)
    expect(read.body.history).toMatchObject([
      { version: 0, from: null, to: 'new', event: null, payload: { total: 30 }, who: 'alice' },
      { version: 1, from: 'new', to: 'paid', event: 'pay', payload: { amount: 30, method: 'card' }, who: 'alice' },
    ])
    expect(Date.parse(read.body.history[1].at)).not.toBeNaN()

    expect((await call('GET', '/orders?state=paid')).body.instances.map((i: { id: string }) => i.id)).toEqual(['o-1'])
    expect((await call('GET', '/orders')).body.instances.map((i: { id: string }) => i.id)).toEqual(['o-1', 'o-2'])
    expect((await call('GET', '/orders?limit=1&offset=1')).body.instances.map((i: { id: string }) => i.id)).toEqual(['o-2'])
    expect(await call('GET', '/orders?sort=id')).toMatchObject({ status: 400, body: { error: { code: 'ERR_STATE_BAD_REQUEST' } } })
    expect(await call('GET', '/orders?state=payed')).toMatchObject({ status: 400, body: { error: { code: 'ERR_STATE_BAD_REQUEST' } } })

    // The action and the on-enter pipeline ran with the transition's facts as meta and the payload as input.
    expect(auditRows()).toEqual([
      { kind: 'charge', machine: 'orders', instance: 'o-1', from_state: 'new', to_state: 'paid', event: 'pay', method: 'card' },
      { kind: 'enter', machine: 'orders', instance: 'o-1', from_state: 'new', to_state: 'paid', event: 'pay', method: 'alice' },
    ])
  })

  it('an unknown instance is 404; an event the state has no transition for is 409 listing the allowed events; a terminal state allows none', async () => {
    expect(await call('GET', '/orders/nope')).toMatchObject({ status: 404, body: { error: { code: 'ERR_STATE_INSTANCE_NOT_FOUND' } } })
    expect(await call('POST', '/orders/nope/pay', {})).toMatchObject({ status: 404, body: { error: { code: 'ERR_STATE_INSTANCE_NOT_FOUND' } } })
    await call('POST', '/orders', { id: 'o-3', data: { total: 1 } })

    const invalid = await call('POST', '/orders/o-3/ship', {})
    expect(invalid.status).toBe(409)
    expect(invalid.body.error).toMatchObject({ code: 'ERR_STATE_TRANSITION_INVALID', details: { state: 'new', event: 'ship', allowed: ['pay', 'cancel', 'note'] } })
    expect(invalid.body.error.message).toContain("state 'new' has no transition for 'ship'; allowed: pay, cancel, note")

    expect((await call('POST', '/orders/o-3/cancel')).body).toMatchObject({ state: 'cancelled', terminal: true, allowed: [] })
    const terminal = await call('POST', '/orders/o-3/pay', { amount: 1 })
    expect(terminal.status).toBe(409)
    expect(terminal.body.error).toMatchObject({ code: 'ERR_STATE_TRANSITION_INVALID', details: { state: 'cancelled', allowed: [], terminal: true } })
    expect(await call('POST', '/orders', { id: 'o-3' })).toMatchObject({ status: 409, body: { error: { code: 'ERR_STATE_INSTANCE_EXISTS' } } })
    // The same refusals through the state.transition step of an ordinary route.
    expect((await call('POST', '/step/o-3/pay', { amount: 1 })).body.error).toMatchObject({ code: 'ERR_STATE_TRANSITION_INVALID', details: { allowed: [] } })
  })

  it('a guard reads the instance data, the payload and the principal; one that does not pass commits nothing', async () => {
    await call('POST', '/orders', { id: 'o-4', data: { total: 50 } })
    const short = await call('POST', '/orders/o-4/pay', { amount: 49, method: 'card' }, 'alice')
    expect(short).toMatchObject({ status: 409, body: { error: { code: 'ERR_STATE_GUARD_REJECTED', details: { state: 'new', event: 'pay' } } } })
    const mallory = await call('POST', '/orders/o-4/pay', { amount: 50, method: 'card' }, 'mallory')
    expect(mallory.body.error.code).toBe('ERR_STATE_GUARD_REJECTED')
    const read = await call('GET', '/orders/o-4')
    expect(read.body).toMatchObject({ state: 'new', version: 0 })
    expect(read.body.history).toHaveLength(1)
    // Refused before the action: it never ran.
    expect(auditRows()).toEqual([])
    expect((await call('POST', '/step/o-4/pay', { amount: 50, method: 'card' }, 'bob')).body).toMatchObject({ state: 'paid', version: 1 })
    expect((await call('GET', '/orders/o-4')).body.history[1]).toMatchObject({ who: 'bob', event: 'pay' })
  })

  it('an action that fails leaves the instance where it was (no history, same version) and the caller gets its error; a retry that succeeds commits', async () => {
    await call('POST', '/orders', { id: 'o-5', data: { total: 10 } })
    const declined = await call('POST', '/orders/o-5/pay', { amount: 10, method: 'bounced-card' }, 'alice')
    expect(declined.status).toBe(402)
    expect(declined.body.error.code).toBe('ERR_PAYMENT_DECLINED')
    expect(declined.body.error.message).toContain('the transition was not committed')
    const after = await call('GET', '/orders/o-5')
    expect(after.body).toMatchObject({ state: 'new', version: 0, data: { total: 10 } })
    expect(after.body.history).toHaveLength(1)
    // The action ran (its own write stands); the on-enter of 'paid' did not.
    expect(auditRows().map((r) => r.kind)).toEqual(['charge'])

    expect((await call('POST', '/orders/o-5/pay', { amount: 10, method: 'card' }, 'alice')).body).toMatchObject({ state: 'paid', version: 1, data: { paidWith: 'card' } })
    expect(auditRows().map((r) => r.kind)).toEqual(['charge', 'charge', 'enter'])
  })

  it('50 concurrent transitions on one instance are serialised: each is in the history exactly once and the final version is 50', async () => {
    await call('POST', '/orders', { id: 'busy', data: { total: 1 } })
    const orders = app.engine.module<StateMachineModule>('orders')
    // Started in one turn: without serialisation each would read version 0 and commit over the others.
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => orders.transition('busy', 'note', { payload: { n } })))
    // Every answer saw its own version: no two transitions committed from the same one.
    expect(answers.map((a) => a.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    const read = await call('GET', '/orders/busy')
    expect(read.body.version).toBe(50)
    const notes = read.body.history.slice(1) as { version: number; payload: { n: number } }[]
    expect(notes.map((h) => h.version)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(notes.map((h) => h.payload.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('state.create and state.get steps create and read instances from an ordinary pipeline', async () => {
    expect(await call('POST', '/make', { ref: 'm-1', total: 12 }, 'carol')).toMatchObject({ status: 201, body: { id: 'm-1', state: 'new' } })
    expect(await call('GET', '/peek/m-1')).toMatchObject({ status: 200, body: { state: 'new', total: 12, entries: 1 } })
    expect((await call('GET', '/orders/m-1')).body.history[0]).toMatchObject({ who: 'carol', to: 'new' })
    expect(await call('GET', '/peek/m-2')).toMatchObject({ status: 404, body: { error: { code: 'ERR_STATE_INSTANCE_NOT_FOUND' } } })
    expect(await call('POST', '/make', { ref: 'm-1', total: 1 })).toMatchObject({ status: 409, body: { error: { code: 'ERR_STATE_INSTANCE_EXISTS' } } })
    // A missing ref is refused rather than silently made a fresh UUID.
    expect(await call('POST', '/make', { total: 1 })).toMatchObject({ status: 400, body: { error: { code: 'ERR_STATE_BAD_REQUEST' } } })
    expect((await call('POST', '/orders', { data: { total: 2 } })).body.id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('http.requires guards every route of a machine (default prefix: the module name); an event with a list of guarded transitions takes the first that passes', async () => {
    expect((await call('POST', '/tickets', {})).status).toBe(401)
    expect(await call('POST', '/tickets', {}, 'dave')).toMatchObject({ status: 403, body: { error: { code: 'ERR_HTTP_FORBIDDEN' } } })
    const made = await call('POST', '/tickets', { id: 't-1' }, 'dave', 'tickets:write')
    expect(made).toMatchObject({ status: 201, body: { machine: 'tickets', state: 'open' } })
    expect((await call('GET', '/tickets/t-1')).status).toBe(401)
    // A list of transitions for one event: the first whose guard passes is taken.
    expect((await call('POST', '/tickets/t-1/triage', { level: 1 }, 'dave', 'tickets:write')).body).toMatchObject({ state: 'open', version: 1 })
    expect((await call('POST', '/tickets/t-1/triage', { level: 4 }, 'dave', 'tickets:write')).body).toMatchObject({ state: 'urgent', version: 2 })
    expect((await call('POST', '/tickets/t-1/close', {}, 'dave', 'tickets:write')).body).toMatchObject({ state: 'closed', terminal: true })
  })

  it('the module shows its instances per state in its status detail', async () => {
    await call('POST', '/orders', { id: 'a', data: { total: 1 } })
    await call('POST', '/orders', { id: 'b', data: { total: 1 } })
    await call('POST', '/orders/b/cancel')
    expect(app.engine.module<StateMachineModule>('orders').status!()).toEqual({ instances: { new: 1, cancelled: 1 }, nextTimeout: null })
  })
})
