// components: and sandbox: end to end: the decls the loader hands the engine, what a directory yields, what is hashed.
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestRegistry } from '../../test/support/config-plugin.ts'
import { DEFAULT_SANDBOX } from './component-schema.ts'
import { loadConfig } from './load.ts'
import { writeFiles } from '../../test/support/files.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

function write(files: Record<string, string>): string {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return dir
}

const load = (dir: string) => loadConfig(join(dir, 'app.yaml'), { registry: createTestRegistry(), env: {} })
const TS = 'export default {}\n'

describe('components', () => {
  it('derives names from files and folders, resolves paths against the declaring file, fills grants and sandbox', async () => {
    const dir = write({
      'app.yaml': 'apiVersion: islet/v1\nimports: [./config/more.yaml]\ncomponents:\n  - directory: ./components\n',
      'config/more.yaml': 'apiVersion: islet/v1\ncomponents:\n  - file: ../extra/tax-rate.ts\n',
      'components/price-quote.ts': TS,
      'components/geo/index.ts': TS,
      'components/geo/lookup.ts': TS, // a helper of geo, not a component
      'components/no-index/main.ts': TS,
      'components/price-quote.test.ts': TS,
      'components/types.d.ts': 'export {}\n',
      'components/.draft.ts': TS,
      'components/README.md': '# components\n',
      'extra/tax-rate.ts': TS,
    })
    const { config, diagnostics } = await load(dir)
    expect(diagnostics).toEqual([])
    expect(config!.components.map((c) => [c.name, c.file])).toEqual([
      ['geo', join(dir, 'components/geo/index.ts')],
      ['price-quote', join(dir, 'components/price-quote.ts')],
      ['tax-rate', join(dir, 'extra/tax-rate.ts')],
    ])
    for (const c of config!.components) {
      expect(c.grants).toEqual({ kv: false, emit: [], secrets: [] })
      expect(c.limits).toEqual({})
      expect(c.config).toEqual({})
      expect(c.configSource).toEqual(c.source)
    }
    expect(config!.components[0]!.source).toEqual({ file: join(dir, 'app.yaml'), line: 4, col: 5 })
    expect(config!.components[2]!.source).toEqual({ file: join(dir, 'config/more.yaml'), line: 3, col: 5 })
    expect(config!.sandbox).toEqual(DEFAULT_SANDBOX)
  })

  it('freezes components and sandbox, and gives each component its own copy of a shared entry', async () => {
    const dir = write({
      'app.yaml': 'apiVersion: islet/v1\nsandbox: { workers: 3 }\ncomponents:\n' +
        '  - { directory: ./components, grants: &g { kv: true, emit: [a.b] } }\n  - { file: ./c.ts, grants: *g }\n',
      'components/a.ts': TS, 'components/b.ts': TS, 'c.ts': TS,
    })
    const { config, diagnostics } = await load(dir)
    expect(diagnostics).toEqual([])
    const [a, b, c] = config!.components
    expect(a!.grants).toEqual({ kv: true, emit: ['a.b'], secrets: [] })
    expect(a!.grants).not.toBe(b!.grants)
    expect(c!.grants).not.toBe(a!.grants)
    expect(Object.isFrozen(a!.grants.emit)).toBe(true)
    expect(Object.isFrozen(config!.sandbox.quarantine)).toBe(true)
    expect(config!.sandbox).toEqual({ ...DEFAULT_SANDBOX, workers: 3 })
  })

  it('takes sandbox.isolation shared or dedicated, and names the accepted values where another is written', async () => {
    const good = await load(write({ 'app.yaml': 'apiVersion: islet/v1\nsandbox: { isolation: dedicated }\n' }))
    expect(good.diagnostics).toEqual([])
    expect(good.config!.sandbox.isolation).toBe('dedicated')
    const dir = write({ 'app.yaml': 'apiVersion: islet/v1\nsandbox:\n  isolation: per-tenant\n' })
    const { diagnostics } = await load(dir)
    expect(diagnostics).toHaveLength(1)
    expect(diagnostics[0]).toMatchObject({ file: join(dir, 'app.yaml'), line: 3 })
    expect(diagnostics[0]!.message).toMatch(/must be one of: shared, dedicated; got string "per-tenant"/)
  })

  it('lets an explicit file: entry replace what a directory finds, whichever comes first and however the path is spelt', async () => {
    const dir = write({
      'app.yaml': 'apiVersion: islet/v1\ncomponents:\n  - file: ./link.ts\n    name: quote\n    limits: { cpuMs: 10 }\n' +
        '  - directory: ./components\n    limits: { cpuMs: 99 }\n',
      'components/price-quote.ts': TS,
      'components/other.ts': TS,
    })
    symlinkSync(join(dir, 'components/price-quote.ts'), join(dir, 'link.ts'))
    const { config, diagnostics } = await load(dir)
    expect(diagnostics).toEqual([])
    expect(config!.components.map((c) => [c.name, c.limits])).toEqual([['quote', { cpuMs: 10 }], ['other', { cpuMs: 99 }]])
  })

  it('hashes the components: YAML but not the component files, which the component compiler hashes', async () => {
    const dir = write({ 'app.yaml': 'apiVersion: islet/v1\ncomponents: [{ file: ./a.ts }]\n', 'a.ts': TS })
    const first = (await load(dir)).config!.hash
    writeFileSync(join(dir, 'a.ts'), 'export default { changed: true }\n')
    expect((await load(dir)).config!.hash).toBe(first)
    writeFileSync(join(dir, 'app.yaml'), 'apiVersion: islet/v1\ncomponents: [{ file: ./a.ts, grants: { kv: true } }]\n')
    expect((await load(dir)).config!.hash).not.toBe(first)
  })

  it('collects component references of steps and modules into refs.components', async () => {
    const dir = write({
      'app.yaml': 'apiVersion: islet/v1\ncomponents: [{ file: ./a.ts }]\n' +
        'pipelines:\n  p:\n    steps:\n      - { type: component.call, config: { component: a, input: {} } }\n',
      'a.ts': TS,
    })
    const { config, diagnostics } = await load(dir)
    expect(diagnostics).toEqual([])
    expect(config!.pipelines.p!.steps[0]).toMatchObject({ refs: { modules: [], pipelines: [], components: ['a'] } })
  })

  it('does not report an entry twice when its path comes from an unset variable', async () => {
    const dir = write({ 'app.yaml': 'apiVersion: islet/v1\ncomponents: [{ file: "./${COMPONENT}.ts" }]\n' })
    const { diagnostics } = await load(dir)
    expect(diagnostics.map((d) => d.code)).toEqual(['ERR_CONFIG_ENV_MISSING'])
  })
})
