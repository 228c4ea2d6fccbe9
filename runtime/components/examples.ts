// Runs a component's own `examples`: the check behind `islet component test`, the smoke test of every reload and of
// every component at start. Examples never touch real data: they run on a throwaway isolate of the same compiled code
// (the host's trial, never the isolate that serves), each with throwaway capabilities (capabilities.ts scratch mode):
//   kv       a scratch store in memory per example: what the trial's init wrote, plus the example's `kv` fixture
//   emit     captured per example (shown by `islet component test`, kept in the reload result), never published
//   fetch    the component's own grant, and only for an example declaring `fetch: true` (init: if any example does)
//   secrets  as granted: reading one changes nothing outside
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { IsletError, isIsletError, messageOf } from '../errors.ts'
import { createScratchKvStore, type KvStore } from '../sandbox/capabilities/kv/kv.ts'
import type { ComponentMetaDto } from '../sandbox/protocol.ts'
import type { Capabilities, ScratchMode } from './capabilities.ts'
import { ComponentClientError } from './client-error.ts'

/** An example as the component declared it (sdk ComponentExample); the fixture fields are checked before use. */
export type Example = NonNullable<ComponentMetaDto['examples']>[number] & { kv?: unknown; fetch?: unknown }

export interface ExampleEmit {
  topic: string
  payload: unknown
}

export interface ExampleResult {
  name: string
  ok: boolean
  ms: number
  /** Why it failed: the error code and message, or the output difference. */
  reason?: string
  /** What the example emitted (captured; nothing reached the event bus). */
  emits: ExampleEmit[]
}

export interface ExampleRun {
  results: ExampleResult[]
  /** What the trial's init emitted before the first example. */
  initEmits: ExampleEmit[]
}

/** A throwaway isolate of a generation's compiled code, loaded by the host for its examples and disposed after. */
export interface TrialIsolate {
  /** The trial's host calls land on `caps` from now on. */
  bind(caps: Capabilities): void
  /** Runs the component's init (if it has one) on the trial. */
  init(): Promise<void>
  call(input: unknown): Promise<unknown>
}

/** Builds the component's capabilities in scratch mode over `kv`. */
export type ScratchCapabilities = (kv: KvStore, scratch: ScratchMode) => Capabilities

/**
 * Runs `examples` in order on `trial`; an example with `error:` expects that code. `stopAtFailure` ends at the first
 * failing one (a smoke test: one failure already refuses the generation).
 */
export async function runExamplesOn(trial: TrialIsolate, examples: readonly Example[], component: string, scratchCaps: ScratchCapabilities,
  options: { stopAtFailure?: boolean } = {}): Promise<ExampleRun> {
  const initEmits: ExampleEmit[] = []
  const anyFetch = examples.some((e) => e.fetch === true)
  const baseline = createScratchKvStore()
  const initCaps = scratchCaps(baseline, {
    emitted: (topic, payload) => initEmits.push({ topic, payload }),
    ...(anyFetch ? {} : { fetchRefusal: `component '${component}' may not fetch in its init while its examples run: examples run with throwaway capabilities and fetch reaches the real network; add fetch: true to an example to let the examples (init included) use the component's fetch grant` }),
  })
  const results: ExampleResult[] = []
  try {
    trial.bind(initCaps)
    await trial.init()
  } catch (error) {
    return { initEmits, results: [{ name: 'init', ok: false, ms: 0, emits: [], reason: `init failed on the throwaway isolate the examples run on: ${codeOf(error)}: ${messageOf(error)}` }] }
  } finally {
    await initCaps.close()
  }
  const seed = baseline.snapshot()
  for (const [i, example] of examples.entries()) {
    const name = typeof example.name === 'string' ? example.name : `example ${i + 1}`
    const emits: ExampleEmit[] = []
    const kv = createScratchKvStore(seed)
    const fixture = seedFixture(example, kv, component)
    if (fixture) {
      results.push({ name, ok: false, ms: 0, emits, reason: fixture })
      if (options.stopAtFailure) break
      continue
    }
    const caps = scratchCaps(kv, {
      emitted: (topic, payload) => emits.push({ topic, payload }),
      ...(example.fetch === true ? {} : { fetchRefusal: `example '${name}' of component '${component}' may not fetch: examples run with throwaway capabilities and fetch reaches the real network; add fetch: true to the example to let it use the component's fetch grant` }),
    })
    trial.bind(caps)
    const started = performance.now()
    let outcome: { output?: unknown; code?: string; message?: string }
    try {
      outcome = { output: await trial.call(example.input) }
    } catch (error) {
      outcome = { code: codeOf(error), message: messageOf(error) + issuesOf(error) }
    } finally {
      await caps.close()
    }
    const ms = performance.now() - started
    results.push({ name, ms, emits, ...judge(example, outcome) })
    if (options.stopAtFailure && !results.at(-1)!.ok) break
  }
  return { results, initEmits }
}

