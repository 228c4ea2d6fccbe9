// Deploy slots through the engine's `slots` service (a real engine, sandbox and SQLite store, reached by a tiny real
// plugin module through ctx.service('slots')): deploy + promote serves, the ceiling, rollback, restart keeps the live
// version, config reloads keep it, audit rows, scopes, logs.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { SlotLogEntry, SlotsService } from '@islet/sdk'
import { openApp } from '../runtime/app.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import type { HttpServer } from '../plugins/http/index.ts'
import { editConfig, json, startApp, writeFiles, type TestApp } from './support/app.ts'
import { ADMIN, appYaml, DEPLOYER, pricing, probe, READER, STRANGER } from './support/slots.ts'
import { until } from './support/until.ts'

let app: TestApp | undefined
afterEach(async () => { await app?.close(); app = undefined })

const slotsOf = (t: { engine: TestApp['engine'] }) => t.engine.module<{ slots: SlotsService }>('probe').slots
const quote = (url: string, n: number) => fetch(`${url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) })
const codeOf = (fn: () => unknown) => {
  try { fn() } catch (error) { return { code: (error as { code?: string }).code, status: (error as { details?: { status?: number } }).details?.status } }
  return undefined
}
const rejection = async (p: Promise<unknown>) => p.then(() => undefined,
  (error: { code?: string; details?: { status?: number } }) => ({ code: error.code, status: error.details?.status }))

describe('deploy slots', () => {
  it('an empty slot answers 503 ERR_SLOT_EMPTY; deploy with promote serves the new code', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const empty = await quote(app.url, 1)
    expect(empty.status).toBe(503)
    expect((await json(empty)).error.code).toBe('ERR_SLOT_EMPTY')
    const slots = slotsOf(app)
    const result = await slots.deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true, message: 'first' }, DEPLOYER)
    expect(result, JSON.stringify(result.diagnostics)).toMatchObject({ ok: true, promoted: true, version: { id: 1, status: 'live', author: 'agent-7', message: 'first' } })
    expect(result.version!.hash).toMatch(/^[0-9a-f]{64}$/)
    const res = await quote(app.url, 3)
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ version: 1, total: 3 })
    expect(slots.versions('pricing', ADMIN).map((v) => [v.id, v.status])).toEqual([[1, 'live']])
    expect(slots.source('pricing', 1, ADMIN)).toEqual({ 'index.ts': pricing(1) })
    expect(slots.describe('pricing', DEPLOYER)).toMatchObject({ name: 'pricing', live: 1, deployers: ['deploy:pricing'], examplesRequired: true })
  })

  it('refuses code that asks for more than the slot grants, naming each excess and what the slot grants', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const greedy = pricing(1, "\n  capabilities: { kv: true, fetch: ['http://127.0.0.1:9999'], emit: ['orders.created'] },\n  limits: { timeoutMs: 60000 },")
    const result = await slotsOf(app).deploy('pricing', { files: { 'index.ts': greedy }, promote: true }, DEPLOYER)
    expect(result.ok).toBe(false)
    expect(result.promoted).toBe(false)
    const ceiling = result.diagnostics.filter((d) => d.code === 'ERR_SLOT_CEILING')
    expect(ceiling.map((d) => d.message)).toEqual([
      expect.stringContaining("fetch origin 'http://127.0.0.1:9999'"), expect.stringContaining("emit topic 'orders.created'"), expect.stringContaining('limits.timeoutMs 60000'),
    ])
    // Each excess says what to change, so the fix needs no second round trip.
    expect(ceiling[0]!.hint).toContain('the slot grants no fetch')
    expect(result.steps.find((s) => s.name === 'ceiling')?.status).toBe('failed')
    // Stored as rejected, never live; the slot stays empty.
    expect(result.version).toMatchObject({ id: 1, status: 'rejected' })
    expect((await quote(app.url, 1)).status).toBe(503)
    expect(await rejection(slotsOf(app).promote('pricing', 1, ADMIN))).toEqual({ code: 'ERR_SLOT_PROMOTE_FAILED', status: 409 })
    expect(slotsOf(app).audit(ADMIN, { slot: 'pricing' }).map((a) => [a.action, a.result, a.detail])).toEqual([
      ['promote', 'refused', 'the version was rejected by validation'], ['deploy', 'refused', 'ERR_SLOT_CEILING'],
    ])
  })

  it('refuses bad files and a deployment without examples to a slot that requires them', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const slots = slotsOf(app)
    const bad = await slots.deploy('pricing', { files: { '../escape.ts': 'x', 'index.ts': pricing(1) } }, DEPLOYER)
    expect(bad).toMatchObject({ ok: false, promoted: false })
    expect(bad.version).toBeUndefined()
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['ERR_DEPLOY_FILES'])
    const bare = pricing(1).replace(/ {2}examples: .*\n/, '')
    const none = await slots.deploy('pricing', { files: { 'index.ts': bare } }, DEPLOYER)
    expect(none.diagnostics.map((d) => d.code)).toEqual(['ERR_SLOT_EXAMPLES_REQUIRED'])
    const broken = await slots.deploy('pricing', { files: { 'index.ts': 'export default {' } }, DEPLOYER)
    expect(broken.ok).toBe(false)
    expect(broken.diagnostics[0]).toMatchObject({ file: 'index.ts', line: 1 })
    expect(slots.versions('pricing', ADMIN).map((v) => v.status)).toEqual(['rejected', 'rejected'])
  })

  it('a dry run stores nothing; concurrent deploys to one slot get ids 1, 2, 3 in turn', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const slots = slotsOf(app)
    const dry = await slots.deploy('pricing', { files: { 'index.ts': pricing(1) }, dryRun: true, promote: true }, DEPLOYER)
    expect(dry).toMatchObject({ ok: true, dryRun: true, promoted: false })
    expect(dry.version).toBeUndefined()
    expect(dry.steps.map((s) => [s.name, s.status])).toEqual([['files', 'passed'], ['compile', 'passed'], ['typecheck', 'passed'], ['schemas', 'passed'], ['ceiling', 'passed'], ['examples', 'passed']])
    expect(slots.versions('pricing', ADMIN)).toEqual([])
    expect((await quote(app.url, 1)).status).toBe(503)
    const results = await Promise.all([1, 2, 3].map((v) => slots.deploy('pricing', { files: { 'index.ts': pricing(v) } }, DEPLOYER)))
    expect(results.map((r) => r.version?.id).sort()).toEqual([1, 2, 3])
    expect(slots.versions('pricing', ADMIN).map((v) => [v.id, v.status])).toEqual([[1, 'staged'], [2, 'staged'], [3, 'staged']])
    expect(slots.audit(ADMIN, { slot: 'pricing' }).map((a) => a.action).sort()).toEqual(['deploy', 'deploy', 'deploy', 'dry-run'])
  })

  it('promotes under load: 8 clients calling the slot while 1 → 2 → 3 go live, no request fails, answers switch', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const slots = slotsOf(app)
    for (const v of [1, 2, 3]) {
      const staged = await slots.deploy('pricing', { files: { 'index.ts': pricing(v) } }, DEPLOYER)
      expect(staged, JSON.stringify(staged.diagnostics)).toMatchObject({ ok: true, promoted: false, version: { id: v, status: 'staged' } })
    }
    expect((await slots.promote('pricing', 1, DEPLOYER)).promoted).toBe(true)
    const url = app.url
    let running = true
    const failures: string[] = []
    const seen = new Set<number>()
    const client = async () => {
      while (running) {
        const res = await quote(url, 2).catch((error: Error) => error)
        if (res instanceof Error) { failures.push(res.message); continue }
        const body = await json(res)
        if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(body)}`)
        else seen.add(body.version)
      }
    }
    const clients = Array.from({ length: 8 }, client)
    try {
      await until(() => seen.has(1))
      expect((await slots.promote('pricing', 2, DEPLOYER)).promoted).toBe(true)
      await until(() => seen.has(2))
      expect((await slots.promote('pricing', 3, DEPLOYER)).promoted).toBe(true)
      await until(() => seen.has(3))
    } finally {
      running = false
      await Promise.all(clients)
    }
    expect(failures).toEqual([])
    expect(await json(await quote(url, 5))).toEqual({ version: 3, total: 5 })
    expect(slots.versions('pricing', ADMIN).map((v) => v.status)).toEqual(['retired', 'retired', 'live'])
  })

  it('rolls back to the version live before (or to a named one), and records every action in the audit table', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const slots = slotsOf(app)
    const events: { topic: string; payload: any }[] = []
    app.engine.events.subscribe('islet.slot.*', (e) => { events.push({ topic: e.topic, payload: e.payload }) })
    await slots.deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true }, DEPLOYER)
    const second = await slots.deploy('pricing', { files: { 'index.ts': pricing(2) }, promote: true }, ADMIN)
    expect(await json(await quote(app.url, 1))).toEqual({ version: 2, total: 1 })
    const back = await slots.rollback('pricing', DEPLOYER)
    expect(back).toMatchObject({ ok: true, promoted: true, version: { id: 1, status: 'live' } })
    expect(await json(await quote(app.url, 1))).toEqual({ version: 1, total: 1 })
    expect((await slots.rollback('pricing', DEPLOYER, 2)).version?.id).toBe(2)
    expect(await json(await quote(app.url, 1))).toEqual({ version: 2, total: 1 })
    expect(await rejection(slots.rollback('pricing', DEPLOYER, 7))).toEqual({ code: 'ERR_SLOT_VERSION_UNKNOWN', status: 404 })
    const audit = slots.audit(ADMIN, { slot: 'pricing' }).reverse()
    expect(audit.map((a) => [a.principal, a.action, a.slot, a.version, a.result])).toEqual([
      ['apikey:agent-7', 'deploy', 'pricing', 1, 'ok'], ['apikey:agent-7', 'promote', 'pricing', 1, 'ok'],
      ['apikey:ops', 'deploy', 'pricing', 2, 'ok'], ['apikey:ops', 'promote', 'pricing', 2, 'ok'],
      ['apikey:agent-7', 'rollback', 'pricing', 1, 'ok'], ['apikey:agent-7', 'rollback', 'pricing', 2, 'ok'],
    ])
    expect(audit[2]!.hash).toBe(second.version!.hash)
    await until(() => events.length === 6)
    expect(events.map((e) => [e.topic, e.payload.version, e.payload.principal])).toEqual([
      ['islet.slot.deployed', 1, 'agent-7'], ['islet.slot.promoted', 1, 'agent-7'], ['islet.slot.deployed', 2, 'ops'], ['islet.slot.promoted', 2, 'ops'],
      ['islet.slot.rolled-back', 1, 'agent-7'], ['islet.slot.rolled-back', 2, 'agent-7'],
    ])
    expect(events[2]!.payload).toMatchObject({ slot: 'pricing', hash: second.version!.hash })
    expect(slots.diff('pricing', 1, 2, ADMIN)).toContain('diff --git a/index.ts b/index.ts\n')
    expect(slots.diff('pricing', 1, 2, ADMIN)).toContain('+  examples: [{ input: { n: 2 }, output: { version: 2, total: 2 } }],')
  })

  it('many promotions keep one build in the compile cache, not one per version; a rollback to an old one still serves', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const slots = slotsOf(app)
    const host = app.engine.components!
    for (let v = 1; v <= 12; v++) {
      const result = await slots.deploy('pricing', { files: { 'index.ts': pricing(v) }, promote: true }, DEPLOYER)
      expect(result, JSON.stringify(result.diagnostics)).toMatchObject({ ok: true, promoted: true })
    }
    expect(await json(await quote(app.url, 1))).toEqual({ version: 12, total: 1 })
    // Replaced generations are disposed once drained; then only the live version's build is held.
    await until(() => host.compiledHeld() === 1)
    expect((await slots.rollback('pricing', DEPLOYER, 3)).version?.id).toBe(3)
    expect(await json(await quote(app.url, 2))).toEqual({ version: 3, total: 2 })
    await until(() => host.compiledHeld() === 1)
  })

  it('checks scopes itself: deployers and admin change, admin:read reads, anyone else is refused with 403', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const slots = slotsOf(app)
    const files = { 'index.ts': pricing(1) }
    expect(await rejection(slots.deploy('pricing', { files }, STRANGER))).toEqual({ code: 'ERR_ADMIN_FORBIDDEN', status: 403 })
    expect(await rejection(slots.deploy('pricing', { files }, READER))).toEqual({ code: 'ERR_ADMIN_FORBIDDEN', status: 403 })
    expect(await rejection(slots.invoke('pricing', { n: 1 }, READER))).toEqual({ code: 'ERR_ADMIN_FORBIDDEN', status: 403 })
    expect(codeOf(() => slots.versions('pricing', STRANGER))).toEqual({ code: 'ERR_ADMIN_FORBIDDEN', status: 403 })
    expect(codeOf(() => slots.audit(DEPLOYER))).toEqual({ code: 'ERR_ADMIN_FORBIDDEN', status: 403 })
    expect(codeOf(() => slots.describe('nope', ADMIN))).toEqual({ code: 'ERR_SLOT_UNKNOWN', status: 404 })
    expect(slots.list(STRANGER)).toEqual([])
    expect(slots.list(READER).map((s) => s.name)).toEqual(['pricing'])
    expect(await rejection(slots.invoke('pricing', { n: 1 }, DEPLOYER))).toEqual({ code: 'ERR_SLOT_EMPTY', status: 503 })
    await slots.deploy('pricing', { files, promote: true }, DEPLOYER)
    expect(slots.versions('pricing', READER)).toHaveLength(1)
    expect(await slots.invoke('pricing', { n: 4 }, DEPLOYER)).toMatchObject({ ok: true, version: 1, output: { version: 1, total: 4 } })
    // Refusals are audited too: a principal without the scope (naming the scope it lacked), an empty slot.
    expect(slots.audit(ADMIN).filter((a) => a.result === 'refused').reverse().map((a) => [a.principal, a.action, a.detail])).toEqual([
      ['apikey:nobody', 'deploy', 'missing scope: needs one of admin, deploy:pricing'],
      ['apikey:dash', 'deploy', 'missing scope: needs one of admin, deploy:pricing'],
      ['apikey:dash', 'invoke', 'missing scope: needs one of admin, deploy:pricing'],
      ['apikey:agent-7', 'invoke', 'the slot is empty'],
    ])
  })

  it("keeps each slot's log lines with sequence numbers and version, and follows new ones", async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    const slots = slotsOf(app)
    await slots.deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true }, DEPLOYER)
    const followed: SlotLogEntry[] = []
    const stop = slots.followLogs('pricing', READER, (e) => followed.push(e))
    await quote(app.url, 7)
    await until(() => slots.logs('pricing', READER).some((l) => l.message === 'priced v1'))
    const line = slots.logs('pricing', READER).find((l) => l.message === 'priced v1')!
    expect(line).toMatchObject({ level: 'info', version: 1, fields: { n: 7 } })
    await until(() => followed.some((l) => l.seq === line.seq))
    stop()
    expect(slots.logs('pricing', READER, { after: line.seq })).toEqual([])
    // A failed call is in the slot's log too, as an error line naming its code.
    const thrower = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'pricing', examples: [{ input: 1, output: 1 }],
  execute(n: number) { if (n === 2) throw new Error('no price for 2'); return n } })
