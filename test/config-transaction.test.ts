// A config reload is one transaction: nothing of generation N+1 (routes, modules, components) is visible until every
// part of it is ready, and a failure leaves nothing of it. A broken component nothing calls does not veto the rest.
// Watch mode follows what the config is made of: component folders and migrations, not only the YAML.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defineModuleType, definePlugin } from '@islet/sdk'
import type { AppConfig } from '../runtime/config/types.ts'
import type { ConfigEvent } from '../runtime/engine/engine.ts'
import { watchConfig, type ConfigWatcher } from '../runtime/engine/watch-config.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { editConfig, json, startApp, type TestApp } from './support/app.ts'
import { until } from './support/until.ts'

/** `test.gated` modules start when their gate opens, and fail then if their config says so. */
const gates = new Map<string, { entered: boolean; open(): void }>()
const plugin = definePlugin({
  name: 'test-transaction', version: '1.0.0',
  moduleTypes: [
    defineModuleType<{ fail?: boolean }>({
      type: 'test.gated', configSchema: { type: 'object' },
      create(config, ctx) {
        return {
          async start() {
            await new Promise<void>((resolve) => gates.set(ctx.name, { entered: true, open: resolve }))
            if (config.fail) throw new Error(`${ctx.name} refuses to start`)
          },
        }
      },
    }),
  ],
})

const component = (name: string, body: string) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: '${name}', execute: () => (${body}) })
`

function app(o: { v: number; gated?: 'ok' | 'fail'; call?: string; components?: boolean; admin?: boolean; migrations?: boolean }): string {
  return `apiVersion: islet/v1
${o.components ? 'components:\n  - directory: ./components\n' : ''}modules:
${o.admin ? '  - name: admin\n    type: islet.admin\n' : ''}${o.migrations ? '  - name: db\n    type: storage.sqlite\n    config: { file: app.db, migrations: ./migrations }\n' : ''}  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /v, pipeline: v }${o.call ? '\n        - { method: GET, path: /call, pipeline: call }' : ''}${o.migrations ? '\n        - { method: GET, path: /notes, pipeline: notes }' : ''}
  - name: web
    type: http.server
    config: { port: 0, routers: [api]${o.admin ? ', middleware: [admin]' : ''} }
${o.gated ? `  - name: slow\n    type: test.gated\n    config: { fail: ${o.gated === 'fail'} }\n` : ''}pipelines:
  v:
    steps:
      - type: respond
        config: { headers: { x-v: '${o.v}' }, body: { v: ${o.v} } }
