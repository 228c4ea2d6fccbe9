// What a deployer's code can do to the app's own components: a dry run (or a deploy) evaluates the candidate's module
// to learn what it declares, and a promotion loads it and runs its init with the slot's real capabilities. A module or
// an init that holds its worker in a builtin V8 cannot interrupt must cost only itself: calls of the app's other
// components, begun in the serving worker at that moment, keep running, and that worker is not replaced. (Slot code
// runs in a worker of its own: a stall, a crash or an escape there never reaches another component's calls or grants.)
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { SlotsService } from '@islet/sdk'
import type { IsletError } from '../../runtime/errors.ts'
import { startApp, type TestApp } from '../support/app.ts'
import { DEPLOYER, probe } from '../support/slots.ts'
import { until } from '../support/until.ts'

const APP = `apiVersion: islet/v1
sandbox:
  workers: 1
components:
  - file: ./victim.ts
    # Its parked call outlives the dry run on any machine; the test cancels it.
    limits: { timeoutMs: 60000 }
  - slot: pricing
    deployers: ['deploy:pricing']
    grants: { kv: true }
    limits: { timeoutMs: 200 }
modules:
  - name: probe
    type: acme.slots-probe
  - name: web
    type: http.server
    config: { port: 0 }
`
/** A bystander: with `{ park: true }` it waits, begun in its isolate, until its caller cancels it. */
const VICTIM = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'victim',
  async execute(input: { park?: boolean; n?: number }) {
    if (input.park) await new Promise(() => {})
    return { n: input.n }
  },
})
`
/** Seconds in one builtin over a sparse array of length 2**32-1, at module top level: no isolate timeout stops it. */
const STALLING = `import { defineComponent } from '@islet/sdk'
const a: number[] = []; a.length = 2 ** 32 - 1
const at = a.indexOf(1)
export default defineComponent({
  name: 'pricing',
  examples: [{ input: {}, output: { at: -1 } }],
  execute: () => ({ at }),
})
`

let app: TestApp
beforeAll(async () => { app = await startApp({ 'app.yaml': APP, 'victim.ts': VICTIM }, { plugins: [probe] }) }, 60_000)
afterAll(() => app?.close())

it("a dry run whose module stalls its worker fails alone: a neighbour's call begun meanwhile is not lost", async () => {
  const host = app.engine.components!
  const slots = app.engine.module<{ slots: SlotsService }>('probe').slots
  const pidOf = async () => (await host.sandbox().stats()).find((s) => s.components.includes('victim'))?.pid
  expect(await host.invoke('victim', { n: 1 })).toEqual({ n: 1 })
  const before = await pidOf()
  const controller = new AbortController()
  const parked = host.invoke('victim', { park: true }, { signal: controller.signal }).then(
    () => { throw new Error('the parked call resolved') }, (error: IsletError) => error)
  await until(async () => ((await host.sandbox().stats()).find((s) => s.components.includes('victim'))?.invocations ?? 0) >= 1)

  const result = await slots.deploy('pricing', { files: { 'index.ts': STALLING }, dryRun: true }, DEPLOYER)
  expect(result.ok).toBe(false)

  controller.abort()
  expect((await parked).code).toBe('ERR_SANDBOX_CANCELLED')
  expect(await pidOf()).toBe(before)
  expect(await host.invoke('victim', { n: 2 })).toEqual({ n: 2 })
}, 120_000)

/**
 * A version whose init stalls its worker only where the slot's real kv holds a key an earlier version wrote: every
 * check (throwaway kv, empty) passes it; promotion runs init with the real capabilities.
 */
const ARMING = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing',
  capabilities: { kv: true },
  examples: [{ input: {}, output: { armed: true } }],
  async execute(_input: unknown, ctx) { await ctx.kv.set('armed', true); return { armed: true } },
})
`
const BOMB = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing',
  capabilities: { kv: true },
  examples: [{ input: {}, output: { at: -1 } }],
  async init(_config: unknown, ctx) {
    if (await ctx.kv.get('armed')) { const a: number[] = []; a.length = 2 ** 32 - 1; a.indexOf(1) }
  },
  execute: () => ({ at: -1 }),
})
`

it("promoting a version whose init stalls its worker fails alone: a neighbour's begun call is not lost", async () => {
  const host = app.engine.components!
  const slots = app.engine.module<{ slots: SlotsService }>('probe').slots
  const armed = await slots.deploy('pricing', { files: { 'index.ts': ARMING }, promote: true }, DEPLOYER)
  expect(armed.ok, JSON.stringify(armed.diagnostics)).toBe(true)
  expect(await slots.invoke('pricing', {}, DEPLOYER)).toMatchObject({ ok: true })
  // Deployed code runs in a worker of its own, never beside the app's components.
  expect(host.sandbox().placement('pricing')).toBe('own')
  expect(host.sandbox().placement('victim')).toBe('shared')
  const staged = await slots.deploy('pricing', { files: { 'index.ts': BOMB } }, DEPLOYER)
  expect(staged.ok, JSON.stringify(staged.diagnostics)).toBe(true)

  const pidOf = async () => (await host.sandbox().stats()).find((s) => s.components.includes('victim'))?.pid
  const before = await pidOf()
  const controller = new AbortController()
  const parked = host.invoke('victim', { park: true }, { signal: controller.signal }).then(
    () => { throw new Error('the parked call resolved') }, (error: IsletError) => error)
  await until(async () => ((await host.sandbox().stats()).find((s) => s.components.includes('victim'))?.invocations ?? 0) >= 1)

  const promoted = await slots.promote('pricing', staged.version!.id, DEPLOYER)
  expect(promoted.ok).toBe(false)

  controller.abort()
  expect((await parked).code).toBe('ERR_SANDBOX_CANCELLED')
  expect(await pidOf()).toBe(before)
  // The version before keeps serving.
  expect(await slots.invoke('pricing', {}, DEPLOYER)).toMatchObject({ ok: true, version: armed.version!.id })
}, 120_000)
