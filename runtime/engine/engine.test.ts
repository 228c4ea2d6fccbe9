// The engine's lifecycle: dependency order, reverse stop, deadlines, failure recording and propagation.
import { describe, expect, it } from 'vitest'
import { defineContract, defineModuleType, definePlugin } from '@islet/sdk'
import { DEFAULT_SANDBOX } from '../config/component-schema.ts'
import type { AppConfig, ModuleDecl } from '../config/types.ts'
import { ConfigError } from '../config/diagnostics.ts'
import { createRegistry } from '../plugins/registry.ts'
import { silentLogger } from '../log/logger.ts'
import { isIsletError } from '../errors.ts'
import { createEngine } from './engine.ts'
import { tmpdir } from 'node:os'

interface Behaviour { failCreate?: boolean; failStart?: boolean; hangStart?: boolean; failStop?: boolean; hangStop?: boolean; detail?: unknown; failDetail?: boolean }

function setup(modules: { name: string; dependsOn?: string[]; behave?: Behaviour; refs?: string[] }[]) {
  const events: string[] = []
  const recorder = defineModuleType<Behaviour>({
    type: 'test.recorder',
    configSchema: { type: 'object' },
    create(config, ctx) {
      events.push(`create ${ctx.name}`)
      if (config.failCreate) throw new Error(`${ctx.name} cannot be created`)
      return {
        async start() {
          events.push(`start ${ctx.name}`)
          if (config.failStart) throw new Error(`${ctx.name} refuses to start`)
          if (config.hangStart) await new Promise(() => {})
        },
        status() {
          if (config.failDetail) throw new Error('the queue file is gone')
          return config.detail
        },
        async stop() {
          events.push(`stop ${ctx.name}`)
          if (config.failStop) throw new Error(`${ctx.name} refuses to stop`)
          if (config.hangStop) await new Promise(() => {})
        },
      }
    },
  })
  const registry = createRegistry()
  registry.register(definePlugin({ name: 'test', version: '1.0.0', moduleTypes: [recorder] }))
  const decls: ModuleDecl[] = modules.map((m, i) => ({
    name: m.name, type: 'test.recorder', config: m.behave ?? {}, dependsOn: m.dependsOn ?? [],
    refs: { modules: m.refs ?? [], pipelines: [] }, source: { file: '/app/app.yaml', line: 3 + i * 4, col: 5 },
  }))
  const config: AppConfig = { apiVersion: 'islet/v1', file: '/app/app.yaml', files: ['/app/app.yaml'], modules: decls, pipelines: {},
    components: [], sandbox: DEFAULT_SANDBOX, hash: 'test' }
  const engine = createEngine({
    config, registry, logger: silentLogger(), dataDir: tmpdir(),
    timeouts: { createMs: 200, startMs: 200, stopMs: 200 },
  })
  return { engine, events }
}