${o.call ? `  call:\n    steps:\n      - name: out\n        type: component\n        config: { component: ${o.call}, input: {} }\n      - type: respond\n        config: { body: '\${{ steps.out }}' }\n` : ''}${o.migrations ? `  notes:
    steps:
      - name: rows
        type: sql.query
        config: { db: db, sql: 'SELECT count(*) AS n FROM notes' }
      - type: respond
        config: { body: '\${{ steps.rows }}' }
` : ''}`
}

const loaded = (t: TestApp, yaml: string): Promise<AppConfig> => editConfig(t, yaml, [plugin])

const getV = async (t: TestApp) => {
  const res = await fetch(`${t.url}/v`)
  return { status: res.status, header: res.headers.get('x-v'), body: await json(res) }
}

let open: TestApp | undefined
let watcher: ConfigWatcher | undefined
afterEach(async () => {
  await watcher?.close()
  watcher = undefined
  await open?.close()
  open = undefined
  gates.clear()
})

async function start(files: Record<string, string>): Promise<TestApp> {
  open = await startApp(files, { plugins: [plugin] })
  return open
}

/** Starts the config watcher the way `islet dev` does, collecting the engine's config events. */
async function watching(t: TestApp): Promise<ConfigEvent[]> {
  const events: ConfigEvent[] = []
  t.engine.onEvent((e) => events.push(e))
  const registry = createBuiltinRegistry()
  registry.register(plugin)
  watcher = watchConfig({ engine: t.engine, file: join(t.dir, 'app.yaml'), registry, env: process.env, logger: silentLogger() })
  await watcher.ready
  return events
}

describe('a config reload is all or nothing', () => {
  it('while a part of generation N+1 is still starting, every request is answered by N; if that part fails, nothing of N+1 remains', async () => {
    const t = await start({ 'app.yaml': app({ v: 1 }) })
    const reload = t.engine.reload(await loaded(t, app({ v: 2, gated: 'fail' })))
    // The new server has started (it precedes `slow`, which nothing depends on): under the old order it had already
    // taken the socket over here.
    await until(() => gates.get('slow')?.entered === true)
    expect(await getV(t)).toEqual({ status: 200, header: '1', body: { v: 1 } })
    gates.get('slow')!.open()
    expect(await reload).toMatchObject({ ok: false, generation: 1, error: { module: 'slow', code: 'ERR_MODULE_START_FAILED' } })
    expect(await getV(t)).toEqual({ status: 200, header: '1', body: { v: 1 } })
    expect(t.engine.status().modules.map((m) => m.name)).not.toContain('slow')
  })

  it('the same reload succeeding switches every route at its commit, on the same socket', async () => {
    const t = await start({ 'app.yaml': app({ v: 1 }) })
    const reload = t.engine.reload(await loaded(t, app({ v: 2, gated: 'ok' })))
    await until(() => gates.get('slow')?.entered === true)
    expect((await getV(t)).body).toEqual({ v: 1 })
    gates.get('slow')!.open()
    expect(await reload).toMatchObject({ ok: true, generation: 2 })
    expect(await getV(t)).toEqual({ status: 200, header: '2', body: { v: 2 } })
  })

  it('a broken component nothing calls does not veto a YAML edit: the edit applies, the component is reported and not served', async () => {
    const t = await start({ 'app.yaml': app({ v: 1, components: true, call: 'good' }), 'components/good.ts': component('good', "{ ok: 'good-1' }") })
    writeFileSync(join(t.dir, 'components/wip.ts'), 'export default defineComponent({ name: ') // being written
    const result = await t.engine.reload(await loaded(t, app({ v: 2, components: true, call: 'good' })))
    expect(result).toMatchObject({ ok: true, generation: 2, componentErrors: [{ name: 'wip', code: 'ERR_COMPONENT_COMPILE' }] })
    expect(await getV(t)).toMatchObject({ header: '2', body: { v: 2 } })
    expect(await (await fetch(`${t.url}/call`)).json()).toEqual({ ok: 'good-1' })
    expect(t.engine.components!.status().find((s) => s.name === 'wip')).toMatchObject({ state: 'failed', generation: 0 })
  })

  it('a reload that adds a component and the pipeline calling it applies both together', async () => {
    const t = await start({ 'app.yaml': app({ v: 1, components: true }), 'components/good.ts': component('good', "{ ok: 'good-1' }") })
    writeFileSync(join(t.dir, 'components/tax.ts'), component('tax', '{ rate: 0.2 }'))
    const result = await t.engine.reload(await loaded(t, app({ v: 2, components: true, call: 'tax' })))
    expect(result).toMatchObject({ ok: true, generation: 2 })
    expect(await (await fetch(`${t.url}/call`)).json()).toEqual({ rate: 0.2 })
  })

  it('a serving component whose new declaration cannot be built fails the reload: it never serves on with what the edit took away', async () => {
    const yaml = (rate: string) => app({ v: 1, call: 'tax' }).replace('modules:', `components:\n  - file: ./tax.ts\n    config: { rate: ${rate} }\nmodules:`)
    const t = await start({
      'app.yaml': yaml('0.2'),
      'tax.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'tax',
  config: { type: 'object', required: ['rate'], properties: { rate: { type: 'number', maximum: 1 } } },
  execute: (_: unknown, ctx: any) => ({ rate: ctx.config.rate }),
})
`,
    })
    const result = await t.engine.reload(await loaded(t, yaml('5').replace("x-v: '1'", "x-v: '2'")))
    expect(result).toMatchObject({ ok: false, generation: 1, error: { phase: 'components', code: 'ERR_COMPONENT_CONFIG_INVALID' } })
    expect(result.error!.message).toMatch(/^component 'tax' could not be rebuilt with its new declaration/)
    expect(await (await fetch(`${t.url}/call`)).json()).toEqual({ rate: 0.2 })
    expect((await getV(t)).header).toBe('1')
  })

  it('a component the new config calls that cannot be loaded fails the reload with its reason, and the rest of the edit is not applied', async () => {
    const t = await start({ 'app.yaml': app({ v: 1, components: true, call: 'good' }), 'components/good.ts': component('good', "{ ok: 'good-1' }") })
    writeFileSync(join(t.dir, 'components/fresh.ts'), component('fresh', "{ ok: 'fresh' }"))
    writeFileSync(join(t.dir, 'components/wip.ts'), 'export default defineComponent({ name: ')
    const result = await t.engine.reload(await loaded(t, app({ v: 2, components: true, call: 'wip' })))
    expect(result).toMatchObject({ ok: false, generation: 1, error: { phase: 'components', code: 'ERR_COMPONENT_COMPILE' } })
    expect(result.error!.message).toMatch(/component 'wip' is called by the new config but could not be loaded: .*wip\.ts:1:\d+/s)
    expect(await getV(t)).toMatchObject({ header: '1', body: { v: 1 } })
    // The valid new component of the same reload was not added either.
    expect(t.engine.components!.has('fresh')).toBe(false)
    expect(t.engine.components!.status().map((s) => s.name)).toEqual(['good'])
  })
})

