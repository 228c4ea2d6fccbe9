// Component reload on a real sandbox: prepare aside → swap → drain → dispose. Failed reloads (compile error, init
// throws, failing example, limit breach, deleted file) keep the previous generation serving; reconcile; event order.
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ComponentDecl } from '../runtime/config/types.ts'
import { createComponentHost, type ComponentEvent, type ComponentHost } from '../runtime/components/host.ts'
import { createEventBus } from '../runtime/events/bus.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { writeFiles } from './support/files.ts'
import { until } from './support/until.ts'

/** A component named `name` answering `output` (an expression); `more` adds properties to its definition. */
const source = (name: string, output: string, more = '') => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: '${name}',${more}
  execute: (input: any, ctx: any) => (${output}),
})
`

const { dir, cleanup } = writeFiles({})
afterAll(cleanup)

function decl(name: string, text: string, extra: Partial<ComponentDecl> = {}): ComponentDecl {
  const file = join(dir, `${name}.ts`)
  writeFileSync(file, text)
  const at = { file: join(dir, 'app.yaml'), line: 1, col: 1 }
  return { name, file, limits: {}, grants: { kv: false, emit: [], secrets: [] }, config: {}, source: at, configSource: at, ...extra }
}

function createHost(decls: ComponentDecl[]): ComponentHost {
  return createComponentHost({
    components: decls, logger: silentLogger(), dataDir: join(dir, 'data'), bus: createEventBus(),
    sandbox: { workers: 1, limits: { timeoutMs: 1000, cpuMs: 200 }, quarantine: { breaches: 1, windowMs: 60_000, baseMs: 60_000, maxMs: 60_000 } },
  })
}

/** Every event of `host` from now on, in order. */
function record(host: ComponentHost): ComponentEvent[] {
  const events: ComponentEvent[] = []
  host.onEvent((e) => events.push(e))
  return events
}

/** The first event matching `match` from now on. */
function next(host: ComponentHost, match: (e: ComponentEvent) => boolean): Promise<ComponentEvent> {
  return new Promise((resolve) => {
    const off = host.onEvent((e) => { if (match(e)) { off(); resolve(e) } })
  })
}

const isolates = async (host: ComponentHost) => (await host.sandbox().stats()).reduce((n, s) => n + s.isolates, 0)

describe('reload', () => {
  let host: ComponentHost
  beforeAll(async () => {
    host = createHost(['swap', 'syntax', 'init', 'example', 'breach', 'gone', 'serial', 'same', 'ahead'].map((n) => decl(n, source(n, "{ v: 1 }"))))
    await host.start()
  })
  afterAll(() => host.stop())

  it('builds the new generation aside, swaps it in, then retires the old one; events in order', async () => {
    const events = record(host)
    const retired = next(host, (e) => e.type === 'component.retired' && e.name === 'swap')
    writeFileSync(join(dir, 'swap.ts'), source('swap', '{ v: 2 }'))
    const result = await host.reload('swap')
    expect(result).toMatchObject({ name: 'swap', ok: true, generation: expect.any(Number), previous: expect.any(Number) })
    expect(result.generation).toBeGreaterThan(result.previous!)
    expect(await host.invoke('swap', {})).toEqual({ v: 2 })
    expect(await retired).toMatchObject({ generation: result.previous, drained: true })
    writeFileSync(join(dir, 'swap.ts'), source('swap', '{ v: 3 '))
    const failed = await host.reload('swap')
    writeFileSync(join(dir, 'swap.ts'), source('swap', '{ v: 3 }'))
    const retiredAgain = next(host, (e) => e.type === 'component.retired' && e.generation === result.generation)
    const third = await host.reload('swap')
    await retiredAgain
    expect(events.map((e) => [e.type, 'generation' in e ? e.generation : undefined, 'previous' in e ? e.previous : undefined])).toEqual([
      ['component.reloaded', result.generation, result.previous],
      ['component.retired', result.previous, undefined],
      ['component.reload-failed', undefined, result.generation],
      ['component.reloaded', third.generation, result.generation],
      ['component.retired', result.generation, undefined],
    ])
    expect(failed.ok).toBe(false)
    expect(third.timings).toMatchObject({ compileMs: expect.any(Number), loadMs: expect.any(Number), examplesMs: expect.any(Number) })
    expect(host.status().find((s) => s.name === 'swap')).toMatchObject({ state: 'ready', generation: third.generation, lastReload: { ok: true } })
  })

  it('a compile error keeps the old generation serving and reports file:line:col', async () => {
    const before = host.generation('syntax')!.number
    const file = join(dir, 'syntax.ts')
    writeFileSync(file, source('syntax', '{ v: 2 +* }'))
    const result = await host.reload('syntax')
    expect(result).toMatchObject({ ok: false, previous: before, error: { code: 'ERR_COMPONENT_COMPILE', phase: 'compile' } })
    expect(result.error!.diagnostics).toEqual([expect.objectContaining({ file, line: 4, col: expect.any(Number), code: 'ERR_COMPONENT_SYNTAX' })])
    expect(result.error!.message).toMatch(/syntax\.ts:4:\d+ error ERR_COMPONENT_SYNTAX/)
    expect(await host.invoke('syntax', {})).toEqual({ v: 1 })
    const status = host.status().find((s) => s.name === 'syntax')!
    expect(status).toMatchObject({ state: 'failed-reload', generation: before, lastReload: { ok: false }, lastError: { code: 'ERR_COMPONENT_COMPILE', phase: 'compile' } })
    expect(status.lastError!.diagnostics![0]).toMatchObject({ file, line: 4 })
    writeFileSync(file, source('syntax', '{ v: 2 }'))
    expect(await host.reload('syntax')).toMatchObject({ ok: true, previous: before })
    expect(host.status().find((s) => s.name === 'syntax')!.state).toBe('ready')
  })

  it('an init that throws keeps the old generation, and the half-built one is unloaded', async () => {
    const before = host.generation('init')!.number
    // Served once, so its isolate is loaded (a component without init loads at start only into its examples' isolate).
    expect(await host.invoke('init', {})).toEqual({ v: 1 })
    const count = await isolates(host)
    writeFileSync(join(dir, 'init.ts'), source('init', '{ v: 2 }', "\n  init() { throw new Error('no database') },"))
    const result = await host.reload('init')
    expect(result).toMatchObject({ ok: false, previous: before, error: { code: 'ERR_COMPONENT_LOAD_FAILED', phase: 'init' } })
    expect(result.error!.message).toContain('no database')
    expect(await host.invoke('init', {})).toEqual({ v: 1 })
    expect(await isolates(host)).toBe(count)
  })

  it('a failing example keeps the old generation; an example expecting an error code passes when it gets it', async () => {
    const before = host.generation('example')!.number
    writeFileSync(join(dir, 'example.ts'), source('example', '{ v: input.n * 3 }',
      "\n  examples: [{ name: 'doubles', input: { n: 2 }, output: { v: 4 } }],"))
    const result = await host.reload('example')
    expect(result).toMatchObject({ ok: false, previous: before, error: { code: 'ERR_COMPONENT_EXAMPLE_FAILED', phase: 'examples' } })
    expect(result.error!.message).toMatch(/example 'doubles' failed.*expected \{"v":4\}\s+actual +\{"v":6\}/s)
    expect(await host.invoke('example', {})).toEqual({ v: 1 })
    writeFileSync(join(dir, 'example.ts'), source('example', '{ v: input.n * 2 }',
      "\n  input: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },\n" +
      "  examples: [{ input: { n: 2 }, output: { v: 4 } }, { name: 'no n', input: {}, error: 'ERR_COMPONENT_INPUT_INVALID' }],"))
    expect(await host.reload('example')).toMatchObject({ ok: true, previous: before })
    expect(await host.invoke('example', { n: 5 })).toEqual({ v: 10 })
  })

  it('an example that breaches a limit fails the reload without quarantining the generation that serves', async () => {
    writeFileSync(join(dir, 'breach.ts'), source('breach', '(() => { for (;;) {} })()', "\n  examples: [{ input: {} }],"))
    const result = await host.reload('breach')
    expect(result.error).toMatchObject({ code: 'ERR_COMPONENT_EXAMPLE_FAILED', phase: 'examples' })
    expect(result.error!.message).toContain('ERR_SANDBOX_CPU_LIMIT')
    expect(await host.invoke('breach', {})).toEqual({ v: 1 })
    expect(host.status().find((s) => s.name === 'breach')!.state).toBe('failed-reload')
  })

  it('a deleted file keeps the old generation serving and says so; re-adding it reloads', async () => {
    const file = join(dir, 'gone.ts')
    const before = host.generation('gone')!.number
    rmSync(file)
    const result = await host.reload('gone')
    expect(result).toMatchObject({ ok: false, previous: before, error: { code: 'ERR_COMPONENT_COMPILE' } })
    expect(result.error!.diagnostics![0]).toMatchObject({ code: 'ERR_COMPONENT_SOURCE_NOT_FOUND', file })
    expect(result.error!.message).toContain('does not exist')
    expect(await host.invoke('gone', {})).toEqual({ v: 1 })
    writeFileSync(file, source('gone', '{ v: 2 }'))
    expect(await host.reload('gone')).toMatchObject({ ok: true, previous: before })
    expect(await host.invoke('gone', {})).toEqual({ v: 2 })
  })

  it('reloads of one component run one at a time, in call order', async () => {
    const before = host.generation('serial')!.number
    writeFileSync(join(dir, 'serial.ts'), source('serial', '{ v: 2 }'))
    const [a, b] = await Promise.all([host.reload('serial'), host.reload('serial')])
    expect([a.previous, a.generation, b.previous]).toEqual([before, expect.any(Number), a.generation])
    expect(b.generation).toBeGreaterThan(a.generation!)
  })

  it('a generation built ahead is silent and serves nothing until a reload takes it; one built from sources changed since is thrown away', async () => {
    const events = record(host)
    // Generations are numbered per load across the host, and nothing else loads meanwhile: the numbers count loads.
    writeFileSync(join(dir, 'ahead.ts'), source('ahead', '{ v: 2 }'))
    const { generation: base } = await host.reload('ahead')
    writeFileSync(join(dir, 'ahead.ts'), source('ahead', '{ v: 3 }'))
    await host.prepareAhead('ahead')
    expect(await host.invoke('ahead', {})).toEqual({ v: 2 })
    expect(events.filter((e) => e.type === 'component.reloaded').map((e) => (e as { generation: number }).generation)).toEqual([base])
    // Taken: the reload loads nothing more.
    expect(await host.reload('ahead', { ifChanged: true })).toMatchObject({ ok: true, generation: base! + 1, previous: base })
    expect(await host.invoke('ahead', {})).toEqual({ v: 3 })

    writeFileSync(join(dir, 'ahead.ts'), source('ahead', '{ v: 4 }'))
    await host.prepareAhead('ahead')
    writeFileSync(join(dir, 'ahead.ts'), source('ahead', '{ v: 5 }'))
    expect(await host.reload('ahead', { ifChanged: true })).toMatchObject({ ok: true, generation: base! + 3 })
    expect(await host.invoke('ahead', {})).toEqual({ v: 5 })

    // A broken build ahead reports nothing; the reload that meets it again does, once.
    writeFileSync(join(dir, 'ahead.ts'), source('ahead', '{ v: '))
    await host.prepareAhead('ahead')
    expect(events.filter((e) => e.type === 'component.reload-failed')).toEqual([])
    expect(await host.reload('ahead', { ifChanged: true })).toMatchObject({ ok: false, error: { code: 'ERR_COMPONENT_COMPILE' } })
    expect(events.filter((e) => e.type === 'component.reload-failed')).toHaveLength(1)
    expect(await host.invoke('ahead', {})).toEqual({ v: 5 })
  })

  it('ifChanged builds nothing when the sources and declaration are unchanged', async () => {
    const before = host.generation('same')!.number
    const event = next(host, (e) => e.name === 'same')
    expect(await host.reload('same', { ifChanged: true })).toMatchObject({ ok: true, unchanged: true, generation: before })
    expect(await event).toMatchObject({ type: 'component.unchanged', generation: before })
    expect(await host.reload('nope')).toMatchObject({ ok: false, error: { code: 'ERR_COMPONENT_NOT_FOUND' } })
  })
})

describe('isolates made ahead', () => {
  /** Stores its input in kv and answers what kv then holds, with its version; its example checks the same. */
  const stored = (v: number) => source('warm', `ctx.kv.set('n', input.n).then(() => ctx.kv.get('n')).then((n: unknown) => ({ v: ${v}, stored: n }))`,
    `\n  examples: [{ input: { n: 1 }, output: { v: ${v}, stored: 1 } }],`)

  it('once a component was reloaded, its worker makes the next isolate ahead; a generation loaded on it reaches its own kv and passes its examples', async () => {
    const warm = decl('warm', stored(1), { grants: { kv: true, emit: [], secrets: [] } })
    const host = createHost([warm])
    await host.start()
    try {
      writeFileSync(warm.file, stored(2))
      expect(await host.reload('warm')).toMatchObject({ ok: true })
      await until(async () => (await host.sandbox().stats()).some((s) => s.spare))
      writeFileSync(warm.file, stored(3))
      expect(await host.reload('warm')).toMatchObject({ ok: true, examples: { results: [{ ok: true }] } })
      expect(await host.invoke('warm', { n: 5 })).toEqual({ v: 3, stored: 5 })
    } finally {
      await host.stop()
    }
  })
})

describe('reconcile', () => {
  it('adds new names, reloads changed declarations, removes undeclared ones, and leaves the rest alone', async () => {
    const keep = decl('keep', source('keep', '{ v: 1 }'))
    const conf = decl('conf', source('conf', '{ rate: ctx.config.rate }',
      "\n  config: { type: 'object', properties: { rate: { type: 'number' } } },"), { config: { rate: 1 } })
    const old = decl('old', source('old', '{ v: 1 }'))
    const host = createHost([keep, conf, old])
    await host.start()
    try {
      const events = record(host)
      const kept = host.generation('keep')!.number
      const fresh = decl('fresh', source('fresh', '{ v: 1 }'))
      const results = await host.reconcile([{ ...keep }, { ...conf, config: { rate: 2 } }, fresh])
      expect(results.map((r) => [r.name, r.ok]).sort()).toEqual([['conf', true], ['fresh', true], ['old', true]])
      expect(host.generation('keep')!.number).toBe(kept)
      expect(await host.invoke('conf', {})).toEqual({ rate: 2 })
      expect(await host.invoke('fresh', {})).toEqual({ v: 1 })
      await expect(host.invoke('old', {})).rejects.toMatchObject({ code: 'ERR_COMPONENT_NOT_FOUND' })
      expect(host.status().map((s) => s.name)).toEqual(['keep', 'conf', 'fresh'])
      expect(events.filter((e) => e.type !== 'component.retired').map((e) => `${e.type} ${e.name}`).sort())
        .toEqual(['component.added fresh', 'component.reloaded conf', 'component.removed old'])
      expect(await host.reconcile([keep, { ...conf, config: { rate: 2 } }, fresh])).toEqual([])

      // All or nothing: a new name that fails to load fails the reconcile, and the change beside it is not applied.
      const broken = decl('broken', source('broken', '{ v: ', ''))
      const [failed] = await host.reconcile([keep, { ...conf, config: { rate: 3 } }, fresh, broken])
      expect(failed).toMatchObject({ name: 'broken', ok: false, error: { code: 'ERR_COMPONENT_COMPILE' } })
      expect(host.has('broken')).toBe(false)
      expect(await host.invoke('conf', {})).toEqual({ rate: 2 })
      expect(host.status().map((s) => s.name)).toEqual(['keep', 'conf', 'fresh'])
      writeFileSync(broken.file, source('broken', '{ v: 1 }'))
      expect(await host.reconcile([keep, { ...conf, config: { rate: 2 } }, fresh, broken])).toMatchObject([{ name: 'broken', ok: true }])
      expect(await host.invoke('broken', {})).toEqual({ v: 1 })

      // Overlapping reconciles (not awaited in between): the last one is what runs.
      const conf2 = { ...conf, config: { rate: 2 } }
      await Promise.all([host.reconcile([keep, { ...conf, config: { rate: 3 } }, fresh, broken]), host.reconcile([keep, { ...conf2 }, fresh, broken])])
      expect(await host.invoke('conf', {})).toEqual({ rate: 2 })
      await Promise.all([host.reconcile([keep, fresh, broken]), host.reconcile([keep, { ...conf2 }, fresh, broken])])
      expect(await host.invoke('conf', {})).toEqual({ rate: 2 })
      expect(host.status().map((s) => s.name)).toContain('conf')
    } finally {
      await host.stop()
    }
  })

  it('a transaction shows nothing before its commit, and a component that failed to prepare is reported, not served', async () => {
    const keep = decl('keep', source('keep', '{ v: 1 }'))
    const host = createHost([keep])
    await host.start()
    try {
      const fresh = decl('fresh', source('fresh', '{ v: 2 }'))
      const broken = decl('broken', source('broken', '{ v: ', ''))
      const changed = decl('keep', source('keep', '{ v: 3 }'), { limits: { timeoutMs: 900 } })
      const tx = await host.transaction([changed, fresh, broken])
      expect(tx.failed.map((r) => [r.name, r.error?.code])).toEqual([['broken', 'ERR_COMPONENT_COMPILE']])
      // Prepared, not serving: the old generation answers, the new name is known to pipelines being compiled only.
      expect(await host.invoke('keep', {})).toEqual({ v: 1 })
      await expect(host.invoke('fresh', {})).rejects.toMatchObject({ code: 'ERR_COMPONENT_NOT_FOUND' })
      expect(host.has('fresh')).toBe(true)
      tx.commit()
      expect(await host.invoke('keep', {})).toEqual({ v: 3 })
      expect(await host.invoke('fresh', {})).toEqual({ v: 2 })
      expect(host.status().find((s) => s.name === 'broken')).toMatchObject({ state: 'failed', generation: 0, lastError: { code: 'ERR_COMPONENT_COMPILE' } })

      // Aborted: every prepared generation is thrown away.
      const again = decl('keep', source('keep', '{ v: 4 }'), { limits: { timeoutMs: 800 } })
      const other = decl('other', source('other', '{ v: 5 }'))
      const aborted = await host.transaction([again, fresh, other])
      aborted.abort()
      expect(await host.invoke('keep', {})).toEqual({ v: 3 })
      expect(host.has('other')).toBe(false)
      expect(() => aborted.commit()).toThrow(/already committed or aborted/)
    } finally {
      await host.stop()
    }
  })
})

describe('start-up', () => {
  it('loads an idle component without init into no serving isolate until its first call; one with init before serving', async () => {
    const withInit = source('prepared', 'ctx.config', "\n  init() {},")
    const host = createHost([decl('idle', source('idle', '{ v: 1 }')), decl('prepared', withInit)])
    await host.start()
    try {
      // The examples' throwaway isolates are gone; 'prepared' ran its init in the isolate that serves it.
      expect(await isolates(host)).toBe(1)
      expect(await host.invoke('idle', {})).toEqual({ v: 1 })
      expect(await isolates(host)).toBe(2)
    } finally {
      await host.stop()
    }
  })
})
