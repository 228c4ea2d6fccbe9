// `islet component test` runs the deploy type check too, through the real CLI: a type error, an un-awaited kv write
// and a Node import each come back as a located diagnostic (with end position, hint and, where certain, the fix) in
// the sdk's public shape, in the JSON report and in the text one.
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { DIAGNOSTIC_SCHEMA, type Diagnostic } from '@islet/sdk'
import { isletAsync } from './support/cli.ts'
import { writeFiles } from './support/files.ts'

const isDiagnostic = new Ajv2020({ allErrors: true, strict: true }).compile({ ...DIAGNOSTIC_SCHEMA, additionalProperties: false })

const TYPED = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'lower',
  examples: [{ name: 'lowers', input: { s: 'AB' }, output: { n: 'ab' } }],
  async execute(input: { s: string }, ctx) {
    ctx.kv.set('last', input.s)
    const n: number = input.s.toLowerCase()
    return { n }
  },
})
`
const CRYPTO = `import { defineComponent } from '@islet/sdk'
import crypto from 'node:crypto'
export default defineComponent({
  name: 'ids',
  examples: [{ input: {} }],
  execute: () => ({ id: crypto.randomUUID() }),
})
`

interface Report { ok: boolean; components: { name: string; ok: boolean; examples: { name: string; ok: boolean }[]; diagnostics: Diagnostic[] }[] }

describe('islet component test: the type check and the hints', () => {
  it('--format json: type errors and floating kv writes fail the component even when its examples pass', async () => {
    const { dir, cleanup } = writeFiles({ 'lower.ts': TYPED, 'ids.ts': CRYPTO })
    try {
      const [typed, crypto] = await Promise.all([
        isletAsync(['component', 'test', 'lower.ts', '--kv', '--format', 'json'], { cwd: dir }),
        isletAsync(['component', 'test', 'ids.ts', '--format', 'json'], { cwd: dir }),
      ])
      expect(typed.status, typed.stderr).toBe(1)
      const report = JSON.parse(typed.stdout) as Report
      expect(report.ok).toBe(false)
      const [lower] = report.components
      expect(lower!.examples.map((e) => [e.name, e.ok])).toEqual([['lowers', true]])
      for (const d of lower!.diagnostics) expect(isDiagnostic(d) ? 'valid' : JSON.stringify(isDiagnostic.errors)).toBe('valid')
      expect(lower!.diagnostics).toEqual([
        // The example's output is typed by what execute returns: the wrong type shows there too.
        expect.objectContaining({ code: 'ERR_COMPONENT_TYPE', message: "TS2322: Type 'string' is not assignable to type 'number'.", line: 4 }),
        {
          code: 'ERR_COMPONENT_TYPE', severity: 'error', message: "TS2322: Type 'string' is not assignable to type 'number'.",
          file: join(dir, 'lower.ts'), line: 7, column: 11, endLine: 7, endColumn: 12, hint: null,
        },
        {
          code: 'ERR_COMPONENT_FLOATING_PROMISE', severity: 'error', message: 'ctx.kv.set(…) returns a promise that nothing awaits: the kv write may not happen before the invocation ends, and its failure is lost',
          file: join(dir, 'lower.ts'), line: 6, column: 5, endLine: 6, endColumn: 5, hint: 'await it: await ctx.kv.set(…)', replacement: { text: 'await ' },
        },
      ])

      expect(crypto.status, crypto.stderr).toBe(1)
      const ids = (JSON.parse(crypto.stdout) as Report).components[0]!
      expect(ids.diagnostics).toEqual([expect.objectContaining({
        code: 'ERR_COMPONENT_IMPORT', file: join(dir, 'ids.ts'), line: 2, column: 1, endLine: 3, endColumn: 1,
        hint: 'use the global crypto (crypto.subtle, crypto.randomUUID, crypto.getRandomValues): remove this import', replacement: { text: '' },
      })])
      for (const d of ids.diagnostics) expect(isDiagnostic(d) ? 'valid' : JSON.stringify(isDiagnostic.errors)).toBe('valid')
    } finally {
      cleanup()
    }
  }, 60_000)

  it('prints the type check\'s findings as file:line:col lines above the examples', async () => {
    const { dir, cleanup } = writeFiles({ 'lower.ts': TYPED })
    try {
      const r = await isletAsync(['component', 'test', 'lower.ts', '--kv'], { cwd: dir })
      expect(r.status).toBe(1)
      expect(r.stdout).toContain("✗ lower.ts:7:11 error ERR_COMPONENT_TYPE TS2322: Type 'string' is not assignable to type 'number'.")
      expect(r.stdout).toMatch(/✗ lower\.ts:6:5 error ERR_COMPONENT_FLOATING_PROMISE .*\(await it: await ctx\.kv\.set\(…\)\)/)
      expect(r.stdout).toMatch(/^✓ lowers \(/m)
    } finally {
      cleanup()
    }
  }, 60_000)
})
