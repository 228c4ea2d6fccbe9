// `islet component test <files or directories…>` runs components' examples in the real sandbox, each component on
// a host of its own with throwaway capabilities (as every reload's smoke test does), printing each outcome and what
// it emitted — or, with `--format json`, one report whose problems are diagnostics in the public shape.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { ComponentCompileError, compileComponent } from '../components/compile.ts'
import { createComponentHost } from '../components/host.ts'
import { exampleFailure, show, type ExampleEmit, type ExampleResult } from '../components/examples.ts'
import { componentsIn, kindOf, nameFromFile } from '../config/component-files.ts'
import { diagnosticOfError, formatDiagnostic, toPublicDiagnostic, type PublicDiagnostic, type SourceLocation } from '../config/diagnostics.ts'
import type { ComponentDecl } from '../config/types.ts'
import { codeOf, IsletError, messageOf } from '../errors.ts'
import { createEventBus } from '../events/bus.ts'
import { createLogger } from '../log/logger.ts'
import { importHinted } from '../slots/hints.ts'
import { typecheckFiles } from '../slots/typecheck.ts'
import { GRANT_FLAGS, grantsOf } from './grants.ts'
import type { ParsedOptions } from './options.ts'

const NAME = /^[a-z][a-z0-9-]*$/

interface ComponentReport {
  name: string
  file: string
  ok: boolean
  examples: (Omit<ExampleResult, 'reason'> & { reason: string | null })[]
  initEmits: ExampleEmit[]
  diagnostics: PublicDiagnostic[]
}

export default async function componentTest({ values, positionals }: ParsedOptions): Promise<number> {
  let config: unknown
  try { config = JSON.parse(values.config as string) } catch (error) { throw new IsletError('ERR_CLI_USAGE', `--config is not JSON: ${messageOf(error)}`) }
  const files = await entriesOf(positionals)
  const json = values.format === 'json'
  // Whatever the components do, this command ends: a last-resort timer kills it (workers die with it).
  const guard = setTimeout(() => { console.error(`ERR_SANDBOX_TIMEOUT: the component test did not finish within ${files.length * 120} s`); process.exit(1) }, files.length * 120_000)
  guard.unref()
  const reports: ComponentReport[] = []
  const taken = new Set<string>()
  try {
    for (const file of files) {
      const report = await testOne(file, uniqueName(file, taken), config, values, json)
      reports.push(report)
      if (!json) printReport(report, files.length > 1)
    }
  } finally {
    clearTimeout(guard)
  }
  const passed = reports.reduce((n, r) => n + r.examples.filter((e) => e.ok).length, 0)
  const failed = reports.reduce((n, r) => n + r.examples.filter((e) => !e.ok).length, 0)
  const ok = reports.every((r) => r.ok)
  if (json) {
    console.log(JSON.stringify({ ok, passed, failed, components: reports, diagnostics: reports.flatMap((r) => r.diagnostics) }, null, 2))
  } else if (files.length > 1 || reports[0]!.examples.length > 0) {
    const broken = reports.filter((r) => !r.ok && r.examples.length === 0).length
    console.log(`${passed} passed, ${failed} failed${files.length > 1 ? ` (${files.length} components${broken ? `, ${broken} did not run` : ''})` : ''}`)
  }
  return ok ? 0 : 1
}

/** The component entry files the arguments name: a file as given, a directory as a `directory:` entry finds them. */
async function entriesOf(paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    const kind = await kindOf(path)
    if (kind === 'file') files.push(resolve(path))
    else if (kind === 'directory') {
      const found = await componentsIn(resolve(path))
      if (found.length === 0) {
        throw new IsletError('ERR_CONFIG_COMPONENTS_EMPTY', `no component in '${path}': a component is a *.ts file there, or a folder with an index.ts`)
      }
      files.push(...found)
    } else throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no component file or directory '${path}'`)
  }
  return [...new Set(files)]
}

/** The component's name from its file, made unique among those tested (two folders may both hold `quote.ts`). */
function uniqueName(file: string, taken: Set<string>): string {
  const base = NAME.test(nameFromFile(file)) ? nameFromFile(file) : 'component'
  let name = base
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`
  taken.add(name)
  return name
}

async function testOne(file: string, name: string, config: unknown, values: ParsedOptions['values'], json: boolean): Promise<ComponentReport> {
  const at = { file, line: 1, col: 1 }
  const decl: ComponentDecl = { name, file, limits: {}, config, source: at, configSource: at, grants: grantsOf(values) }
  const report: ComponentReport = { name, file, ok: false, examples: [], initEmits: [], diagnostics: [] }
  // Compiled first on its own: a compile error is reported with its own diagnostics, and no sandbox starts for it.
  // Then the type check (a worker thread), before the examples rather than beside them: examples run against their
  // time limits, and a checker busy on the same cores would make them fail for nothing. Its findings join the rest.
  let types: PublicDiagnostic[]
  try {
    const compiled = await compileComponent(file)
    types = await typeProblems(compiled.entry, compiled.files)
  } catch (error) {
    report.diagnostics = [...diagnosticsOfError(error, file).map(withHints), ...await typeProblems(file, [file])]
    return report
  }
  await examplesOf(report, decl, name, file, json)
  report.diagnostics = [...types, ...report.diagnostics]
  if (report.diagnostics.some((d) => d.severity === 'error')) report.ok = false
  return report
}

