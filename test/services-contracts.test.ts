// A third party's view of the core: engine services a plugin must declare, module contracts checked at load, at
// create and at startup, and bus subscriptions that end with the module (or the pipeline generation) that made them.
// The plugin below is written against the sdk alone, as an outside author would.
import { afterEach, describe, expect, it } from 'vitest'
import { defineContract, defineModuleType, definePlugin, defineStepType, moduleRef, type BusEvent } from '@islet/sdk'
import { ConfigError, type Diagnostic } from '../runtime/config/diagnostics.ts'
import { isIsletError, type IsletError } from '../runtime/errors.ts'
import { editConfig, openTestApp, type OpenedApp } from './support/app.ts'
import { until } from './support/until.ts'

const clock = defineContract<{ now(): number }>('acme.clock', { now: 'function' })

/** What each `acme.listener` generation saw on the bus, by its label. */
const seen = new Map<string, string[]>()
const log = (label: string, event: BusEvent) => { seen.set(label, [...seen.get(label) ?? [], event.topic]) }

const acme = definePlugin({
  name: '@acme/core-test', version: '1.0.0', services: ['events'],
  moduleTypes: [
    defineModuleType({ type: 'acme.clock', configSchema: { type: 'object' }, provides: [clock], create: () => ({ now: () => 42 }) }),
    defineModuleType({ type: 'acme.plain', configSchema: { type: 'object' }, create: () => ({}) }),
    // Declares acme.clock but forgets to implement it.
    defineModuleType({ type: 'acme.broken-clock', configSchema: { type: 'object' }, provides: [clock], create: () => ({ later: () => 0 }) }),
    defineModuleType<{ source: string }, { time: number }>({
      type: 'acme.reader',
      configSchema: { type: 'object', required: ['source'], properties: { source: moduleRef('the clock to read', clock) } },
      create: (config, ctx) => ({ time: ctx.module(config.source, clock).now() }),
    }),
    // Reaches a dependency (dependsOn, no contract in its schema) as a clock: checked when it asks.
    defineModuleType<object, { time: number }>({
      type: 'acme.nosy', configSchema: { type: 'object' },
      create: (_config, ctx) => ({ time: ctx.module('other', clock).now() }),
    }),
    defineModuleType<{ label: string }>({
      type: 'acme.listener', configSchema: { type: 'object', properties: { label: { type: 'string' } } },
      create(config, ctx) {
        ctx.service('events').subscribe('app.*', (event) => log(config.label, event))
        return {}
      },
    }),
    defineModuleType({
      type: 'acme.pinger', configSchema: { type: 'object' },
      create(_config, ctx) {
        const events = ctx.service('events')
        return { ping: (topic: string) => events.publish(topic, { ok: true }) }
      },
    }),
  ],
  stepTypes: [
    // Subscribes when its pipeline is compiled: the subscription lasts as long as that compiled pipeline.
    defineStepType<{ label: string }>({
      type: 'acme.tap', configSchema: { type: 'object', properties: { label: { type: 'string' } } },
      create(config, ctx) {
        ctx.service('events').subscribe('app.*', (event) => log(config.label, event))
        return () => null
      },
    }),
  ],
})

/** A plugin that uses a service it does not declare: the mistake the engine must name. */
const careless = definePlugin({
  name: '@acme/careless', version: '0.3.0',
  moduleTypes: [defineModuleType({
    type: 'careless.audit', configSchema: { type: 'object' },
    create(_config, ctx) {
      ctx.service('events').subscribe('orders.*', () => {})
      return {}
    },
  })],
})

/** Another plugin's contract that happens to share acme.clock's name, with other members. */
const impostorClock = defineContract<{ tick(): void }>('acme.clock', { tick: 'function' })
const impostor = definePlugin({
  name: '@other/impostor', version: '1.0.0',
  moduleTypes: [defineModuleType({ type: 'impostor.clock', configSchema: { type: 'object' }, provides: [impostorClock], create: () => ({ tick() {} }) })],
})

const opened: OpenedApp[] = []
afterEach(async () => {
  seen.clear()
  for (const app of opened.splice(0)) await app.close()
})