describe('engine lifecycle', () => {
  it('starts in dependency order and stops in reverse', async () => {
    const { engine, events } = setup([
      { name: 'web', dependsOn: ['api'] }, { name: 'api', refs: ['db'] }, { name: 'db' },
    ])
    await engine.start()
    expect(engine.state).toBe('ready')
    await engine.stop()
    expect(events).toEqual(['create db', 'start db', 'create api', 'start api', 'create web', 'start web', 'stop web', 'stop api', 'stop db'])
    expect(engine.state).toBe('stopped')
  })

  it('stop() is idempotent: concurrent and repeated calls share one shutdown', async () => {
    const { engine, events } = setup([{ name: 'a' }])
    await engine.start()
    const [p1, p2] = [engine.stop(), engine.stop()]
    expect(p1).toBe(p2)
    await p1
    await engine.stop()
    expect(events.filter((e) => e.startsWith('stop'))).toEqual(['stop a'])
  })

  it('reports a cycle with its chain and the location of the module that closes it', () => {
    expect(() => setup([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['c'] }, { name: 'c', dependsOn: ['a'] }]))
      .toThrowError(ConfigError)
    try {
      setup([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }])
    } catch (error) {
      const d = (error as ConfigError).diagnostics[0]
      expect(d.code).toBe('ERR_MODULE_GRAPH_CYCLE')
      expect(d.message).toContain('a → b → a')
      expect(d).toMatchObject({ file: '/app/app.yaml', line: 7, col: 5 })
    }
  })

  it('records the failed phase, skips dependents naming the dependency, stops what started, and fails as a whole', async () => {
    const { engine, events } = setup([
      { name: 'db' }, { name: 'cache', behave: { failStart: true } }, { name: 'api', dependsOn: ['cache', 'db'] }, { name: 'other' },
    ])
    const error = await engine.start().then(() => undefined, (e: unknown) => e)
    expect(isIsletError(error, 'ERR_ENGINE_START_FAILED')).toBe(true)
    expect((error as Error).message).toContain("cache (test.recorder): failed to start: cache refuses to start")
    expect((error as Error).message).toContain("api (test.recorder): not started because its dependency 'cache' failed to start")
    const status = Object.fromEntries(engine.status().modules.map((m) => [m.name, m]))
    expect(status.cache).toMatchObject({ state: 'failed', phase: 'start' })
    expect(status.api).toMatchObject({ state: 'skipped', error: { code: 'ERR_MODULE_DEPENDENCY_FAILED' } })
    expect(status.db.state).toBe('stopped')
    expect(status.other.state).toBe('stopped')
    expect(events).not.toContain('create api')
    // the module that failed to start got its stop at once; at the end the started ones stop in reverse order
    expect(events.slice(events.indexOf('start cache'), events.indexOf('start cache') + 2)).toEqual(['start cache', 'stop cache'])
    expect(events.slice(-2)).toEqual(['stop other', 'stop db'])
    expect(engine.state).toBe('failed')
  })

  it("status shows what a started module's status() answers, a throw as detail.error, nothing once it stopped", async () => {
    const { engine } = setup([{ name: 'jobs', behave: { detail: { depth: 3 } } }, { name: 'broken', behave: { failDetail: true } }])
    await engine.start()
    const status = Object.fromEntries(engine.status().modules.map((m) => [m.name, m]))
    expect(status.jobs.detail).toEqual({ depth: 3 })
    expect(status.broken).toMatchObject({ state: 'started', detail: { error: 'the queue file is gone' } })
    await engine.stop()
    expect(engine.status().modules.map((m) => m.detail)).toEqual([undefined, undefined])
  })

  it('a create failure is recorded in phase create', async () => {
    const { engine } = setup([{ name: 'a', behave: { failCreate: true } }])
    await expect(engine.start()).rejects.toThrow(/a \(test.recorder\): failed to create: a cannot be created/)
    expect(engine.status().modules[0]).toMatchObject({ state: 'failed', phase: 'create', error: { message: 'a cannot be created' } })
  })

  it('puts a deadline on start and names the module and phase', async () => {
    const { engine } = setup([{ name: 'slow', behave: { hangStart: true } }])
    await expect(engine.start()).rejects.toThrow(/'slow' did not start within 200 ms/)
    expect(engine.status().modules[0].error?.code).toBe('ERR_MODULE_START_TIMEOUT')
  })

  it('shutdown always finishes: a failing and a hanging stop do not prevent the others, the first error is reported', async () => {
    const { engine, events } = setup([{ name: 'a' }, { name: 'b', behave: { hangStop: true } }, { name: 'c', behave: { failStop: true } }])
    await engine.start()
    await expect(engine.stop()).rejects.toThrow('c refuses to stop')
    expect(events.slice(-3)).toEqual(['stop c', 'stop b', 'stop a'])
    const status = Object.fromEntries(engine.status().modules.map((m) => [m.name, m]))
    expect(status.b.error?.code).toBe('ERR_MODULE_STOP_TIMEOUT')
    expect(status.a.state).toBe('stopped')
  })

  it('a module reaches only the modules it depends on', async () => {
    const registry = createRegistry()
    let seen: unknown
    const hello = defineContract<{ hello: string }>('t.hello', { hello: 'string' })
    registry.register(definePlugin({
      name: 't', version: '1.0.0', moduleTypes: [
        defineModuleType({ type: 't.plain', configSchema: {}, provides: [hello], create: () => ({ hello: 'world' }) }),
        defineModuleType({
          type: 't.nosy', configSchema: {},
          create(_c, ctx) {
            seen = ctx.module('friend', hello).hello
            ctx.module('stranger', hello)
            return {}
          },
        }),
      ],
    }))
    const mk = (name: string, type: string, dependsOn: string[] = []): ModuleDecl => ({
      name, type, config: {}, dependsOn, refs: { modules: [], pipelines: [] }, source: { file: '/a.yaml', line: 1, col: 1 },
    })
    const engine = createEngine({
      config: { apiVersion: 'islet/v1', file: '/a.yaml', files: [], hash: 'x', pipelines: {}, components: [], sandbox: DEFAULT_SANDBOX,
        modules: [mk('friend', 't.plain'), mk('stranger', 't.plain'), mk('nosy', 't.nosy', ['friend'])] },
      registry, logger: silentLogger(), dataDir: tmpdir(),
    })
    await expect(engine.start()).rejects.toThrow(/nosy .*asked for module 'stranger', which is not among its dependencies/)
    expect(seen).toBe('world')
  })
})
