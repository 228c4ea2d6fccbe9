// Examples never touch real data: at start, on every reload and in `islet component test` they run on a throwaway
// isolate of the same code, with a scratch kv per example (optionally seeded by a `kv` fixture), emits captured and
// never published, and fetch only when the example declares it. Real sandbox, real SQLite, real HTTP on loopback.
import { existsSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { ComponentDecl, ComponentGrants } from '../runtime/config/types.ts'
import { createComponentHost, type ComponentHost } from '../runtime/components/host.ts'
import { createEventBus, ENGINE_SOURCE, type EngineEvent } from '../runtime/events/bus.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { cleanup as closeServers, serve } from '../runtime/sandbox/capabilities/test-servers.ts'
import { writeFiles } from './support/files.ts'

const { dir, cleanup } = writeFiles({})
afterAll(cleanup)
afterEach(closeServers)

const hosts: ComponentHost[] = []
afterEach(async () => { await Promise.all(hosts.splice(0).map((h) => h.stop())) })

const NO_GRANTS: ComponentGrants = { kv: false, emit: [], secrets: [] }

/** Writes `name.ts` and declares it. */
function decl(name: string, text: string, grants: Partial<ComponentGrants> = {}): ComponentDecl {
  const file = join(dir, `${name}.ts`)
  writeFileSync(file, text)
  const at = { file: join(dir, 'app.yaml'), line: 1, col: 1 }
  return { name, file, limits: {}, grants: { ...NO_GRANTS, ...grants }, config: {}, source: at, configSource: at }
}

/**
 * A started host whose bus records every app event published on it (not the engine's own islet.component.* reload
 * events, which share the bus); `examplesAtStart` false as `islet component test` does.
 */
async function start(decls: ComponentDecl[], data = join(dir, `data-${decls[0].name}`), examplesAtStart = true) {
  const bus = createEventBus()
  const published: EngineEvent[] = []
  const original = bus.publish.bind(bus)
  bus.publish = (event) => { if (event.source !== ENGINE_SOURCE) published.push(event); original(event) }
  const host = createComponentHost({
    components: decls, logger: silentLogger(), dataDir: data, bus, examplesAtStart,
    sandbox: { workers: 1, limits: { timeoutMs: 2000, cpuMs: 500 }, quarantine: { breaches: 100, windowMs: 1000, baseMs: 1000, maxMs: 1000 } },
  })
  hosts.push(host)
  await host.start()
  return { host, published, kvFile: join(data, 'islet-kv.db') }
}

/** Every row of the app's real kv store (none when the file was never created). */
function realKv(file: string): { namespace: string; key: string; value: string }[] {
  if (!existsSync(file)) return []
  const db = new Database(file, { readonly: true })
  try { return db.prepare('SELECT namespace, key, value FROM kv ORDER BY namespace, key').all() as never } finally { db.close() }
}

/** A kv-backed visit counter: its example expects the first visit, whatever the app's real count is. */
const visits = (version: number) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'visits',
  examples: [{ name: 'first visit', input: {}, output: { visits: 1, version: ${version} } }],
  async execute(_input: unknown, ctx) {
    const visits = ((await ctx.kv.get<number>('visits')) ?? 0) + 1
    await ctx.kv.set('visits', visits)
    await ctx.emit('visits.counted', { visits })
    return { visits, version: ${version} }
  },
})
`

describe('examples run with throwaway capabilities', () => {
  it('a kv-backed component reloads any number of times; the real kv and the bus never see its examples', async () => {
    const d = decl('visits', visits(0), { kv: true, emit: ['visits.*'] })
    const { host, published, kvFile } = await start([d])
    expect(await host.invoke('visits', {})).toEqual({ visits: 1, version: 0 })
    for (let version = 1; version <= 5; version++) {
      writeFileSync(d.file, visits(version))
      const result = await host.reload('visits')
      expect(result, JSON.stringify(result.error)).toMatchObject({ ok: true })
      expect(result.examples!.results).toEqual([expect.objectContaining({ name: 'first visit', ok: true, emits: [{ topic: 'visits.counted', payload: { visits: 1 } }] })])
    }
    // Live traffic sees only its own visit, then counts on from it.
    expect(realKv(kvFile)).toEqual([{ namespace: 'visits', key: 'visits', value: '1' }])
    expect(await host.invoke('visits', {})).toEqual({ visits: 2, version: 5 })
    expect(published.map((e) => e.payload)).toEqual([{ visits: 1 }, { visits: 2 }])
  })

  it("examples never change what live traffic sees of the module's own state", async () => {
    const counter = (version: number) => `import { defineComponent } from '@islet/sdk'
