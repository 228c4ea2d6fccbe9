// Test support: the agent corpus (test/agent-corpus/README.md) and the one set of checks every transport makes of it —
// validateDeployment (deploy-validate.test.ts), the admin HTTP API (agent-corpus-http.test.ts) and MCP
// (mcp-agent-corpus.test.ts) — so the three assert the same thing of the same cases.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { DeployStep, Diagnostic, SlotInvokeResult } from '@islet/sdk'
import { DIAGNOSTIC_SCHEMA } from '@islet/sdk'
import type { SlotDecl } from '../../runtime/config/types.ts'
import { namesNonPublicAddress } from '../../runtime/sandbox/capabilities/fetch/address-policy.ts'

export const CORPUS = fileURLToPath(new URL('../agent-corpus/', import.meta.url))

/** Every case: a folder with an expect.json. */
export const corpusCases: string[] = readdirSync(CORPUS).filter((name) => existsSync(join(CORPUS, name, 'expect.json'))).sort()

/** The mistakes the corpus must hold (issue 12's list and the ones added since): a case removed fails the suites. */
export const TYPICAL_MISTAKES = ['node-fs', 'node-crypto', 'npm-axios', 'node-globals', 'require-call', 'returns-map', 'returns-date',
  'wrong-output-schema', 'floating-kv-write', 'class-based', 'missing-export', 'type-error', 'capability-beyond-slot', 'no-examples',
  'lambda-handler', 'kv-put', 'fetch-ungranted-origin', 'set-interval']

export interface SlotYaml { grants?: Record<string, unknown>; limits?: SlotDecl['limits']; config?: unknown; examples?: 'required' | 'optional' }
export interface Expected {
  code: string
  step?: string
  message?: string[]
  hint?: string[]
  replacement?: string
  at?: Partial<Pick<Diagnostic, 'file' | 'line' | 'column' | 'endLine' | 'endColumn'>>
}
/** What the fixed version, once live, answers: `output` exactly, `matches` (property → regex) or the error `error`. */
export interface Invocation { input: unknown; output?: unknown; matches?: Record<string, string>; error?: string }
export interface CorpusCase {
  description: string
  slot?: SlotYaml
  entry?: string
  globals?: string[]
  invoke: Invocation
  expect: Expected[]
}

export function corpusCase(name: string): CorpusCase {
  return JSON.parse(readFileSync(join(CORPUS, name, 'expect.json'), 'utf8')) as CorpusCase
}

/** A folder's files as a deployment sends them: path (relative, '/'-separated) → text. */
export function readTree(folder: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const name of readdirSync(folder, { recursive: true }) as string[]) {
    const path = join(folder, name)
    if (statSync(path).isFile()) files[relative(folder, path).split(sep).join('/')] = readFileSync(path, 'utf8')
  }
  return files
}

export const badFiles = (name: string) => readTree(join(CORPUS, name, 'bad'))
export const fixedFiles = (name: string) => readTree(join(CORPUS, name, 'fixed'))

const has = (text: string | null | undefined, words: readonly string[] = []) => words.every((w) => (text ?? '').toLowerCase().includes(w.toLowerCase()))

/** Whether `d` is what `wanted` describes (code, words of message and hint, replacement, position). */
export function matches(d: Diagnostic, wanted: Expected): boolean {
  return d.code === wanted.code && has(d.message, wanted.message) && has(d.hint, wanted.hint)
    && (wanted.replacement === undefined || d.replacement?.text === wanted.replacement)
    && Object.entries(wanted.at ?? {}).every(([k, v]) => d[k as keyof Diagnostic] === v)
}

/**
 * The bad version's answer, from any transport: refused, every code of the catalogue's form, and each expected
 * diagnostic there (its step failed where the case names one).
 */
export function expectRefusedAsExpected(name: string, answer: { ok: boolean; steps: DeployStep[]; diagnostics: Diagnostic[] }): void {
  const shown = JSON.stringify(answer.diagnostics, null, 2)
  expect(answer.ok, `${name}: ${shown}`).toBe(false)
  for (const d of answer.diagnostics) expect(d.code, JSON.stringify(d)).toMatch(new RegExp(DIAGNOSTIC_SCHEMA.properties.code.pattern))
  for (const wanted of corpusCase(name).expect) {
    expect(answer.diagnostics.find((d) => matches(d, wanted)), `${name}: ${JSON.stringify(wanted)} among ${shown}`).toBeDefined()
    if (wanted.step) expect(answer.steps.find((s) => s.name === wanted.step)?.status, `${name}: step ${wanted.step}`).toBe('failed')
  }
}