/** The type check's findings (the sdk's types, the isolate's globals: runtime/slots/typecheck.ts). */
async function typeProblems(entry: string, files: readonly string[]): Promise<PublicDiagnostic[]> {
  const result = await typecheckFiles(entry, files)
  if (result.error) return [diagnosticOfError('ERR_COMPONENT_TYPE', `the type check could not run: ${result.error}`, { file: entry }, 'this is an Islet bug: report it')]
  return result.diagnostics
}

/** A compile diagnostic with the hint for what it refused (an import of node:fs, axios, …: runtime/slots/hints.ts). */
function withHints(d: PublicDiagnostic): PublicDiagnostic {
  let line: string | undefined
  if (d.code === 'ERR_COMPONENT_IMPORT' && d.file !== null && d.line !== null) {
    try { line = readFileSync(d.file, 'utf8').split('\n')[d.line - 1] } catch { line = undefined }
  }
  return importHinted(d, line, undefined)
}

async function examplesOf(report: ComponentReport, decl: ComponentDecl, name: string, file: string, json: boolean): Promise<ComponentReport> {
  const dataDir = mkdtempSync(join(tmpdir(), 'islet-component-test-'))
  const host = createComponentHost({
    components: [decl], // The components' log lines: with the report on stdout, or on stderr when stdout is the JSON report.
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn', ...(json ? { destination: process.stderr, pretty: false } : {}) }), dataDir, bus: createEventBus(),
    baseDir: process.cwd(), examplesAtStart: false,
    sandbox: { workers: 1, limits: {}, quarantine: { breaches: 1_000_000, windowMs: 1, baseMs: 1, maxMs: 1 } },
  })
  try {
    try {
      await host.start()
    } catch (error) {
      report.diagnostics = diagnosticsOfError(error, file)
      return report
    }
    const { results, initEmits } = await host.examples(name)
    report.initEmits = initEmits
    report.examples = results.map((r) => ({ ...r, reason: r.reason === undefined ? null : forTheCommandLine(r.reason) }))
    if (results.length === 0) {
      report.diagnostics = [diagnosticOfError('ERR_COMPONENT_EXAMPLE_FAILED', `component '${name}' has no examples`, { file },
        'add examples: [{ name, input, output }] to its definition')]
      return report
    }
    const sources = host.generation(name)?.files ?? [file]
    report.diagnostics = results.filter((r) => !r.ok).flatMap((r) => diagnosticsOfError(exampleFailure(name, sources, r, 'in the sandbox'), file))
      .map((d) => ({ ...d, message: forTheCommandLine(d.message) }))
    report.ok = report.diagnostics.length === 0
    return report
  } finally {
    await host.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** A thrown error as diagnostics: a compile error's own, else one located where the error says (or at the file). */
function diagnosticsOfError(error: unknown, file: string): PublicDiagnostic[] {
  if (error instanceof ComponentCompileError) return error.diagnostics.map(toPublicDiagnostic)
  const details = (error instanceof IsletError ? error.details : {}) as Partial<SourceLocation> & { causes?: { code: string }[] }
  const located = typeof details.file === 'string' && typeof details.line === 'number' ? details : { file }
  // The host's start reports the code of what failed (init, load) in its causes.
  return [diagnosticOfError(details.causes?.[0]?.code ?? codeOf(error, 'ERR_COMPONENT_LOAD_FAILED'), messageOf(error), located)]
}

function printReport(report: ComponentReport, heading: boolean): void {
  const shown = relative(process.cwd(), report.file) || report.file
  if (heading) console.log(`${report.name} (${shown})`)
  const indent = heading ? '  ' : ''
  if (report.examples.length === 0) {
    // Nothing ran: say why, located.
    for (const d of report.diagnostics) console.log(`${indent}✗ ${formatDiagnostic(d)}`)
    return
  }
  // What the type check found (examples ran anyway): each located, before the examples' outcomes.
  for (const d of report.diagnostics) if (d.code !== 'ERR_COMPONENT_EXAMPLE_FAILED') console.log(`${indent}✗ ${formatDiagnostic(d)}`)
  printEmits(indent, 'init ', report.initEmits)
  for (const r of report.examples) {
    console.log(r.ok ? `${indent}✓ ${r.name} (${r.ms.toFixed(1)} ms)` : `${indent}✗ ${r.name}: ${r.reason}`)
    printEmits(indent, '', r.emits)
  }
}

/** Emits are captured, never published: shown under the example that made them. */
function printEmits(indent: string, who: string, emits: readonly ExampleEmit[]): void {
  for (const e of emits) console.log(`${indent}    ${who}emitted ${e.topic} ${show(e.payload)}`)
}

/**
 * The sandbox's refusal of an ungranted capability tells an app's author to grant it in the app's YAML; here nothing
 * is granted but by flags (the component may well be granted it in its app), so say which flag to pass.
 */
function forTheCommandLine(reason: string): string {
  return reason.replace("; grant it in the app's components section", `; component test grants only what its flags say: pass one of ${GRANT_FLAGS}`)
}
