// `--format json` of validate, component test and dev, and the admin event stream: every diagnostic they carry has
// the one public shape, checked against the JSON Schema the sdk publishes (DIAGNOSTIC_SCHEMA) — with no key the
// schema does not declare, so a field added here without the schema (and the README) fails.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { DIAGNOSTIC_SCHEMA, type Diagnostic } from '@islet/sdk'
import { islet, spawnIslet } from './support/cli.ts'
import { writeFiles } from './support/app.ts'
import { until } from './support/until.ts'

const isDiagnostic = new Ajv2020({ allErrors: true, strict: true }).compile({ ...DIAGNOSTIC_SCHEMA, additionalProperties: false })

/** Every diagnostic passes the sdk schema; the failures are named. */
function expectDiagnostics(diagnostics: unknown[]): void {
  expect(diagnostics.length).toBeGreaterThan(0)
  for (const d of diagnostics) expect(isDiagnostic(d) ? 'valid' : `${JSON.stringify(d)}: ${JSON.stringify(isDiagnostic.errors)}`).toBe('valid')
}

const CALC = (body: string) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'calc',
  examples: [{ name: 'doubles', input: 2, output: 4 }],
  execute: (n: number) => ${body},
})
`

describe('islet validate --format json', () => {
  it('config problems and component compile errors, in the sdk shape', () => {
    const { dir, cleanup } = writeFiles({
      'bad.yaml': 'apiVersion: islet/v1\nmodules:\n  - name: web\n    type: http.server\n    config:\n      prot: 80\n',
      'app.yaml': 'apiVersion: islet/v1\ncomponents:\n  - file: ./calc.ts\n',
      'calc.ts': CALC('n *'),
    })
    const config = islet(['validate', '--format', 'json', 'bad.yaml'], { cwd: dir })
    const configReport = JSON.parse(config.stdout) as { valid: boolean; diagnostics: Diagnostic[] }
    expectDiagnostics(configReport.diagnostics)
    expect(configReport.diagnostics[0]).toEqual({
      code: 'ERR_CONFIG_UNKNOWN_KEY', severity: 'error', message: "unknown key 'prot'", file: join(dir, 'bad.yaml'), line: 6, column: 7,
      hint: expect.stringContaining("did you mean 'port'?"), path: 'modules.0.config.prot',
    })
    const component = islet(['validate', '--format', 'json', 'app.yaml'], { cwd: dir })
    const componentReport = JSON.parse(component.stdout) as { valid: boolean; diagnostics: Diagnostic[] }
    expectDiagnostics(componentReport.diagnostics)
    expect(componentReport).toMatchObject({ valid: false, diagnostics: [{ code: 'ERR_COMPONENT_SYNTAX', file: join(dir, 'calc.ts'), line: 5 }] })
    expect(component.status).toBe(1)
    cleanup()
  })
})

describe('islet component test', () => {
  it('takes files and directories: a directory is every component in it, as a directory: entry finds them', () => {
    const { dir, cleanup } = writeFiles({
      'components/calc.ts': CALC('n * 2'),
      'components/quote/index.ts': CALC('n + 2').replace("name: 'calc'", "name: 'quote'"),
      'components/quote/helper.ts': 'export const x = 1\n',
      'components/notes.txt': 'not a component\n',
      'more/triple.ts': CALC('n * 3').replace("output: 4", "output: 6"),
    })
    const r = islet(['component', 'test', 'components', 'more/triple.ts'], { cwd: dir })
    expect(r.stdout).toMatch(/^calc \(components\/calc\.ts\)\n {2}✓ doubles/m)
    expect(r.stdout).toMatch(/^quote \(components\/quote\/index\.ts\)\n {2}✓ doubles/m)
    expect(r.stdout).toMatch(/^triple \(more\/triple\.ts\)\n {2}✓ doubles/m)
    expect(r.stdout).toContain('3 passed, 0 failed (3 components)')
    expect(r.status).toBe(0)
    cleanup()
  })

  it('--format json: one report, every failure a diagnostic in the sdk shape (a failing example at its line)', () => {
    const { dir, cleanup } = writeFiles({
      'components/wrong.ts': CALC('n * 3').replace("name: 'calc'", "name: 'wrong'"),
      'components/broken.ts': CALC('n *'),
      'components/fine.ts': CALC('n * 2'),
    })
    const r = islet(['component', 'test', 'components', '--format', 'json'], { cwd: dir })
    expect(r.status).toBe(1)
    const report = JSON.parse(r.stdout) as { ok: boolean; passed: number; failed: number; diagnostics: Diagnostic[]; components: { name: string; ok: boolean }[] }
    expectDiagnostics(report.diagnostics)
    expect(report).toMatchObject({ ok: false, passed: 1, failed: 1 })
    expect(report.components.map((c) => [c.name, c.ok])).toEqual([['broken', false], ['fine', true], ['wrong', false]])
    expect(report.diagnostics).toEqual([
      expect.objectContaining({ code: 'ERR_COMPONENT_SYNTAX', file: join(dir, 'components', 'broken.ts'), line: 5 }),
      expect.objectContaining({ code: 'ERR_COMPONENT_EXAMPLE_FAILED', file: join(dir, 'components', 'wrong.ts'), line: 4, column: 16 }),
    ])
    cleanup()
  })
})

describe('islet dev --format json and the admin event stream', () => {
  it('one JSON object per line per event; failures carry diagnostics in the sdk shape, the same on /admin/events', async () => {
    const app = (type: string) => `apiVersion: islet/v1
