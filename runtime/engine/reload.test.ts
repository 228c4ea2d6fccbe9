// Reload ordering and rollback on the engine alone: prepare in dependency order, swap, stop the replaced in
// reverse; failures and deadlines leave the old generation intact; reloads queue; components reconcile before the swap.
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { defineModuleType, definePlugin } from '@islet/sdk'
import { DEFAULT_SANDBOX } from '../config/component-schema.ts'
import type { AppConfig, ComponentDecl, ModuleDecl } from '../config/types.ts'
import type { ComponentHost } from '../components/host.ts'
import { silentLogger } from '../log/logger.ts'
import { createRegistry } from '../plugins/registry.ts'
import { createEngine, type Generation, type Slot } from './engine.ts'
import { buildGraph } from './graph.ts'
import { createReloader } from './reload.ts'

interface Behaviour { v?: number; failCreate?: boolean; failStart?: boolean; hangStart?: boolean; gatedStart?: boolean; slowStart?: number; slowStop?: number }

/** A start that says when it began and then waits for the test to let it finish: no sleep to guess the moment. */
function startGate() {
  let began!: () => void
  let open!: () => void
  const started = new Promise<void>((resolve) => { began = resolve })
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { started, began, opened, open }
}
let gate = startGate()
interface M { name: string; dependsOn?: string[]; behave?: Behaviour }

function appConfig(modules: M[], hash: string, components: ComponentDecl[] = []): AppConfig {
  const decls: ModuleDecl[] = modules.map((m, i) => ({
    name: m.name, type: 'test.recorder', config: m.behave ?? {}, dependsOn: m.dependsOn ?? [],
    refs: { modules: [], pipelines: [] }, source: { file: '/app/app.yaml', line: 3 + i * 4, col: 5 },
  }))
  return { apiVersion: 'islet/v1', file: '/app/app.yaml', files: ['/app/app.yaml'], modules: decls, pipelines: {}, components, sandbox: DEFAULT_SANDBOX, hash }
}

function setup(modules: M[], timeouts = { createMs: 200, startMs: 200, stopMs: 200 }) {
  const events: string[] = []
  const recorder = defineModuleType<Behaviour>({
    type: 'test.recorder', configSchema: { type: 'object' },
    create(config, ctx) {
      const id = `${ctx.name}@${config.v ?? 1}`
      events.push(`create ${id}`)
      if (config.failCreate) throw new Error(`${ctx.name} cannot be created`)
      return {
        async start() {
          events.push(`start ${id}`)
          if (config.failStart) throw new Error(`${ctx.name} refuses to start`)
          if (config.hangStart) await new Promise(() => {})
          if (config.gatedStart) { gate.began(); await gate.opened }
          if (config.slowStart) await new Promise((r) => setTimeout(r, config.slowStart))
        },
        async stop() {
          if (config.slowStop) await new Promise((r) => setTimeout(r, config.slowStop))
          events.push(`stop ${id}`)
        },
      }
    },
  })
  const registry = createRegistry()
  registry.register(definePlugin({ name: 'test', version: '1.0.0', moduleTypes: [recorder] }))
  const engine = createEngine({
    config: appConfig(modules, 'h1'), registry, logger: silentLogger(), dataDir: tmpdir(),
    timeouts,
  })
  return { engine, events }
}

const chain = (v1: Behaviour = {}, v2: Behaviour = {}, v3: Behaviour = {}): M[] => [
  { name: 'db', behave: v1 }, { name: 'api', dependsOn: ['db'], behave: v2 }, { name: 'web', dependsOn: ['api'], behave: v3 },
]

