// Validating a deployment into a slot, every step reported in one answer: files, compile, typecheck, schemas, ceiling,
// examples. Every step that can run, runs (a type error never hides a failing example); only the steps that need the
// compiled code (schemas, ceiling, examples: they load it) are skipped when it does not compile. Diagnostics leave in
// the public shape, files relative to the deployment, with hints a machine can act on (hints.ts).
import { realpath } from 'node:fs/promises'
import { extname, isAbsolute, join, relative, sep } from 'node:path'
import type { ComponentCapabilities, ComponentLimits, DeployFiles, DeployStep, Diagnostic, Logger } from '@islet/sdk'
import { isRecord } from '@islet/sdk'
import { toPublicDiagnostic } from '../config/diagnostics.ts'
import type { ComponentDecl, SlotDecl } from '../config/types.ts'
import { ComponentCompileError, compileComponent, type CompiledComponent } from '../components/compile.ts'
import type { ComponentHost, TrialResult } from '../components/host.ts'
import { messageOf } from '../errors.ts'
import { checkCeiling, describeGrants } from './ceiling.ts'
import { COMPONENT_SHAPE } from '../components/shape-hint.ts'
import { ungrantedFetches } from './fetch-origins.ts'
import { importHinted, lambdaHint, undefinedGlobalHint } from './hints.ts'
import { typecheck } from './typecheck.ts'

/** The caps on what one deployment may hold. */
export const DEPLOY_LIMITS = { files: 64, totalBytes: 512 * 1024, fileBytes: 256 * 1024 } as const
const EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs', '.json'])
const ENTRY_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs'])

export interface Validation {
  ok: boolean
  steps: DeployStep[]
  /** Public shape (toPublicDiagnostic), files relative to the tree. */
  diagnostics: Diagnostic[]
  definition?: { name: string; capabilities?: ComponentCapabilities; limits?: ComponentLimits; examples: number }
}

export interface ValidateDeps {
  host: ComponentHost
  logger: Logger
}

/** Pure, no file system: paths relative, no '..', no absolute, allowed extensions, counts and sizes, entry present. */
export function checkDeployFiles(files: DeployFiles, entry: string): Diagnostic[] {
  const out: Diagnostic[] = []
  const refuse = (message: string, hint: string, file: string | null = null) => out.push({
    code: 'ERR_DEPLOY_FILES', severity: 'error', message, file, line: null, column: null, hint,
  })
  if (!isRecord(files)) {
    refuse('files must be an object of path → file content (UTF-8 text)', "send { files: { 'index.ts': '…' }, entry: 'index.ts' }")
    return out
  }
  const paths = Object.keys(files)
  if (paths.length === 0) refuse('no files were sent', "send at least the entry: { files: { 'index.ts': '…' } }")
  if (paths.length > DEPLOY_LIMITS.files) refuse(`${paths.length} files, over the ${DEPLOY_LIMITS.files}-file limit`, 'send only the component\'s own sources')
  let total = 0
  for (const path of paths) {
    const problem = pathProblem(path)
    if (problem) {
      refuse(`file path ${JSON.stringify(path.slice(0, 200))} ${problem}`, "paths are relative to the component folder, with '/' separators, like 'index.ts' or 'lib/rates.ts'", safePath(path))
      continue
    }
    const content = files[path]
    if (typeof content !== 'string') {
      refuse(`the content of ${path} is not a string`, 'send each file as its UTF-8 text', path)
      continue
    }
    const bytes = Buffer.byteLength(content)
    total += bytes
    if (bytes > DEPLOY_LIMITS.fileBytes) {
      refuse(`${path} is ${bytes} bytes, over the ${DEPLOY_LIMITS.fileBytes}-byte limit per file`, 'keep data out of the code (ctx.kv, ctx.fetch) or split the file', path)
    }
  }
  if (total > DEPLOY_LIMITS.totalBytes) refuse(`the files total ${total} bytes, over the ${DEPLOY_LIMITS.totalBytes}-byte limit`, 'keep data out of the code (ctx.kv, ctx.fetch)')
  if (typeof entry !== 'string' || !Object.hasOwn(files, entry)) {
    const candidates = paths.filter((p) => ENTRY_EXTENSIONS.has(extname(p)))
    refuse(`the entry ${JSON.stringify(entry)} is not among the files`,
      candidates.length > 0 ? `set entry to one of: ${candidates.slice(0, 10).join(', ')}` : 'send the entry file (index.ts) with the files')
  } else if (!ENTRY_EXTENSIONS.has(extname(entry))) {
    refuse(`the entry ${entry} is not a .ts, .mts, .js or .mjs file`, 'the entry is the file whose default export is the component, e.g. index.ts', entry)
  }
  return out
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty'
  if (path.length > 255) return 'is longer than 255 characters'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(path)) return 'holds a backslash or a control character'
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || isAbsolute(path)) return 'is absolute'
  const segments = path.split('/')
  if (segments.some((s) => s === '..')) return "climbs out of the folder ('..')"
  if (segments.some((s) => s === '' || s === '.')) return "has an empty or '.' segment"
  if (!EXTENSIONS.has(extname(path))) return 'is not a .ts, .mts, .js, .mjs or .json file'
  return undefined
}