`
    expect((await slots.deploy('pricing', { files: { 'index.ts': thrower }, promote: true }, DEPLOYER)).promoted).toBe(true)
    const failed = await fetch(`${app.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '2' })
    expect(failed.status).toBe(500)
    await until(() => slots.logs('pricing', READER).some((l) => l.level === 'error' && l.message.includes('no price for 2')))
    expect(slots.logs('pricing', READER).find((l) => l.message.includes('no price for 2'))).toMatchObject({ version: 2, fields: { code: 'ERR_COMPONENT_THREW' } })
  })

  it('a config reload keeps the live version serving, with the new slot config', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    await slotsOf(app).deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true }, DEPLOYER)
    const next = await editConfig(app, appYaml('\n    config: { currency: EUR }'), [probe])
    const result = await app.engine.reload(next)
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true })
    expect(await json(await quote(app.url, 2))).toEqual({ version: 1, total: 2 })
  })

  it('a restart whose live version fails to load still starts: the slot answers 503 until a rollback', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': appYaml() })
    const open = async () => {
      const registry = createBuiltinRegistry()
      registry.register(probe)
      const engine = await openApp(join(dir, 'app.yaml'), { logger: silentLogger(), registry, dataDir: join(dir, 'data'), env: process.env })
      await engine.start()
      return engine
    }
    // Its init refuses to run twice on the same data: it serves once, then never loads again.
    const once = pricing(2, `
  async init(_config, ctx) {
    if (await ctx.kv.get('booted')) throw new Error('booted before')
    await ctx.kv.set('booted', true)
  },`)
    try {
      const first = await open()
      try {
        await slotsOf({ engine: first }).deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true }, DEPLOYER)
        const second = await slotsOf({ engine: first }).deploy('pricing', { files: { 'index.ts': once }, promote: true }, DEPLOYER)
        expect(second, JSON.stringify(second.diagnostics)).toMatchObject({ promoted: true })
      } finally {
        await first.stop()
      }
      const again = await open()
      try {
        const url = again.module<HttpServer>('web').url()
        const res = await quote(url, 1)
        expect(res.status).toBe(503)
        expect((await json(res)).error.code).toBe('ERR_SLOT_EMPTY')
        const slots = slotsOf({ engine: again })
        expect(slots.logs('pricing', READER).map((l) => l.message)).toEqual([expect.stringContaining('version 2 could not be loaded at start')])
        expect((await slots.rollback('pricing', DEPLOYER)).version?.id).toBe(1)
        expect(await json(await quote(url, 1))).toEqual({ version: 1, total: 1 })
      } finally {
        await again.stop()
      }
    } finally {
      cleanup()
    }
  })

  it('with several engine processes on one data dir, a promotion made through one serves in the others', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': appYaml() })
    const open = async (index: number) => {
      const registry = createBuiltinRegistry()
      registry.register(probe)
      const engine = await openApp(join(dir, 'app.yaml'), { logger: silentLogger(), registry, dataDir: join(dir, 'data'), env: process.env,
        process: { index, count: 2, balance: 'cluster' } })
      await engine.start()
      return engine
    }
    const engines = [await open(0), await open(1)]
    try {
      const [a, b] = engines.map((e) => e.module<HttpServer>('web').url())
      await slotsOf({ engine: engines[0]! }).deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true }, DEPLOYER)
      // Each process looks at `live` once a second: a few polls' budget, with room for a busy machine.
      await until(async () => (await quote(b!, 1)).status === 200, { ms: 30_000 })
      expect(await json(await quote(b!, 1))).toEqual({ version: 1, total: 1 })
      await slotsOf({ engine: engines[1]! }).deploy('pricing', { files: { 'index.ts': pricing(2) }, promote: true }, DEPLOYER)
      await until(async () => (await json(await quote(a!, 1))).version === 2, { ms: 30_000 })
      // The change is audited once, by the process that made it.
      expect(slotsOf({ engine: engines[0]! }).audit(ADMIN).filter((e) => e.action === 'promote').map((e) => e.version)).toEqual([2, 1])
    } finally {
      await Promise.all(engines.map((e) => e.stop()))
      cleanup()
    }
  })

  it('a restart serves the live version (a new engine on the same data dir)', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': appYaml() })
    const open = async () => {
      const registry = createBuiltinRegistry()
      registry.register(probe)
      const engine = await openApp(join(dir, 'app.yaml'), { logger: silentLogger(), registry, dataDir: join(dir, 'data'), env: process.env })
      await engine.start()
      return engine
    }
    try {
      const first = await open()
      try {
        await slotsOf({ engine: first }).deploy('pricing', { files: { 'index.ts': pricing(1) }, promote: true }, DEPLOYER)
        await slotsOf({ engine: first }).deploy('pricing', { files: { 'index.ts': pricing(2) } }, DEPLOYER)
      } finally {
        await first.stop()
      }
      const second = await open()
      try {
        expect(await json(await quote(second.module<HttpServer>('web').url(), 4))).toEqual({ version: 1, total: 4 })
        expect(slotsOf({ engine: second }).versions('pricing', ADMIN).map((v) => [v.id, v.status])).toEqual([[1, 'live'], [2, 'staged']])
      } finally {
        await second.stop()
      }
    } finally {
      cleanup()
    }
  })
})