describe('watch mode follows what the config is made of', () => {
  it('a component file added to, renamed in or deleted from a directory: entry is picked up without touching the YAML', async () => {
    const t = await start({ 'app.yaml': app({ v: 1, components: true }), 'components/alpha.ts': component('alpha', "{ ok: 'alpha' }") })
    const events = await watching(t)
    const host = t.engine.components!
    writeFileSync(join(t.dir, 'components/beta.ts'), component('beta', "{ ok: 'beta' }"))
    await until(() => host.has('beta'))
    expect(await host.invoke('beta', {})).toEqual({ ok: 'beta' })
    mkdirSync(join(t.dir, 'components/gamma'))
    writeFileSync(join(t.dir, 'components/gamma/index.ts'), component('gamma', "{ ok: 'gamma' }"))
    await until(() => host.has('gamma'))
    renameSync(join(t.dir, 'components/beta.ts'), join(t.dir, 'components/delta.ts'))
    await until(() => host.has('delta') && !host.has('beta'))
    rmSync(join(t.dir, 'components/alpha.ts'))
    await until(() => !host.has('alpha'))
    expect(host.status().map((s) => s.name).sort()).toEqual(['delta', 'gamma'])
    expect(events.every((e) => e.type === 'config.reloaded')).toBe(true)
  })

  it('deleting a component a pipeline calls is rejected with the place that calls it, and the component keeps serving', async () => {
    const t = await start({ 'app.yaml': app({ v: 1, components: true, call: 'alpha' }), 'components/alpha.ts': component('alpha', "{ ok: 'alpha' }") })
    const events = await watching(t)
    rmSync(join(t.dir, 'components/alpha.ts'))
    await until(() => events.some((e) => e.type === 'config.reload-failed'))
    const failed = events.find((e) => e.type === 'config.reload-failed')!
    expect(failed).toMatchObject({ error: { code: 'ERR_CONFIG_INVALID' }, diagnostics: expect.arrayContaining([expect.objectContaining({ code: 'ERR_CONFIG_UNKNOWN_REFERENCE', line: 23 })]) })
    expect(await (await fetch(`${t.url}/call`)).json()).toEqual({ ok: 'alpha' })
  })

  it('a migration added while running is applied by the next reload of its storage module; a failing one keeps the old generation, reported', async () => {
    const t = await start({
      'app.yaml': app({ v: 1, migrations: true }),
      'migrations/001_notes.sql': 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);',
    })
    const events = await watching(t)
    expect(await (await fetch(`${t.url}/notes`)).json()).toEqual([{ n: 0 }])
    writeFileSync(join(t.dir, 'migrations/002_seed.sql'), "INSERT INTO notes (text) VALUES ('first'), ('second');")
    await until(() => events.some((e) => e.type === 'config.reloaded'))
    expect(events.find((e) => e.type === 'config.reloaded')).toMatchObject({ restarted: expect.arrayContaining(['db']) })
    expect(await (await fetch(`${t.url}/notes`)).json()).toEqual([{ n: 2 }])

    writeFileSync(join(t.dir, 'migrations/003_broken.sql'), 'INSERT INTO no_such_table VALUES (1);')
    await until(() => events.some((e) => e.type === 'config.reload-failed'))
    expect(events.find((e) => e.type === 'config.reload-failed')).toMatchObject({ error: { message: expect.stringContaining('003_broken.sql') } })
    expect(await (await fetch(`${t.url}/notes`)).json()).toEqual([{ n: 2 }])
    expect(t.engine.status()).toMatchObject({ generation: 2, lastReload: { ok: false } })
  })

  it('an edit rejected at validation shows in /admin/status and on /admin/events; fixing it records the config serving again', async () => {
    const t = await start({ 'app.yaml': app({ v: 1, admin: true }) })
    const events = await watching(t)
    writeFileSync(join(t.dir, 'app.yaml'), app({ v: 1, admin: true }).replace('port: 0', "port: 'zero'"))
    await until(() => events.some((e) => e.type === 'config.reload-failed'))
    const status = await json(await fetch(`${t.url}/admin/status`))
    expect(status).toMatchObject({ generation: 1, lastReload: { ok: false, error: { code: 'ERR_CONFIG_INVALID' }, diagnostics: [{ line: expect.any(Number), col: expect.any(Number) }] } })
    expect(status.lastReload.diagnostics[0].file).toMatch(/app\.yaml$/)
    writeFileSync(join(t.dir, 'app.yaml'), app({ v: 1, admin: true }))
    await until(() => events.some((e) => e.type === 'config.reloaded'))
    expect(await json(await fetch(`${t.url}/admin/status`))).toMatchObject({ lastReload: { ok: true } })
  })
})