/** A refused path as a diagnostic's file: only when it is harmless to echo back as a relative path. */
function safePath(path: string): string | null {
  return pathProblem(path) === undefined ? path : null
}

/** `tree` is the folder the files were written to (by the caller, after checkDeployFiles passed). */
export async function validateDeployment(request: { files: DeployFiles; entry: string; tree: string }, slot: SlotDecl,
  deps: ValidateDeps): Promise<Validation> {
  const { files, entry, tree } = request
  const steps: DeployStep[] = []
  const diagnostics: Diagnostic[] = []
  const record = (name: string, found: readonly Diagnostic[], ms: number, skipped = false) => {
    diagnostics.push(...found)
    steps.push({ name, status: skipped ? 'skipped' : found.some((d) => d.severity === 'error') ? 'failed' : 'passed', ms: round(ms) })
  }
  const skip = (...names: string[]) => { for (const name of names) record(name, [], 0, true) }

  let started = performance.now()
  const fileProblems = checkDeployFiles(files, entry)
  record('files', fileProblems, performance.now() - started)
  if (fileProblems.length > 0) {
    skip('compile', 'typecheck', 'schemas', 'ceiling', 'examples')
    return { ok: false, steps, diagnostics }
  }
  const root = await realpath(tree).catch(() => tree)
  const entryPath = join(root, entry)
  const origins = fetchOrigins(slot)

  // The compile and the type check are independent: both at once (the check runs in its own thread).
  started = performance.now()
  const checking = typecheck(root, entry, files).catch((error: unknown) => ({ diagnostics: [], checkMs: 0, ms: 0, error: messageOf(error) }))
  let compiled: CompiledComponent | undefined
  let compileProblems: Diagnostic[] = []
  try {
    compiled = await compileComponent(entryPath)
  } catch (error) {
    compileProblems = error instanceof ComponentCompileError
      ? error.diagnostics.map((d) => withEntryHint(withImportHint(inTree(toPublicDiagnostic(d), root), files, origins), files[entry] ?? ''))
      : [problem('ERR_COMPONENT_COMPILE', `could not be compiled: ${messageOf(error)}`, entry)]
  }
  record('compile', compileProblems, performance.now() - started)

  const checked = await checking
  const typeProblems = checked.error
    ? [problem('ERR_COMPONENT_TYPE', `the type check could not run: ${checked.error}`, null, 'this is an Islet bug: report it')]
    : checked.diagnostics
  record('typecheck', typeProblems, checked.ms)
  deps.logger.debug({ slot: slot.name, checkMs: round(checked.checkMs), ms: round(checked.ms) }, 'deploy type check')

  if (!compiled) {
    skip('schemas', 'ceiling', 'examples')
    return { ok: false, steps, diagnostics: dedupe(diagnostics) }
  }

  started = performance.now()
  const decl: ComponentDecl = {
    name: slot.name, file: entryPath, limits: slot.limits, grants: slot.grants, config: slot.config,
    source: { file: entryPath, line: 1, col: 1 }, configSource: slot.source,
  }
  const trial = await deps.host.trial(decl, { compiled, baseDir: root })
  const loadFailed = !trial.meta
  const loadMs = (trial.timings?.loadMs ?? 0) + (trial.timings?.compileMs ?? 0)
  record('schemas', loadFailed ? [loadProblem(trial, entry, slot)] : [], loadFailed ? performance.now() - started : loadMs)
  if (!trial.meta) {
    skip('ceiling', 'examples')
    return { ok: false, steps, diagnostics: dedupe(diagnostics) }
  }
  const meta = trial.meta

  started = performance.now()
  const entryText = files[entry] ?? ''
  record('ceiling', [
    ...checkCeiling({ capabilities: meta.capabilities, limits: meta.limits }, slot).map((d) => locateIn(d, entry, entryText)),
    ...ungrantedFetches(files, origins, slot.name),
  ], performance.now() - started)

  record('examples', exampleProblems(trial, slot, entry, entryText, root), trial.timings?.examplesMs ?? 0)

  const definition = {
    name: meta.name,
    ...(isRecord(meta.capabilities) ? { capabilities: meta.capabilities as ComponentCapabilities } : {}),
    ...(isRecord(meta.limits) ? { limits: meta.limits as ComponentLimits } : {}),
    examples: meta.examples?.length ?? 0,
  }
  const all = dedupe(diagnostics)
  return { ok: !all.some((d) => d.severity === 'error'), steps, diagnostics: all, definition }
}