/** The fixed version's answer, from any transport: no error, every validation step passed (a promotion adds its own, passed too). */
export function expectAccepted(name: string, answer: { ok: boolean; steps: DeployStep[]; diagnostics: Diagnostic[] }): void {
  expect(answer.diagnostics.filter((d) => d.severity === 'error'), `${name}: ${JSON.stringify(answer, null, 2)}`).toEqual([])
  expect(answer.ok).toBe(true)
  const steps = answer.steps.map((s) => `${s.name}:${s.status}`)
  expect(steps.slice(0, 6)).toEqual(['files:passed', 'compile:passed', 'typecheck:passed', 'schemas:passed', 'ceiling:passed', 'examples:passed'])
  expect(steps.slice(6).filter((s) => !s.endsWith(':passed'))).toEqual([])
}

/** What the live fixed version answered its case's input with: the output it declares, or the error. */
export function expectInvoked(name: string, answer: { ok: boolean; output?: unknown; errorCode?: string }): void {
  const want = corpusCase(name).invoke
  const shown = `${name}: ${JSON.stringify(answer)}`
  if (want.error !== undefined) {
    expect(answer.ok, shown).toBe(false)
    expect(answer.errorCode, shown).toBe(want.error)
    return
  }
  expect(answer.ok, shown).toBe(true)
  if (want.output !== undefined) expect(answer.output, shown).toEqual(want.output)
  for (const [key, pattern] of Object.entries(want.matches ?? {})) {
    expect((answer.output as Record<string, unknown>)?.[key], shown).toMatch(new RegExp(pattern))
  }
}

/** A slot invocation (the service's SlotInvokeResult) as expectInvoked takes it. */
export const invoked = (r: SlotInvokeResult) => ({ ok: r.ok, output: r.output, ...(r.error ? { errorCode: r.error.code } : {}) })

/** The grants in the YAML's form: a fetch list is the origins (those on loopback or private addresses named so). */
function grantsYaml(grants: Record<string, unknown>): Record<string, unknown> {
  const fetch = grants.fetch
  if (!Array.isArray(fetch)) return grants
  return { ...grants, fetch: { origins: fetch, privateOrigins: (fetch as string[]).filter((o) => namesNonPublicAddress(o)) } }
}

/**
 * An app with one slot per case, named after it and declared as its expect.json says (JSON is YAML), the admin API,
 * and for each case a route `POST /run/<case>` whose pipeline calls the slot with the request's body and answers
 * with its output: the corpus deployed as an agent would, and called as the app's users would.
 */
export function corpusAppYaml(cases: readonly string[] = corpusCases): string {
  const slots = cases.map((name) => {
    const s = corpusCase(name).slot ?? {}
    return [`  - slot: ${name}`,
      ...(s.grants ? [`    grants: ${JSON.stringify(grantsYaml(s.grants))}`] : []),
      ...(s.limits ? [`    limits: ${JSON.stringify(s.limits)}`] : []),
      ...(s.config ? [`    config: ${JSON.stringify(s.config)}`] : []),
      ...(s.examples ? [`    examples: ${s.examples}`] : [])].join('\n')
  })
  const routes = cases.map((name) => `        - { method: POST, path: /run/${name}, pipeline: run-${name} }`)
  const pipelines = cases.map((name) => `  run-${name}:
    steps:
      - { name: out, type: component, config: { component: ${name}, input: '\${{ body }}' } }
      - { type: respond, config: { body: '\${{ steps.out }}' } }`)
  return `apiVersion: islet/v1
components:
${slots.join('\n')}
modules:
  - name: admin
    type: islet.admin
  - name: runs
    type: http.router
    config:
      routes:
${routes.join('\n')}
  - name: web
    type: http.server
    config: { port: 0, middleware: [admin], routers: [runs] }
pipelines:
${pipelines.join('\n')}
`
}