/** Seeds the example's `kv` fixture into its scratch store; the reason it cannot, if so. */
function seedFixture(example: Example, kv: KvStore, component: string): string | undefined {
  if (example.fetch !== undefined && typeof example.fetch !== 'boolean') return `its fetch field must be true or false, not ${show(example.fetch)}`
  if (example.kv === undefined) return undefined
  if (example.kv === null || typeof example.kv !== 'object' || Array.isArray(example.kv)) {
    return `its kv fixture must be an object of key → JSON value (what the component's kv holds when the example starts), not ${show(example.kv)}`
  }
  const ns = kv.namespace(component)
  for (const [key, value] of Object.entries(example.kv)) {
    try { ns.set(key, value) } catch (error) { return `its kv fixture's key ${JSON.stringify(key)}: ${messageOf(error)}` }
  }
  return undefined
}

/** A schema refusal's issues (`total must be number`), so the reason says what to change, not only that it failed. */
function issuesOf(error: unknown): string {
  const issues = isIsletError(error) ? error.details.issues : undefined
  if (!Array.isArray(issues) || issues.length === 0) return ''
  return `: ${issues.slice(0, 5).map((i: { path?: unknown; message?: unknown }) => `${typeof i.path === 'string' && i.path ? i.path : 'the output'} ${String(i.message)}`).join('; ')}`
}

// A component's own client error is an outcome an example may expect, like any coded error.
const codeOf = (error: unknown) => (isIsletError(error) || error instanceof ComponentClientError ? error.code : 'ERR_INTERNAL')

function judge(example: { output?: unknown; error?: string }, outcome: { output?: unknown; code?: string; message?: string }): { ok: boolean; reason?: string } {
  if (example.error !== undefined) {
    if (outcome.code === example.error) return { ok: true }
    return { ok: false, reason: outcome.code ? `expected ${example.error}, got ${outcome.code}: ${outcome.message}` : `expected ${example.error}, got output ${show(outcome.output)}` }
  }
  if (outcome.code) return { ok: false, reason: `${outcome.code}: ${outcome.message}` }
  if (example.output === undefined || isDeepStrictEqual(JSON.parse(JSON.stringify(outcome.output)), example.output)) return { ok: true }
  return { ok: false, reason: `output differs:\n      expected ${show(example.output)}\n      actual   ${show(outcome.output)}` }
}

export function show(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? 'undefined' : text.length > 300 ? `${text.slice(0, 300)}…` : text
}

/**
 * The error for a failing example, located at the example in the component's sources (`when`: e.g. 'on the new
 * code'). Examples reach the host as data from the isolate, without positions: the example's name is looked up in
 * the source text, else the `examples` property, else the entry file.
 */
export function exampleFailure(component: string, files: readonly string[], failed: ExampleResult, when: string): IsletError {
  const at = locate(files, failed.name)
  // Shown the way diagnostics show files: relative to where the command runs.
  const shown = relative(process.cwd(), at.file) || at.file
  return new IsletError('ERR_COMPONENT_EXAMPLE_FAILED', `${shown}:${at.line}:${at.col} component '${component}': its example '${failed.name}' failed ${when}: ${failed.reason}`,
    { details: { component, example: failed.name, ...at } })
}

function locate(files: readonly string[], name: string): { file: string; line: number; col: number } {
  const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const patterns = [new RegExp(`\\bname\\s*:\\s*(['"\`])${quoted}\\1`), /\bexamples\s*[:(]/]
  const texts = files.map((file) => { try { return { file, text: readFileSync(file, 'utf8') } } catch { return { file, text: '' } } })
  for (const pattern of patterns) {
    for (const { file, text } of texts) {
      const from = pattern === patterns[0] ? Math.max(0, text.search(patterns[1])) : 0
      const m = pattern.exec(text.slice(from))
      if (!m) continue
      const before = text.slice(0, from + m.index).split('\n')
      return { file, line: before.length, col: before.at(-1)!.length + 1 }
    }
  }
  return { file: files[0] ?? '<component>', line: 1, col: 1 }
}