/** The examples step: none where the slot requires them, else each failing example as a diagnostic at the example. */
function exampleProblems(trial: TrialResult, slot: SlotDecl, entry: string, entryText: string, root: string): Diagnostic[] {
  const results = trial.examples?.results ?? []
  if ((trial.meta?.examples?.length ?? 0) === 0) {
    if (!slot.examplesRequired) return []
    return [locateIn(problem('ERR_SLOT_EXAMPLES_REQUIRED', `slot '${slot.name}' requires examples, and the component declares none`, null,
      "add examples: [{ name: 'basic', input: { … }, output: { … } }] to the definition: each runs in the sandbox before the code may serve"), entry, entryText, /\bexecute\b/)]
  }
  const out: Diagnostic[] = []
  for (const failed of results.filter((r) => !r.ok)) {
    const reason = failed.reason ?? 'failed'
    const code = /^ERR_COMPONENT_OUTPUT_INVALID\b/.test(reason) ? 'ERR_COMPONENT_OUTPUT_INVALID' : 'ERR_COMPONENT_EXAMPLE_FAILED'
    const where = failed.name === 'init' ? /\binit\b/ : new RegExp(`\\bname\\s*:\\s*(['"\`])${escape(failed.name)}\\1`)
    const hint = code === 'ERR_COMPONENT_OUTPUT_INVALID' && /does not match its output schema/.test(reason)
      ? 'return what the output schema declares (the message names each property that differs), or change the output schema to what execute returns'
      : code === 'ERR_COMPONENT_OUTPUT_INVALID'
      ? 'return plain JSON (objects, arrays, strings, numbers, booleans, null): a Map → Object.fromEntries(map), a Set → [...set], a Date → date.toISOString()'
      // The message already says what to add; the hint says it in one step, to the example that needs it.
      : /^ERR_CAPABILITY_DENIED\b.*may not fetch/.test(reason) ? `add fetch: true to example '${failed.name}': it then fetches for real, through the slot's grant (${describeGrants(slot.grants as Record<string, unknown>)})`
      : /^ERR_CAPABILITY_DENIED\b/.test(reason) ? `the slot grants ${describeGrants(slot.grants as Record<string, unknown>)}; examples run with throwaway capabilities (fetch only with fetch: true)`
        : undefinedGlobalHint(reason) ?? 'fix the code or the example; examples run in the sandbox under the slot\'s limits with throwaway capabilities'
    const d = problem(code, `example '${failed.name}' failed: ${reason.replace(/\s+/g, ' ')}`, null, hint)
    // The example's own text in the entry (or the file exampleFailure located it in).
    const located = locateIn(d, entry, entryText, where)
    out.push(located.line === null && trial.error?.location ? { ...located, ...at(trial.error.location, root) } : located)
  }
  return out
}

