// Data-driven config cases: each folder under config/ holds an app.yaml and the diagnostics (code, file, line, col)
// loading it must produce; with no error expected, the values listed must be in the loaded config.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../runtime/config/load.ts'
import { createTestRegistry } from '../support/config-plugin.ts'

interface ExpectedDiagnostic {
  code: string
  /** Relative to the case folder. */
  file: string
  line: number
  col: number
  /** Default 'error'; a case with only warnings still loads. */
  severity?: 'error' | 'warning'
  /** Substrings the message (and hint) must contain. */
  message?: string[]
  hint?: string[]
}

interface Expected {
  env?: Record<string, string>
  maxFileBytes?: number
  diagnostics: ExpectedDiagnostic[]
  /** Dotted paths into the loaded config and the values they must hold. */
  values?: Record<string, unknown>
  /** Substrings no diagnostic's message or hint may contain (content of files that are not config). */
  absent?: string[]
}

const CASES = join(import.meta.dirname, 'config')

function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value)
}

describe('config cases', () => {
  const cases = readdirSync(CASES).filter((name) => statSync(join(CASES, name)).isDirectory())
  it('finds the cases', () => expect(cases.length).toBeGreaterThan(30))

  for (const name of cases) {
    it(name, async () => {
      const dir = join(CASES, name)
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected
      const { config, diagnostics } = await loadConfig(join(dir, 'app.yaml'), {
        registry: createTestRegistry(), env: expected.env ?? {}, maxFileBytes: expected.maxFileBytes,
      })
      const actual = diagnostics.map((d) => ({ code: d.code, severity: d.severity, file: relative(dir, d.file), line: d.line, col: d.col }))
      const wanted = expected.diagnostics.map(({ code, severity = 'error', file, line, col }) => ({ code, severity, file, line, col }))
      expect(actual, diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`).join('\n')).toEqual(wanted)
      expected.diagnostics.forEach((d, i) => {
        for (const part of d.message ?? []) expect(diagnostics[i]!.message).toContain(part)
        for (const part of d.hint ?? []) expect(diagnostics[i]!.hint).toContain(part)
      })
      for (const part of expected.absent ?? []) {
        for (const d of diagnostics) expect(`${d.message} ${d.hint ?? ''}`).not.toContain(part)
      }
      expect(config === undefined).toBe(wanted.some((d) => d.severity === 'error'))
      for (const [path, value] of Object.entries(expected.values ?? {})) expect(at(config, path), path).toEqual(value)
    })
  }
})