let calls = 0
export default defineComponent({
  name: 'module-state',
  examples: [{ input: {}, output: { calls: 1, version: ${version} } }, { input: {}, output: { calls: 2, version: ${version} } }],
  execute: () => ({ calls: ++calls, version: ${version} }),
})
`
    const d = decl('module-state', counter(0))
    const { host } = await start([d])
    expect(await host.invoke('module-state', {})).toEqual({ calls: 1, version: 0 })
    writeFileSync(d.file, counter(1))
    expect(await host.reload('module-state')).toMatchObject({ ok: true })
    expect(await host.invoke('module-state', {})).toEqual({ calls: 1, version: 1 })
    expect((await host.examples('module-state')).results.map((r) => r.ok)).toEqual([true, true])
    expect(await host.invoke('module-state', {})).toEqual({ calls: 2, version: 1 })
  })

  it('a kv fixture seeds the scratch store of its own example only, on top of what init wrote', async () => {
    const { host, kvFile } = await start([decl('seeded', `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'seeded',
  async init(_config: unknown, ctx) { await ctx.kv.set('unit', 'EUR') },
  examples: [
    { name: 'seeded', input: {}, kv: { total: 41 }, output: { total: 42, unit: 'EUR', keys: ['total', 'unit'] } },
    { name: 'empty', input: {}, output: { total: 1, unit: 'EUR', keys: ['total', 'unit'] } },
    { name: 'bad fixture', input: {}, kv: { '': 1 } },
  ],
  async execute(_input: unknown, ctx) {
    const total = ((await ctx.kv.get<number>('total')) ?? 0) + 1
    await ctx.kv.set('total', total)
    return { total, unit: await ctx.kv.get('unit'), keys: await ctx.kv.list() }
  },
})
`, { kv: true })], join(dir, 'data-seeded'), false)
    const { results } = await host.examples('seeded')
    expect(results.map((r) => [r.name, r.ok])).toEqual([['seeded', true], ['empty', true], ['bad fixture', false]])
    expect(results[2].reason).toContain("its kv fixture's key \"\": kv keys are non-empty strings")
    // The live generation's init wrote the real store; no example did.
    expect(realKv(kvFile)).toEqual([{ namespace: 'seeded', key: 'unit', value: '"EUR"' }])
  })

  it('fetch is refused unless the example declares it, and then goes through the grant', async () => {
    const server = await serve((_req, res) => res.end('pong'))
    const grants = { fetch: { origins: [server.origin], privateOrigins: [server.origin], maxRequests: 2 } }
    const { host } = await start([decl('fetches', `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'fetches',
  examples: [
    { name: 'undeclared', input: {}, output: 'pong' },
    { name: 'declared', input: {}, output: 'pong', fetch: true },
  ],
  execute: async (_input: unknown, ctx) => (await ctx.fetch('${server.origin}/ping')).text(),
})
`, grants)], join(dir, 'data-fetches'), false)
    const { results } = await host.examples('fetches')
    expect(results.map((r) => [r.name, r.ok])).toEqual([['undeclared', false], ['declared', true]])
    expect(results[0].reason).toMatch(/^ERR_CAPABILITY_DENIED: example 'undeclared' of component 'fetches' may not fetch: .*add fetch: true to the example/)
    expect(server.seen).toHaveLength(1)
    // Declaring it never widens the grant: live traffic and examples share the same allowlist.
    expect(await host.invoke('fetches', {})).toBe('pong')
  })

  it('an example that takes its worker down never touches live calls: examples run in a worker of their own', async () => {
    let started!: () => void
    const exampleRuns = new Promise<void>((resolve) => { started = resolve })
    const server = await serve((req, res) => { if (req.url === '/started') started(); res.end('ok') })
    const grants = { fetch: { origins: [server.origin], privateOrigins: [server.origin], maxRequests: 2 } }
    const crashing = (examples: string) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'crashing',
  examples: [${examples}],
  async execute(input: { fill?: boolean }, ctx) {
    if (!input.fill) return 'live'
    await ctx.fetch('${server.origin}/started')
    return new Array(6e7).fill().length
  },
})
`
    const d = decl('crashing', crashing("{ input: {}, output: 'live' }"), grants)
    const { host } = await start([d])
    const pids = (await host.sandbox().stats()).map((s) => s.pid)
    // V8 cannot interrupt fill(): the example's worker ends at its memory limit or is killed at the backup deadline.
    writeFileSync(d.file, crashing("{ input: { fill: true }, fetch: true }"))
    const reload = host.reload('crashing')
    await exampleRuns
    expect(await host.invoke('crashing', {})).toBe('live')
    expect(await reload).toMatchObject({ ok: false, error: { code: 'ERR_COMPONENT_EXAMPLE_FAILED', phase: 'examples' } })
    expect(await host.invoke('crashing', {})).toBe('live')
    expect((await host.sandbox().stats()).map((s) => s.pid)).toEqual(pids)
  })

  it('a component whose example fails does not start: the error names the example, located in its source', async () => {
    const d = decl('wrong', `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'wrong',
  examples: [
    { name: 'doubles', input: 2, output: 4 },
    { name: 'triples', input: 3, output: 9 },
  ],
  execute: (n: number) => n * 2,
})
`)
    const bus = createEventBus()
    const host = createComponentHost({
      components: [d], logger: silentLogger(), dataDir: join(dir, 'data-wrong'), bus,
      sandbox: { workers: 1, limits: {}, quarantine: { breaches: 100, windowMs: 1000, baseMs: 1000, maxMs: 1000 } },
    })
    hosts.push(host)
    const error = await host.start().then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_COMPONENT_LOAD_FAILED', details: { causes: [{ component: 'wrong', code: 'ERR_COMPONENT_EXAMPLE_FAILED' }] } })
    // Shown as diagnostics are: relative to where the command runs.
    expect((error as Error).message).toMatch(new RegExp(`^${relative(process.cwd(), d.file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:7 component 'wrong': its example 'triples' failed at start .*expected 9\\s+actual +6`, 's'))
  })
})
