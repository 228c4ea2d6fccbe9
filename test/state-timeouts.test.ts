// State timeouts (`timeout: { after, event }`): the due time is persisted in the instance row and fired by the module
// from a timer re-armed from the file at start, so a restart keeps it. Time is a clock the test moves by hand.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { writeFiles } from './support/files.ts'
import { ManualClock, startStateApp, type StateApp } from './support/state-app.ts'
import { until } from './support/until.ts'
import type { Clock, StateMachineModule } from '../plugins/state/index.ts'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

const APP = `apiVersion: islet/v1
modules:
  - name: audit
    type: storage.sqlite
    config: { file: audit.db, migrations: ./migrations }
  - name: holds
    type: state.machine
    config:
      initial: pending
      states:
        pending:
          timeout: { after: 15m, event: expire }
          on:
            confirm: confirmed
            expire: [{ to: expired, action: release }]
        confirmed: { terminal: true }
        expired: { terminal: true }
pipelines:
  release:
    steps:
      - type: sql.exec
        config: { db: audit, sql: 'INSERT INTO released (instance) VALUES (:i)', params: { i: '\${{ meta.instance }}' } }
      - if: \${{ data.stuck == true }}
        then: [{ type: fail, config: { status: 503, code: ERR_RELEASE_DOWN, message: the release service is down } }]
`

const opened: { app: StateApp; cleanup?: () => void }[] = []
afterEach(async () => {
  for (const { app, cleanup } of opened.splice(0).reverse()) {
    await app.stop()
    cleanup?.()
  }
})

function files(): { dir: string; cleanup: () => void } {
  return writeFiles({ 'app.yaml': APP, 'migrations/001_released.sql': 'CREATE TABLE released (instance TEXT);' })
}

async function start(dir: string, clock: ManualClock, cleanup?: () => void): Promise<StateMachineModule> {
  const app = await startStateApp(dir, clock)
  opened.push({ app, ...(cleanup ? { cleanup } : {}) })
  return app.engine.module<StateMachineModule>('holds')
}

function released(dir: string): string[] {
  const db = new Database(join(dir, 'data', 'audit.db'), { readonly: true })
  try {
    return (db.prepare('SELECT instance FROM released ORDER BY rowid').all() as { instance: string }[]).map((r) => r.instance)
  } finally {
    db.close()
  }
}

describe('state timeouts', () => {
  it('fire the timeout event once the state has lasted `after`, through the transition and its action; a transition before that cancels it', async () => {
    const clock = new ManualClock()
    const { dir, cleanup } = files()
    const holds = await start(dir, clock, cleanup)
    const created = await holds.create({ id: 'h-1' })
    expect(created.due).toEqual({ at: new Date(clock.now() + 15 * MINUTE).toISOString(), event: 'expire' })
    await holds.create({ id: 'h-2' })
    await holds.transition('h-2', 'confirm')

    clock.advance(14 * MINUTE)
    expect(holds.get('h-1').state).toBe('pending')
    clock.advance(2 * MINUTE)
    await until(() => holds.get('h-1').state === 'expired')
    const read = holds.get('h-1', { history: true })
    expect(read).toMatchObject({ version: 1, due: null })
    expect(read.history![1]).toMatchObject({ from: 'pending', to: 'expired', event: 'expire', who: null })
    expect(released(dir)).toEqual(['h-1'])
    expect(holds.get('h-2')).toMatchObject({ state: 'confirmed', version: 1 })
  })

  it('survive a restart: the next engine re-arms them from state.db and fires them when they fall due', async () => {
    const { dir, cleanup } = files()
    const first = new ManualClock()
    const holds = await start(dir, first)
    await holds.create({ id: 'h-3' })
    const due = first.now() + 15 * MINUTE
    await opened.pop()!.app.stop()

    const second = new ManualClock(first.now() + 5 * MINUTE)
    const again = await start(dir, second, cleanup)
    expect(again.status!()).toMatchObject({ instances: { pending: 1 }, nextTimeout: new Date(due).toISOString() })
    expect(again.get('h-3').state).toBe('pending')
    second.advance(11 * MINUTE)
    await until(() => again.get('h-3').state === 'expired')
    expect(released(dir)).toEqual(['h-3'])
  })

  it('a timeout whose action fails stays pending and fires again after the lease (at least once)', async () => {
    const clock = new ManualClock()
    const { dir, cleanup } = files()
    const holds = await start(dir, clock, cleanup)
    await holds.create({ id: 'h-4', data: { stuck: true } })
    clock.advance(16 * MINUTE)
    await until(() => released(dir).length === 1)
    await until(() => holds.get('h-4').due?.at === new Date(clock.now() + MINUTE).toISOString())
    expect(holds.get('h-4')).toMatchObject({ state: 'pending', version: 0 })
    clock.advance(MINUTE)
    await until(() => released(dir).length === 2)
    expect(holds.get('h-4').state).toBe('pending')
  })

  it('a timeout of days, longer than a Node timer can wait, fires when due; no timer is asked to wait longer than that', async () => {
    const clock = new ManualClock()
    const delays: number[] = []
    const watched: Clock = { now: () => clock.now(), setTimer: (fire, ms) => { delays.push(ms); return clock.setTimer(fire, ms) } }
    const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: leases
    type: state.machine
    config:
      initial: active
      states:
        active: { timeout: { after: 30d, event: lapse }, on: { lapse: lapsed } }
        lapsed: { terminal: true }
` })
    const app = await startStateApp(dir, watched)
    opened.push({ app, cleanup })
    const leases = app.engine.module<StateMachineModule>('leases')
    await leases.create({ id: 'l-1' })
    clock.advance(30 * DAY - MINUTE)
    expect(leases.get('l-1')).toMatchObject({ state: 'active', due: { at: new Date(clock.now() + MINUTE).toISOString() } })
    clock.advance(2 * MINUTE)
    await until(() => leases.get('l-1').state === 'lapsed')
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1)
  })
})
