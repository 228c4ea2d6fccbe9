// Promote and rollback against a config reload: a request queued behind another change of its slot runs with the
// slot as the serving config declares it when its turn comes, never as it was when the request arrived. An owner
// who lowers a slot's grants (or removes the slot) while promotions wait in line is obeyed by each of them.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { SlotsService } from '@islet/sdk'
import { editConfig, startApp, type TestApp } from '../support/app.ts'
import { DEPLOYER, probe } from '../support/slots.ts'
import { until } from '../support/until.ts'

const yaml = (origin: string, kv: boolean) => `apiVersion: islet/v1
components:
  - slot: pricing
    deployers: ['deploy:pricing']
    examples: optional
    limits: { timeoutMs: 60000 }
    grants: { kv: ${kv}, fetch: { origins: ['${origin}'], privateOrigins: ['${origin}'], timeoutMs: 60000 } }
modules:
  - name: probe
    type: acme.slots-probe
  - name: web
    type: http.server
    config: { port: 0 }
`
/** Its init waits on the test's gate (in the serving isolate; a throwaway one is refused the fetch and goes on). */
const GATED = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing',
  async init(_config: any, ctx) { try { await ctx.fetch(ctx.config.origin + '/gate') } catch {} },
  async execute(_input: unknown, ctx) {
    try { await ctx.kv.get('x'); return { gated: 'granted' } } catch (e: any) { return { gated: e.code } }
  },
})
`
/** Reports whether kv reaches it. */
const KV = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing',
  async execute(_input: unknown, ctx) {
    try { await ctx.kv.get('x'); return { kv: 'granted' } } catch (e: any) { return { kv: e.code } }
  },
})
`

let app: TestApp
let origin: string
const held: ServerResponse[] = []
let gateOpen = false
let close: () => Promise<unknown>
beforeAll(async () => {
  const server = createServer((req, res) => { if (req.url === '/gate' && !gateOpen) held.push(res); else res.end('ok') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => { server.closeAllConnections(); return new Promise((resolve) => server.close(resolve)) }
  app = await startApp({ 'app.yaml': yaml(origin, true).replace("examples: optional", "examples: optional\n    config: { origin: '" + origin + "' }") }, { plugins: [probe] })
}, 60_000)
afterAll(async () => { await app?.close(); await close?.() })

it('a promotion queued while grants are lowered runs with the lowered grants', async () => {
  const slots = app.engine.module<{ slots: SlotsService }>('probe').slots
  const staged = await slots.deploy('pricing', { files: { 'index.ts': KV } }, DEPLOYER)
  expect(staged.ok, JSON.stringify(staged.diagnostics)).toBe(true)
  // A promotion in flight, held in its init; a second one queued behind it.
  const first = slots.deploy('pricing', { files: { 'index.ts': GATED }, promote: true }, DEPLOYER)
  await until(() => held.length > 0)
  const second = slots.promote('pricing', staged.version!.id, DEPLOYER)
  // The owner takes kv away meanwhile.
  const next = await editConfig(app, yaml(origin, false).replace("examples: optional", "examples: optional\n    config: { origin: '" + origin + "' }"), [probe])
  expect((await app.engine.reload(next)).ok).toBe(true)
  gateOpen = true
  held.shift()!.end('open')
  expect((await first).promoted).toBe(true)
  // The one in flight during the reload serves with the lowered grants too.
  expect(await app.engine.components!.invoke('pricing', {})).toEqual({ gated: 'ERR_CAPABILITY_DENIED' })
  expect((await second).promoted).toBe(true)
  expect(await slots.invoke('pricing', {}, DEPLOYER)).toMatchObject({ ok: true, output: { kv: 'ERR_CAPABILITY_DENIED' } })
}, 120_000)