/** Why the definition did not load: module evaluation threw, no execute, a schema refused, the slot's config refused. */
function loadProblem(trial: TrialResult, entry: string, slot: SlotDecl): Diagnostic {
  const error = trial.error
  const code = error?.code ?? 'ERR_COMPONENT_LOAD_FAILED'
  const message = error?.message ?? 'the component did not load'
  const hint = code === 'ERR_COMPONENT_CONFIG_INVALID'
    ? `the slot's config (${slot.source.file}:${slot.source.line}) is ${JSON.stringify(slot.config)}: the deployed code's config schema must accept it`
    : /default export is not a component|no execute/.test(message) ? "export default defineComponent({ name, input, output, examples, async execute(input, ctx) { … } })"
      : 'fix what the message names: the definition is loaded in the sandbox exactly as it will serve'
  const location = error?.location
  return { code, severity: 'error', message, file: location?.file ?? entry, line: location?.line ?? null, column: location?.col ?? null, hint }
}

/** The slot's fetch origins, for hints. */
function fetchOrigins(slot: SlotDecl): string[] {
  const grant = (slot.grants as Record<string, unknown>).fetch
  if (Array.isArray(grant)) return grant.filter((g): g is string => typeof g === 'string')
  // privateOrigins is a subset of origins (the loader checks): each origin once.
  if (isRecord(grant) && Array.isArray(grant.origins)) return [...new Set(grant.origins.filter((g): g is string => typeof g === 'string'))]
  return []
}

/** withImportHint with the line the diagnostic points at, from the deployment's files. */
function withImportHint(d: Diagnostic, files: DeployFiles, origins: readonly string[]): Diagnostic {
  const text = d.file !== null ? files[d.file] : undefined
  return importHinted(d, text !== undefined && d.line !== null ? text.split('\n')[d.line - 1] : undefined, origins)
}

/** A missing default export in an entry written as a Lambda handler: say what differs, not only the shape. */
function withEntryHint(d: Diagnostic, entryText: string): Diagnostic {
  if (d.code !== 'ERR_COMPONENT_COMPILE' || !d.message.startsWith('no default export')) return d
  return { ...d, hint: lambdaHint(entryText, COMPONENT_SHAPE) ?? d.hint }
}

/** A diagnostic's file relative to the deployment's folder (files outside it, e.g. the sdk, keep their path). */
function inTree(d: Diagnostic, root: string): Diagnostic {
  if (d.file === null) return d
  const rel = relative(root, d.file)
  return rel.startsWith('..') || isAbsolute(rel) ? d : { ...d, file: rel.split(sep).join('/') }
}

function at(location: { file: string; line: number; col: number }, root: string): Pick<Diagnostic, 'file' | 'line' | 'column'> {
  const rel = relative(root, location.file)
  return { file: rel.startsWith('..') || isAbsolute(rel) ? location.file : rel.split(sep).join('/'), line: location.line, column: location.col }
}

/** Locates an unlocated diagnostic at the first match of `pattern` in the entry (default: `capabilities`/`limits`). */
function locateIn(d: Diagnostic, entry: string, text: string, pattern?: RegExp): Diagnostic {
  if (d.line !== null) return d
  const wanted = pattern ?? (/limits\.(\w+)/.exec(d.message) ? new RegExp(`\\b${/limits\.(\w+)/.exec(d.message)![1]}\\s*:`) : /\bcapabilities\s*:/)
  const m = wanted.exec(text)
  if (!m) return { ...d, file: entry }
  const before = text.slice(0, m.index).split('\n')
  return { ...d, file: entry, line: before.length, column: before.at(-1)!.length + 1 }
}

function problem(code: string, message: string, file: string | null, hint: string | null = null): Diagnostic {
  return { code, severity: 'error', message, file, line: null, column: null, hint }
}

/** The same finding twice (a step and another saying one thing) is reported once. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>()
  return diagnostics.filter((d) => {
    const key = `${d.code}\0${d.file}\0${d.line}\0${d.column}\0${d.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const round = (ms: number) => Math.round(ms * 10) / 10
