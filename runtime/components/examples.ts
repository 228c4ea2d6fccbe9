// Runs a component's own `examples` against a loaded generation: the check behind `islet component test` and the
// smoke test of every reload.
import { isDeepStrictEqual } from 'node:util'
import { isIsletError, messageOf } from '../errors.ts'
import type { ComponentMetaDto } from '../sandbox/protocol.ts'
import type { ComponentHost } from './host.ts'
import { ComponentClientError } from './client-error.ts'

export type Example = NonNullable<ComponentMetaDto['examples']>[number]

export interface ExampleResult {
  name: string
  ok: boolean
  ms: number
  /** Why it failed: the error code and message, or the output difference. */
  reason?: string
}

/** The examples of the component's live generation, through `host.invoke`. */
export function runExamples(host: ComponentHost, component: string): Promise<ExampleResult[]> {
  return checkExamples(host.generation(component)?.meta.examples ?? [], (input) => host.invoke(component, input))
}

/**
 * Runs `examples` through `invoke` in order; an example with `error:` expects that code. `stopAtFailure` ends at the
 * first failing one (a reload's smoke test: one failure already refuses the generation).
 */
export async function checkExamples(examples: readonly Example[], invoke: (input: unknown) => Promise<unknown>,
  options: { stopAtFailure?: boolean } = {}): Promise<ExampleResult[]> {
  const results: ExampleResult[] = []
  for (const [i, example] of examples.entries()) {
    const name = typeof example.name === 'string' ? example.name : `example ${i + 1}`
    const started = performance.now()
    let outcome: { output?: unknown; code?: string; message?: string }
    try {
      outcome = { output: await invoke(example.input) }
    } catch (error) {
      const code = isIsletError(error) || error instanceof ComponentClientError ? error.code : 'ERR_INTERNAL'
      outcome = { code, message: messageOf(error) }
    }
    const ms = performance.now() - started
    results.push({ name, ms, ...judge(example, outcome) })
    if (options.stopAtFailure && !results.at(-1)!.ok) break
  }
  return results
}

function judge(example: { output?: unknown; error?: string }, outcome: { output?: unknown; code?: string; message?: string }): { ok: boolean; reason?: string } {
  if (example.error !== undefined) {
    if (outcome.code === example.error) return { ok: true }
    return { ok: false, reason: outcome.code ? `expected ${example.error}, got ${outcome.code}: ${outcome.message}` : `expected ${example.error}, got output ${show(outcome.output)}` }
  }
  if (outcome.code) return { ok: false, reason: `${outcome.code}: ${outcome.message}` }
  if (example.output === undefined || isDeepStrictEqual(JSON.parse(JSON.stringify(outcome.output)), example.output)) return { ok: true }
  return { ok: false, reason: `output differs:\n      expected ${show(example.output)}\n      actual   ${show(outcome.output)}` }
}

function show(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? 'undefined' : text.length > 300 ? `${text.slice(0, 300)}…` : text
}
