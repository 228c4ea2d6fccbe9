// Deploy slots through the engine's `slots` service (a real engine, sandbox and SQLite store): deploy + promote
// serves, the ceiling, rollback, restart keeps the live version, audit rows, scopes.
import { afterEach, describe, expect, it } from 'vitest'
import type { SlotsService } from '@islet/sdk'
import { json, startApp, type TestApp } from './support/app.ts'
import { ADMIN, appYaml, DEPLOYER, pricing, probe } from './support/slots.ts'

let app: TestApp | undefined
afterEach(async () => { await app?.close(); app = undefined })

const slotsOf = (t: TestApp) => t.engine.module<{ slots: SlotsService }>('probe').slots
const quote = (t: TestApp, n: number) => fetch(`${t.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) })

describe('deploy slots', () => {
  it('an empty slot answers 503 ERR_SLOT_EMPTY; deploy with promote serves the new code', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const empty = await quote(app, 1)
    expect(empty.status).toBe(503)
    expect((await json(empty)).error.code).toBe('ERR_SLOT_EMPTY')
    const slots = slotsOf(app)
    const result = await slots.deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true, message: 'first' }, DEPLOYER)
    expect(result, JSON.stringify(result.diagnostics)).toMatchObject({ ok: true, promoted: true, version: { id: 1, status: 'live', author: 'agent-7', message: 'first' } })
    const res = await quote(app, 3)
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ version: 1, total: 3 })
    expect(slots.versions('pricing', ADMIN).map((v) => [v.id, v.status])).toEqual([[1, 'live']])
    expect(slots.source('pricing', 1, ADMIN)).toEqual({ 'index.ts': pricing(1) })
    expect(slots.describe('pricing', DEPLOYER)).toMatchObject({ name: 'pricing', live: 1, deployers: ['deploy:pricing'], examplesRequired: true })
  })
})