async function open(yaml: string): Promise<OpenedApp> {
  const app = await openTestApp({ 'app.yaml': yaml }, { plugins: [acme, careless, impostor] })
  opened.push(app)
  return app
}

async function startFailure(yaml: string): Promise<{ error: IsletError; message: string }> {
  const app = await open(yaml)
  const error = await app.started.then(() => undefined, (e: unknown) => e)
  if (!isIsletError(error, 'ERR_ENGINE_START_FAILED')) throw new Error(`expected ERR_ENGINE_START_FAILED, got ${String(error)}`)
  return { error, message: error.message }
}

async function loadFailure(yaml: string): Promise<readonly Diagnostic[]> {
  const error = await openTestApp({ 'app.yaml': yaml }, { plugins: [acme, careless, impostor] }).then(async (app) => { await app.close(); return undefined }, (e: unknown) => e)
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error.diagnostics
}

describe('engine services', () => {
  it('a module whose plugin did not declare the service it uses fails startup, naming the plugin and the fix', async () => {
    const { error, message } = await startFailure(`apiVersion: islet/v1
modules:
  - name: audit
    type: careless.audit
`)
    expect(message).toContain("module 'audit' (careless.audit) asked for the 'events' service, which its plugin @acme/careless@0.3.0 does not declare (it declares none): add services: ['events'] to the plugin's definePlugin")
    expect((error.cause as IsletError).code).toBe('ERR_PLUGIN_SERVICE_UNDECLARED')
  })

  it('a plugin may not publish the engine\'s own islet.* topics', async () => {
    const app = await open(`apiVersion: islet/v1
modules:
  - name: pinger
    type: acme.pinger
`)
    await app.started
    expect(() => app.engine.module<{ ping(t: string): void }>('pinger').ping('islet.config.reloaded'))
      .toThrow(expect.objectContaining({ code: 'ERR_EVENT_TOPIC_RESERVED' }))
  })
})

describe('module contracts', () => {
  it('a moduleRef naming a module of the wrong contract is refused at load, at the YAML, with the modules that fit', async () => {
    const diagnostics = await loadFailure(`apiVersion: islet/v1
modules:
  - name: wall-clock
    type: acme.clock
  - name: other
    type: acme.plain
  - name: reader
    type: acme.reader
    config:
      source: other
`)
    expect(diagnostics).toHaveLength(1)
    expect(diagnostics[0]).toMatchObject({
      code: 'ERR_CONFIG_MODULE_CONTRACT', line: 10, col: 15,
      message: "module 'other' (acme.plain) does not provide acme.clock, which this property needs; acme.plain provides nothing",
      hint: 'modules that provide acme.clock: wall-clock',
    })
  })

  it('a sql step whose db is not a database is refused at load', async () => {
    const diagnostics = await loadFailure(`apiVersion: islet/v1
modules:
  - name: other
    type: acme.plain
pipelines:
  p:
    steps:
      - type: sql.query
        config: { db: other, sql: SELECT 1 }
`)
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_MODULE_CONTRACT', line: 9, col: 23 }])
    expect(diagnostics[0]!.hint).toContain('module types that do: storage.sqlite')
  })

  it('ctx.module(name, contract) refuses a module whose type does not declare the contract, listing what it provides', async () => {
    const { error, message } = await startFailure(`apiVersion: islet/v1
modules:
  - name: other
    type: acme.plain
  - name: nosy
    type: acme.nosy
    dependsOn: [other]
`)
    expect(message).toContain("module 'nosy' (acme.nosy) asked for module 'other' as acme.clock, but its type acme.plain does not provide it (it provides nothing)")
    expect((error.cause as IsletError).code).toBe('ERR_MODULE_CONTRACT_MISMATCH')
  })

  it('ctx.module(name, contract) refuses a module whose contract only shares the name, not the members', async () => {
    const { error, message } = await startFailure(`apiVersion: islet/v1
modules:
  - name: other
    type: impostor.clock
  - name: nosy
    type: acme.nosy
    dependsOn: [other]
`)
    expect((error.cause as IsletError).code).toBe('ERR_MODULE_CONTRACT_MISMATCH')
    expect(message).toContain("module 'nosy' (acme.nosy) asked for module 'other' as acme.clock, but its type impostor.clock provides another contract of that name")
  })

  it('an instance lacking a member of a contract its type provides fails at create, naming module, type, contract and member', async () => {
    const app = await open(`apiVersion: islet/v1
modules:
  - name: clock
    type: acme.broken-clock
`)
    await expect(app.started).rejects.toThrow(/ERR_ENGINE_START_FAILED|startup failed/)
    const status = app.engine.status().modules.find((m) => m.name === 'clock')
    expect(status).toMatchObject({ state: 'failed', phase: 'create', error: { code: 'ERR_MODULE_CONTRACT_UNMET' } })
    expect(status!.error!.message).toContain("module 'clock' (acme.broken-clock) does not meet the contract acme.clock its type declares in provides: member 'now' is missing (expected a function)")
  })
})

