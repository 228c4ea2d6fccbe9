// PLACEHOLDER for runtime/slots/validate.ts (helper `validate`), with its exact signatures: the lead swaps the one
// import in service.ts at merge. Checks what the slot machinery cannot do without — files, compile, what the code
// declares (loaded once in the sandbox), the ceiling and that examples exist; promote runs the examples (component host).
import { relative } from 'node:path'
import { join } from 'node:path'
import type { ComponentCapabilities, DeployFiles, DeployStep, Diagnostic, Logger } from '@islet/sdk'
import type { ComponentHost } from '../components/host.ts'
import { grantedOf } from '../components/capabilities.ts'
import { compileComponent, ComponentCompileError } from '../components/compile.ts'
import { effectiveLimits } from '../components/limits.ts'
import { toPublicDiagnostic } from '../config/diagnostics.ts'
import type { ComponentDecl, Limits, SlotDecl } from '../config/types.ts'
import { IsletError, messageOf } from '../errors.ts'
import { createSandbox } from '../sandbox/supervisor.ts'
import { checkCeiling } from './ceiling.ts'

const EXTENSIONS = /\.(ts|mts|js|mjs|json)$/
const MAX_FILES = 64
const MAX_FILE_BYTES = 256 * 1024
const MAX_TOTAL_BYTES = 512 * 1024

const problem = (message: string, hint: string, file: string | null = null): Diagnostic =>
  ({ code: 'ERR_DEPLOY_FILES', severity: 'error', message, file, line: null, column: null, hint })

/** Pure, no file system: paths relative, no '..', no absolute, allowed extensions, counts and sizes, entry present. */
export function checkDeployFiles(files: DeployFiles, entry: string): Diagnostic[] {
  const out: Diagnostic[] = []
  if (typeof files !== 'object' || files === null || Array.isArray(files)) {
    return [problem('files must be an object of path → UTF-8 text', '{ "index.ts": "export default defineComponent({ … })" }')]
  }
  const paths = Object.keys(files)
  if (paths.length === 0) out.push(problem('no files were sent', 'send at least the entry file (index.ts)'))
  if (paths.length > MAX_FILES) out.push(problem(`${paths.length} files: at most ${MAX_FILES} per deployment`, 'send only the component and the files it imports'))
  let total = 0
  for (const path of paths) {
    const text = files[path]
    if (typeof text !== 'string') { out.push(problem(`${path}: the content must be a UTF-8 string`, 'send each file as text', path)); continue }
    const bytes = Buffer.byteLength(text)
    total += bytes
    if (path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.includes('\\') || path.split('/').some((s) => s === '..' || s === '.' || s === '') || path.includes('\0')) {
      out.push(problem(`${path}: a path must be relative, with / separators and no '.', '..' or empty segments`, 'e.g. index.ts or lib/rates.ts', path))
    } else if (!EXTENSIONS.test(path)) {
      out.push(problem(`${path}: only .ts, .mts, .js, .mjs and .json files can be deployed`, 'rename it, or leave it out', path))
    }
    if (bytes > MAX_FILE_BYTES) out.push(problem(`${path}: ${bytes} bytes, above ${MAX_FILE_BYTES} per file`, 'split it or shrink it', path))
  }
  if (total > MAX_TOTAL_BYTES) out.push(problem(`${total} bytes in all, above ${MAX_TOTAL_BYTES} per deployment`, 'send less'))
  if (!paths.includes(entry)) out.push(problem(`the entry ${entry} is not among the files (${paths.slice(0, 10).join(', ')})`, `send ${entry}, or name the entry (entry: …)`))
  return out
}

export interface Validation {
  ok: boolean
  steps: DeployStep[]
  diagnostics: Diagnostic[]
  definition?: { name: string; capabilities?: ComponentCapabilities; limits?: Limits; examples: number }
}

let checks = 0