components:
  - file: ./calc.ts
modules:
  - name: admin
    type: islet.admin
  - name: web
    type: ${type}
    config: { port: 0, middleware: [admin] }
`
    const { dir, cleanup } = writeFiles({ 'app.yaml': app('http.server'), 'calc.ts': CALC('n * 2') })
    const dev = spawnIslet(['dev', 'app.yaml', '--format', 'json', '--data-dir', join(dir, 'data')], { cwd: dir })
    const sse: Record<string, unknown>[] = []
    const abort = new AbortController()
    try {
      await dev.waitFor((l) => l.type === 'watching')
      // The server's address is in the log, which --format json sends to stderr (stdout holds only events).
      await until(() => /"url":"http:\/\/127\.0\.0\.1:\d+"/.test(dev.stderr()), { explain: dev.stderr })
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(dev.stderr())![1]
      const events = await fetch(`${url}/admin/events`, { signal: abort.signal })
      void (async () => {
        let buffer = ''
        for await (const chunk of events.body!.pipeThrough(new TextDecoderStream())) {
          buffer += chunk
          for (let end; (end = buffer.indexOf('\n\n')) >= 0; buffer = buffer.slice(end + 2)) {
            const data = /^data: (.*)$/m.exec(buffer.slice(0, end))
            if (data) sse.push(JSON.parse(data[1]!))
          }
        }
      })().catch(() => {})

      writeFileSync(join(dir, 'calc.ts'), CALC('n *'))
      const failed = await dev.waitFor((l) => l.type === 'component.reload-failed')
      expectDiagnostics(failed.diagnostics as unknown[])
      expect(failed.diagnostics).toEqual([expect.objectContaining({ code: 'ERR_COMPONENT_SYNTAX', file: join(dir, 'calc.ts'), line: 5 })])
      await until(() => sse.some((e) => e.type === 'component.reload-failed'))
      expect(sse.find((e) => e.type === 'component.reload-failed')!.diagnostics).toEqual(failed.diagnostics)

      writeFileSync(join(dir, 'app.yaml'), app('http.sever'))
      const rejected = await dev.waitFor((l) => l.type === 'config.reload-failed')
      expectDiagnostics(rejected.diagnostics as unknown[])
      expect(rejected.diagnostics).toEqual([expect.objectContaining({ code: 'ERR_CONFIG_UNKNOWN_MODULE_TYPE', file: join(dir, 'app.yaml'), line: 8, column: 11 })])
      await until(() => sse.some((e) => e.type === 'config.reload-failed'))
      expect(sse.find((e) => e.type === 'config.reload-failed')!.diagnostics).toEqual(rejected.diagnostics)

      // Nothing but events on stdout: every line parsed as JSON and has a type.
      expect(dev.logs.filter((l) => typeof l.type !== 'string')).toEqual([])
    } finally {
      abort.abort()
      dev.child.kill('SIGTERM')
      expect(await dev.exited).toBe(0)
      cleanup()
    }
  })
})