describe('bus subscriptions end with what made them', () => {
  const app = (label: string, tap: string) => `apiVersion: islet/v1
modules:
  - name: pinger
    type: acme.pinger
  - name: listener
    type: acme.listener
    config: { label: ${label} }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /tap, pipeline: tapped }]
pipelines:
  tapped:
    steps:
      - type: acme.tap
        config: { label: ${tap} }
`

  it('a module replaced by a reload hears nothing after it; a pipeline a kept module runs keeps its step subscriptions', async () => {
    const t = await open(app('first', 'tap'))
    await t.started
    const ping = (topic: string) => t.engine.module<{ ping(topic: string): void }>('pinger').ping(topic)
    ping('app.before')
    await until(() => seen.get('first')?.includes('app.before') === true && seen.get('tap')?.includes('app.before') === true)

    // The listener's config changes: it is replaced. The router, the server and the pipeline stay as they are.
    const result = await t.engine.reload(await editConfig(t, app('second', 'tap'), [acme, careless]))
    expect(result).toMatchObject({ ok: true, restarted: ['listener'] })
    ping('app.after')
    ping('app.marker')
    await until(() => seen.get('second')?.includes('app.marker') === true && seen.get('tap')?.includes('app.marker') === true)
    expect(seen.get('first')).toEqual(['app.before'])
    expect(seen.get('second')).toEqual(['app.after', 'app.marker'])
    expect(seen.get('tap')).toEqual(['app.before', 'app.after', 'app.marker'])

    // The pipeline changes: the router that runs it restarts with a newly compiled one, and the old one's steps go deaf.
    expect(await t.engine.reload(await editConfig(t, app('second', 'tap2'), [acme, careless]))).toMatchObject({ ok: true })
    ping('app.last')
    await until(() => seen.get('tap2')?.includes('app.last') === true && seen.get('second')?.includes('app.last') === true)
    expect(seen.get('tap')).toEqual(['app.before', 'app.after', 'app.marker'])
  })

  it('a module that fails to start hears nothing: its subscriptions end with the failed start', async () => {
    const failing = definePlugin({
      name: '@acme/flaky', version: '1.0.0', services: ['events'],
      moduleTypes: [defineModuleType({
        type: 'flaky.listener', configSchema: { type: 'object' },
        create(_config, ctx) {
          ctx.service('events').subscribe('app.*', (event) => log('flaky', event))
          return { start() { throw new Error('no start today') } }
        },
      })],
    })
    const t = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: flaky
    type: flaky.listener
` }, { plugins: [acme, failing] })
    opened.push(t)
    await expect(t.started).rejects.toThrow()
    t.engine.events.publish({ topic: 'app.after', payload: null, source: 'test', at: new Date().toISOString() })
    // A subscriber of the test's own, added after, hears the event: the flaky module's would have heard it first.
    let heard = false
    t.engine.events.subscribe('app.*', () => { heard = true })
    t.engine.events.publish({ topic: 'app.marker', payload: null, source: 'test', at: new Date().toISOString() })
    await until(() => heard)
    expect(seen.get('flaky')).toBeUndefined()
  })
})
