// `components: - slot: name` entries: declared with their grants, limits, config, deployers and examples policy; a
// pipeline may call a slot; slot and component names share one namespace; `islet validate` accepts such an app.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { loadConfig } from '../runtime/config/load.ts'
import { writeFiles } from './support/app.ts'
import { islet } from './support/cli.ts'

const cleanups: (() => void)[] = []
afterEach(() => { for (const c of cleanups.splice(0)) c() })
const load = async (files: Record<string, string>) => {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return { dir, ...await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} }) }
}
const PIPELINE = 'pipelines:\n  quote:\n    steps:\n      - type: component\n        config: { component: pricing }\n'
const TS = "import { defineComponent } from '@islet/sdk'\nexport default defineComponent({ name: 'pricing', execute: () => 1 })\n"

describe('slot entries', () => {
  it('declares a slot a pipeline calls, with its grants, limits, config, deployers and examples policy', async () => {
    const { config, diagnostics, dir } = await load({ 'app.yaml': `apiVersion: islet/v1
components:
  - slot: pricing
    description: Prices a cart
    grants: { kv: true, fetch: { origins: ['http://127.0.0.1:9999'], privateOrigins: ['http://127.0.0.1:9999'] } }
    limits: { timeoutMs: 500, memoryMb: 32 }
    config: { currency: EUR }
    deployers: ['deploy:pricing']
    examples: optional
  - slot: tax
${PIPELINE}` })
    expect(diagnostics).toEqual([])
    expect(config!.components).toEqual([])
    expect(config!.slots).toEqual([
      { name: 'pricing', description: 'Prices a cart', grants: expect.objectContaining({ kv: true, fetch: expect.objectContaining({ origins: ['http://127.0.0.1:9999'] }) }), limits: { timeoutMs: 500, memoryMb: 32 },
        config: { currency: 'EUR' }, deployers: ['deploy:pricing'], examplesRequired: false, source: { file: join(dir, 'app.yaml'), line: 3, col: 5 } },
      expect.objectContaining({ name: 'tax', limits: {}, config: {}, deployers: ['admin'], examplesRequired: true }),
    ])
  })

  it('reports a slot sharing a name with a component (or another slot), and file: on a slot entry, located', async () => {
    const { config, diagnostics } = await load({
      'app.yaml': `apiVersion: islet/v1\ncomponents:\n  - file: ./pricing.ts\n  - slot: pricing\n  - slot: tax\n    file: ./pricing.ts\n  - slot: tax\n${PIPELINE}`,
      'pricing.ts': TS,
    })
    expect(config).toBeUndefined()
    expect(diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([
      ['ERR_CONFIG_DUPLICATE_COMPONENT', 4, 11], ['ERR_CONFIG_SCHEMA', 6, 5], ['ERR_CONFIG_DUPLICATE_COMPONENT', 7, 11],
    ])
    expect(diagnostics[0]!.message).toMatch(/slot 'pricing' is declared twice: at app\.yaml:3:\d+ and at app\.yaml:4:11/)
  })

  it('reports slot-only keys on a component of files', async () => {
    const { diagnostics } = await load({ 'app.yaml': `apiVersion: islet/v1\ncomponents:\n  - file: ./pricing.ts\n    deployers: [ops]\n${PIPELINE}`, 'pricing.ts': TS })
    expect(diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
      ['ERR_CONFIG_SCHEMA', 4, 'deployers: belongs to a deploy slot entry (- slot: name), not to a component of files'],
    ])
  })

  it("checks a slot's grants like a component's", async () => {
    const { diagnostics } = await load({ 'app.yaml': `apiVersion: islet/v1\ncomponents:\n  - slot: pricing\n    grants: { fetch: { origins: ['http://127.0.0.1:1'], privateOrigins: ['http://10.0.0.1:1'] } }\n${PIPELINE}` })
    expect(diagnostics.map((d) => d.code)).toContain('ERR_CAPABILITY_GRANT_INVALID')
  })

  it('islet validate accepts an app whose pipeline calls a slot', () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1\ncomponents:\n  - slot: pricing\n    deployers: [deploy:pricing]\n${PIPELINE}` })
    cleanups.push(cleanup)
    const r = islet(['validate', join(dir, 'app.yaml')])
    expect(r.stderr + r.stdout).toContain('valid')
    expect(r.status).toBe(0)
  })
})

describe('the editor schema (islet schema)', () => {
  it('accepts a slot entry and refuses one with file:, and slot-only keys on a file entry', async () => {
    const { parse } = await import('yaml')
    const { combinedSchema } = await import('../runtime/config/schema.ts')
    const { createConfigAjv } = await import('../runtime/config/validate.ts')
    const validate = createConfigAjv().compile(combinedSchema(createBuiltinRegistry()))
    const app = (entry: string) => parse(`apiVersion: islet/v1\ncomponents:\n  - ${entry}\n`)
    expect(validate(app("{ slot: pricing, description: d, deployers: ['deploy:pricing'], examples: optional, grants: { kv: true }, config: { a: 1 } }")),
      JSON.stringify(validate.errors)).toBe(true)
    expect(validate(app('{ slot: pricing, file: ./a.ts }'))).toBe(false)
    expect(validate(app('{ file: ./a.ts, deployers: [ops] }'))).toBe(false)
    expect(validate(app('{ slot: Pricing }'))).toBe(false)
  })
})