/** `tree` is the folder the files were written to (by the caller, after checkDeployFiles passed). */
export async function validateDeployment(request: { files: DeployFiles; entry: string; tree: string }, slot: SlotDecl,
  deps: { host: ComponentHost; logger: Logger }): Promise<Validation> {
  const steps: DeployStep[] = []
  const diagnostics: Diagnostic[] = []
  const relativeTo = (d: Diagnostic): Diagnostic => ({ ...d, file: d.file ? relative(request.tree, d.file) : d.file })
  const step = async <T>(name: string, run: () => Promise<T | undefined>): Promise<T | undefined> => {
    const t = performance.now()
    const before = diagnostics.filter((d) => d.severity === 'error').length
    let out: T | undefined
    try {
      out = await run()
    } catch (error) {
      diagnostics.push({ code: 'ERR_DEPLOY_INVALID', severity: 'error', message: `${name}: ${messageOf(error)}`, file: null, line: null, column: null, hint: null })
    }
    const failed = diagnostics.filter((d) => d.severity === 'error').length > before
    steps.push({ name, status: failed ? 'failed' : 'passed', ms: Math.round(performance.now() - t) })
    return failed ? undefined : out
  }
  const skip = (...names: string[]) => { for (const name of names) steps.push({ name, status: 'skipped', ms: 0 }) }

  const files = await step('files', async () => { diagnostics.push(...checkDeployFiles(request.files, request.entry)); return true })
  if (!files) { skip('compile', 'schemas', 'ceiling', 'examples'); return { ok: false, steps, diagnostics } }
  const entry = join(request.tree, request.entry)
  const compiled = await step('compile', async () => {
    try {
      return await compileComponent(entry)
    } catch (error) {
      if (!(error instanceof ComponentCompileError)) throw error
      diagnostics.push(...error.diagnostics.map((d) => relativeTo(toPublicDiagnostic(d))))
      return undefined
    }
  })
  if (!compiled) { skip('schemas', 'ceiling', 'examples'); return { ok: false, steps, diagnostics } }
  // What the code declares: its module evaluated once in an isolate of its own (under the slot's limits), then dropped.
  const decl: ComponentDecl = { name: slot.name, file: entry, limits: slot.limits, grants: slot.grants, config: slot.config, source: slot.source, configSource: slot.source }
  // Never in the serving sandbox: a module that holds its worker in a builtin V8 cannot interrupt, or crashes it,
  // would take the calls of the app's components begun there with it, charged to no one, as often as it is sent
  // (test/hostile/deploy-neighbours.test.ts). A worker of the check's own, stopped after it.
  const sandbox = createSandbox({
    workers: 1, logger: deps.logger, onLog: () => {},
    onHostCall: () => Promise.reject(new IsletError('ERR_CAPABILITY_DENIED', 'a deployment being checked reaches no capability')),
  })
  const key = `${slot.name}@check-${++checks}`
  const limits = effectiveLimits({}, slot.limits, undefined)
  const meta = await step('schemas', async () => {
    try {
      return await sandbox.load({ key, name: `${slot.name}:check`, generation: 0, code: compiled.code, memoryMb: limits.memoryMb,
        loadTimeoutMs: Math.max(limits.timeoutMs, 1000), config: slot.config, granted: grantedOf(decl) })
    } finally {
      await sandbox.stop()
    }
  })
  if (!meta) { skip('ceiling', 'examples'); return { ok: false, steps, diagnostics } }
  const definition = { name: meta.name, ...(meta.capabilities ? { capabilities: meta.capabilities as ComponentCapabilities } : {}),
    ...(meta.limits ? { limits: meta.limits as Limits } : {}), examples: meta.examples?.length ?? 0 }
  await step('ceiling', async () => { diagnostics.push(...checkCeiling(definition, slot, request.entry)) })
  await step('examples', async () => {
    if (definition.examples === 0 && slot.examplesRequired) {
      diagnostics.push({ code: 'ERR_SLOT_EXAMPLES_REQUIRED', severity: 'error', file: request.entry, line: null, column: null,
        message: `slot '${slot.name}' requires examples, and the component has none`,
        hint: "add examples: [{ input: …, output: … }] to defineComponent({ … }), or set examples: optional on the slot" })
    }
  })
  return { ok: !diagnostics.some((d) => d.severity === 'error'), steps, diagnostics, definition }
}