describe('engine.reload', () => {
  it('starts the replacements in dependency order, swaps, then stops the replaced in reverse order', async () => {
    const { engine, events } = setup(chain())
    await engine.start()
    events.length = 0
    const result = await engine.reload(appConfig(chain({ v: 2 }), 'h2'))
    expect(result).toMatchObject({ ok: true, generation: 2, hash: 'h2', restarted: ['db', 'api', 'web'] })
    expect(events).toEqual(['create db@2', 'start db@2', 'create api@1', 'start api@1', 'create web@1', 'start web@1', 'stop web@1', 'stop api@1', 'stop db@1'])
    expect(engine.config.hash).toBe('h2')
    await engine.stop()
    expect(events.slice(-3)).toEqual(['stop web@1', 'stop api@1', 'stop db@2'])
  })

  it('a create failure stops what was prepared (newest first) and leaves the old generation untouched', async () => {
    const { engine, events } = setup(chain())
    await engine.start()
    const web = engine.module('web')
    events.length = 0
    const result = await engine.reload(appConfig(chain({ v: 2 }, { v: 2, failCreate: true }), 'h2'))
    expect(result).toMatchObject({ ok: false, generation: 1, hash: 'h1', error: { code: 'ERR_MODULE_CREATE_FAILED', module: 'api', phase: 'create' } })
    expect(events).toEqual(['create db@2', 'start db@2', 'create api@2', 'stop db@2'])
    expect(engine.module('web')).toBe(web)
    expect(engine.status()).toMatchObject({ generation: 1, configHash: 'h1', modules: [{ state: 'started' }, { state: 'started' }, { state: 'started' }] })
  })

  it('puts the start deadline on replacements', async () => {
    const { engine } = setup(chain())
    await engine.start()
    const result = await engine.reload(appConfig(chain({}, {}, { hangStart: true }), 'h2'))
    expect(result.error).toMatchObject({ code: 'ERR_MODULE_START_TIMEOUT', module: 'web', phase: 'start' })
    expect(result.error!.message).toContain("'web' did not start within 200 ms")
  })

  it('runs concurrent reloads one at a time, in call order', async () => {
    const { engine, events } = setup(chain({}, {}, { slowStop: 30 }))
    await engine.start()
    events.length = 0
    const [a, b] = await Promise.all([
      engine.reload(appConfig(chain({}, {}, { v: 2 }), 'h2')),
      engine.reload(appConfig(chain({}, {}, { v: 3 }), 'h3')),
    ])
    expect([a.generation, b.generation]).toEqual([2, 3])
    expect(events).toEqual(['create web@2', 'start web@2', 'stop web@1', 'create web@3', 'start web@3', 'stop web@2'])
  })

  it('refuses before start and after stop; a stop during a reload rolls it back, then stops the old generation', async () => {
    // Deadlines roomy: this test is about the order of events, not about a start that runs out of time.
    const { engine, events } = setup(chain(), { createMs: 10_000, startMs: 10_000, stopMs: 10_000 })
    expect((await engine.reload(appConfig(chain(), 'h2'))).error?.code).toBe('ERR_ENGINE_STATE')
    await engine.start()
    events.length = 0
    gate = startGate()
    const reloading = engine.reload(appConfig(chain({}, { v: 2, gatedStart: true }), 'h2'))
    await gate.started // api@2 is starting
    const stopping = engine.stop()
    gate.open()
    expect((await reloading).error).toMatchObject({ code: 'ERR_ENGINE_STATE', message: 'the engine began stopping during the reload' })
    await stopping
    expect(events).toEqual(['create api@2', 'start api@2', 'stop api@2', 'stop web@1', 'stop api@1', 'stop db@1'])
    expect((await engine.reload(appConfig(chain(), 'h3'))).error?.code).toBe('ERR_ENGINE_STATE')
  })
})

describe('component reconcile during a reload', () => {
  const component = (name: string): ComponentDecl => ({
    name, file: `/app/${name}.ts`, limits: {}, config: undefined, grants: { kv: false, emit: [], secrets: [] },
    source: { file: '/app/app.yaml', line: 1, col: 1 }, configSource: { file: '/app/app.yaml', line: 1, col: 1 },
  })

  function reloaderWith(host: object) {
    const log: string[] = []
    const config = appConfig([{ name: 'a' }], 'h1', [component('quote')])
    let gen: Generation = {
      number: 1, config, graph: buildGraph(config), compiled: new Map(), appliedAt: '',
      slots: new Map([['a', { decl: config.modules[0]!, status: { name: 'a', type: 'test.recorder', state: 'started' }, instance: {} }]]),
    }
    const reloader = createReloader({
      logger: silentLogger(), components: host as ComponentHost, current: () => gen, state: () => 'ready',
      async bringUp(_g, slot: Slot) { log.push(`start ${slot.decl.name}`); slot.status = { ...slot.status, state: 'started' } },
      async stopSlots(slots) { for (const s of [...slots].reverse()) log.push(`stop ${s.decl.name}`); return [] },
      swap(next) { log.push('swap'); gen = next },
    })
    const next = (components: ComponentDecl[]) => appConfig([{ name: 'a', behave: { v: 2 } }], 'h2', components)
    return { reloader, log, next }
  }

  it('reconciles after the modules are prepared and before the swap', async () => {
    const seen: string[][] = []
    const { reloader, log, next } = reloaderWith({
      async reconcile(decls: ComponentDecl[]) { log.push('reconcile'); seen.push(decls.map((d) => d.name)); return decls.map((d) => ({ name: d.name, ok: true })) },
    })
    expect((await reloader.reload(next([component('quote'), component('tax')]))).ok).toBe(true)
    expect(log).toEqual(['start a', 'reconcile', 'swap', 'stop a'])
    expect(seen).toEqual([['quote', 'tax']])
  })

  it('a component that does not reconcile aborts the reload like a module failure', async () => {
    const { reloader, log, next } = reloaderWith({
      async reconcile(decls: ComponentDecl[]) { return decls.map((d) => ({ name: d.name, ok: d.name !== 'tax', error: { code: 'ERR_COMPONENT_COMPILE', message: 'tax.ts:3 syntax error' } })) },
    })
    const result = await reloader.reload(next([component('quote'), component('tax')]))
    expect(result).toMatchObject({ ok: false, generation: 1, error: { code: 'ERR_COMPONENT_COMPILE', phase: 'components' } })
    expect(result.error!.message).toBe("component 'tax' could not be reloaded: tax.ts:3 syntax error")
    expect(log).toEqual(['start a', 'stop a'])
  })

  it('without reconcile on the host, a component change needs a restart; an unchanged component list needs nothing', async () => {
    const { reloader, next } = reloaderWith({})
    expect((await reloader.reload(next([component('quote'), component('tax')]))).error?.code).toBe('ERR_CONFIG_RELOAD_NEEDS_RESTART')
    expect((await reloader.reload(next([component('quote')]))).ok).toBe(true)
  })
})
