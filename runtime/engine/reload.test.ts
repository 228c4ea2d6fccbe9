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
import { createEngine, type ConfigGeneration, type ModuleRecord } from './engine.ts'
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

describe('components in a config reload: one transaction with the modules', () => {
  const component = (name: string): ComponentDecl => ({
    name, file: `/app/${name}.ts`, limits: {}, config: undefined, grants: { kv: false, emit: [], secrets: [] },
    source: { file: '/app/app.yaml', line: 1, col: 1 }, configSource: { file: '/app/app.yaml', line: 1, col: 1 },
  })
  /** A pipeline whose step calls `name`, so the config needs that component. */
  const calling = (config: AppConfig, name: string): AppConfig => ({
    ...config,
    pipelines: { p: { name: 'p', source: { file: '/app/app.yaml', line: 9, col: 3 }, steps: [{
      kind: 'step', name: 'c', type: 'component', config: { component: name }, refs: { modules: [], pipelines: [], components: [name] },
      source: { file: '/app/app.yaml', line: 10, col: 5 },
    }] } },
  })

  /** A component host whose transaction fails for the names in `failing`; `serving` have a live generation. */
  function reloaderWith(options: { failing?: string[]; serving?: string[]; failStart?: boolean } = {}) {
    const log: string[] = []
    const events: unknown[] = []
    const config = appConfig([{ name: 'a' }], 'h1', [component('quote')])
    let gen: ConfigGeneration = {
      number: 1, config, graph: buildGraph(config), compiled: new Map(), appliedAt: '',
      slots: new Map([['a', { decl: config.modules[0]!, status: { name: 'a', type: 'test.recorder', state: 'started' }, instance: {} }]]),
    }
    const host = {
      generation: (name: string) => (options.serving?.includes(name) ? { number: 1 } : undefined),
      async transaction(decls: ComponentDecl[]) {
        log.push(`prepare ${decls.map((d) => d.name).join(',')}`)
        const failed = decls.filter((d) => options.failing?.includes(d.name))
          .map((d) => ({ name: d.name, ok: false, ms: 0, error: { code: 'ERR_COMPONENT_COMPILE', message: `${d.name}.ts:3:1 syntax error` } }))
        return {
          failed,
          has: () => false,
          commit() { log.push('commit components'); return failed },
          abort() { log.push('abort components') },
          settle() {},
        }
      },
    }
    const reloader = createReloader({
      logger: silentLogger(), components: host as unknown as ComponentHost, current: () => gen, state: () => 'ready',
      async bringUp(_g, slot: ModuleRecord) {
        log.push(`start ${slot.decl.name}`)
        slot.status = options.failStart
          ? { ...slot.status, state: 'failed', phase: 'start', error: { code: 'ERR_MODULE_START_FAILED', message: 'no' } }
          : { ...slot.status, state: 'started' }
      },
      async stopSlots(slots) { for (const s of [...slots].reverse()) log.push(`stop ${s.decl.name}`); return [] },
      swap(next) { log.push('swap'); gen = next },
      commit(slots) { log.push(`commit ${slots.map((s) => s.decl.name).join(',')}`) },
      dispose() {},
      discard() {},
      publish: (event) => { events.push(event) },
    })
    const next = (components: ComponentDecl[]) => appConfig([{ name: 'a', behave: { v: 2 } }], 'h2', components)
    return { reloader, log, next, events }
  }

  it('prepares the components before the modules, and commits both only once every part is ready', async () => {
    const { reloader, log, next } = reloaderWith()
    expect((await reloader.reload(next([component('quote'), component('tax')]))).ok).toBe(true)
    expect(log).toEqual(['prepare quote,tax', 'start a', 'swap', 'commit components', 'commit a', 'stop a'])
  })

  it('a module failing to start aborts the prepared components: nothing of the new generation is committed', async () => {
    const { reloader, log, next } = reloaderWith({ failStart: true })
    const result = await reloader.reload(next([component('quote'), component('tax')]))
    expect(result).toMatchObject({ ok: false, generation: 1, error: { code: 'ERR_MODULE_START_FAILED' } })
    expect(log).toEqual(['prepare quote,tax', 'start a', 'abort components'])
  })

  it('a new component the new config calls, that cannot be loaded, fails the reload with its reason before any module starts', async () => {
    const { reloader, log, next } = reloaderWith({ failing: ['tax'] })
    const result = await reloader.reload(calling(next([component('quote'), component('tax')]), 'tax'))
    expect(result).toMatchObject({ ok: false, generation: 1, error: { code: 'ERR_COMPONENT_COMPILE', phase: 'components' } })
    expect(result.error!.message).toBe("component 'tax' is called by the new config but could not be loaded: tax.ts:3:1 syntax error")
    expect(log).toEqual(['prepare quote,tax', 'abort components'])
  })

  it('a broken new component nothing calls does not veto the rest: it is reported', async () => {
    const { reloader, log, next } = reloaderWith({ failing: ['tax'] })
    const result = await reloader.reload(calling(next([component('quote'), component('tax')]), 'quote'))
    expect(result).toMatchObject({ ok: true, generation: 2, componentErrors: [{ name: 'tax', code: 'ERR_COMPONENT_COMPILE' }] })
    expect(log).toEqual(['prepare quote,tax', 'start a', 'swap', 'commit components', 'commit a', 'stop a'])
  })

  it('a serving component whose new declaration cannot be built fails the reload: it never serves on with the old grants', async () => {
    const { reloader, log, next } = reloaderWith({ failing: ['quote'], serving: ['quote'] })
    const result = await reloader.reload(next([{ ...component('quote'), grants: { kv: false, emit: [], secrets: [] }, limits: { timeoutMs: 50 } }]))
    expect(result).toMatchObject({ ok: false, generation: 1, error: { code: 'ERR_COMPONENT_COMPILE', phase: 'components' } })
    expect(result.error!.message).toMatch(/^component 'quote' could not be rebuilt with its new declaration/)
    expect(log).toEqual(['prepare quote', 'abort components'])
  })

  it('an edit that did not validate is recorded as a failed attempt with its diagnostics, and announced', async () => {
    const { reloader, events } = reloaderWith()
    const diagnostic = { file: '/app/app.yaml', line: 4, col: 7, severity: 'error' as const, code: 'ERR_CONFIG_SCHEMA' as const, message: 'must be integer', path: 'modules[0].config.port' }
    const result = await reloader.reject([diagnostic])
    expect(result).toMatchObject({ ok: false, generation: 1, error: { code: 'ERR_CONFIG_INVALID' }, diagnostics: [diagnostic] })
    expect(reloader.last).toBe(result)
    // The event carries them in the public shape (sdk Diagnostic): `column`, and every key present.
    expect(events).toEqual([expect.objectContaining({ type: 'config.reload-failed', error: expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      diagnostics: [{ file: '/app/app.yaml', line: 4, column: 7, severity: 'error', code: 'ERR_CONFIG_SCHEMA', message: 'must be integer', hint: null, path: 'modules[0].config.port' }] })])
  })
})
