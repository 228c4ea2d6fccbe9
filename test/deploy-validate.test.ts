// Deploy validation with real parts: every agent-corpus case (test/agent-corpus/README.md) through validateDeployment
// on a real component host (real isolates, the real TypeScript checker in its worker thread), with the checks the HTTP
// and MCP suites make of the same cases (test/support/agent-corpus.ts), plus the steps' own rules: the files check,
// every step running when it can, the ceiling, examples under the slot's limits.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ComponentGrants, SlotDecl } from '../runtime/config/types.ts'
import { createComponentHost, type ComponentHost } from '../runtime/components/host.ts'
import { createEventBus } from '../runtime/events/bus.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { namesNonPublicAddress } from '../runtime/sandbox/capabilities/fetch/address-policy.ts'
import { checkDeployFiles, validateDeployment, type Validation } from '../runtime/slots/validate.ts'
import { stopTypecheck, typecheck } from '../runtime/slots/typecheck.ts'
import { writeFiles } from './support/files.ts'
import {
  TYPICAL_MISTAKES, badFiles, corpusCase, corpusCases, expectAccepted, expectRefusedAsExpected, fixedFiles, type SlotYaml,
} from './support/agent-corpus.ts'

const { dir, cleanup } = writeFiles({})
let host: ComponentHost
let trees = 0

beforeAll(async () => {
  host = createComponentHost({
    components: [], logger: silentLogger(), dataDir: join(dir, 'data'), bus: createEventBus(),
    sandbox: { workers: 1, limits: {}, quarantine: { breaches: 100, windowMs: 1000, baseMs: 1000, maxMs: 1000 } },
  })
  await host.start()
}, 30_000)
afterAll(async () => {
  await host.stop()
  await stopTypecheck()
  cleanup()
})

/** A slot as the config loader makes it from its YAML entry (grants in their checked form). */
function slotOf(name: string, yaml: SlotYaml = {}): SlotDecl {
  const g = yaml.grants ?? {}
  const grants: ComponentGrants = { kv: g.kv === true, emit: (g.emit as string[]) ?? [], secrets: (g.secrets as string[]) ?? [] }
  if (Array.isArray(g.fetch)) {
    const origins = g.fetch as string[]
    grants.fetch = { origins, privateOrigins: origins.filter((o) => namesNonPublicAddress(o)), maxRequests: 10 }
  }
  return {
    name, grants, limits: yaml.limits ?? {}, config: yaml.config ?? {}, deployers: ['admin'],
    examplesRequired: yaml.examples !== 'optional', source: { file: join(dir, 'islet.yaml'), line: 3, col: 5 },
  }
}

/** What the slots service does before validating: the files written to a tree of their own. */
function materialise(files: Record<string, string>): string {
  const tree = join(dir, 'trees', String(++trees))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true })
    writeFileSync(join(tree, path), text)
  }
  return tree
}

function validate(files: Record<string, string>, slot: SlotDecl, entry = 'index.ts'): Promise<Validation> {
  return validateDeployment({ files, entry, tree: materialise(files) }, slot, { host, logger: silentLogger() })
}

const shown = (v: Validation) => JSON.stringify(v.diagnostics, null, 2)

/** Whether the isolate has a global (e.g. `crypto.randomUUID`), asked of the sandbox itself. */
async function isolateHas(path: string): Promise<boolean> {
  const tree = materialise({
    'index.ts': `export default { name: 'probe', examples: [{ input: {}, output: { has: true } }], execute: () => { try { return { has: typeof ${path} !== 'undefined' } } catch { return { has: false } } } }\n`,
  })
  const result = await host.trial({ ...slotOf('probe'), file: join(tree, 'index.ts'), source: { file: join(tree, 'index.ts'), line: 1, col: 1 }, configSource: slotOf('probe').source })
  return result.ok
}

describe('the agent corpus', () => {
  it('has a case for each typical first-try mistake', () => {
    expect(corpusCases).toEqual(expect.arrayContaining(TYPICAL_MISTAKES))
  })

  for (const name of corpusCases) {
    it(`${name}: the mistake gets the diagnostics that say how to fix it, and the fix validates`, async () => {
      const spec = corpusCase(name)
      const slot = slotOf(name, spec.slot)
      expectRefusedAsExpected(name, await validate(badFiles(name), slot, spec.entry))
      const missing = []
      for (const global of spec.globals ?? []) if (!await isolateHas(global)) missing.push(global)
      const fixed = await validate(fixedFiles(name), slot, spec.entry)
      if (missing.length > 0) {
        // The isolate lacks a global the fix uses (its helper's work not merged yet): the static steps must pass.
        expect(fixed.steps.filter((s) => ['files', 'compile', 'typecheck', 'ceiling'].includes(s.name)).map((s) => s.status), shown(fixed)).toEqual(['passed', 'passed', 'passed', 'passed'])
        return
      }
      expectAccepted(name, fixed)
      expect(fixed.steps).toHaveLength(6)
    }, 60_000)
  }
})

describe('validateDeployment', () => {
  const ok = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'double',
  examples: [{ name: 'doubles', input: { n: 2 }, output: { n: 4 } }],
  async execute(input: { n: number }) { return { n: input.n * 2 } },
})
`
  it('runs every step that can run: a type error does not hide a failing example', async () => {
    const files = { 'index.ts': ok.replace('output: { n: 4 }', 'output: { n: 5 }').replace('return { n: input.n * 2 }', 'const s: string = input.n; return { n: input.n * 2, s }') }
    const v = await validate(files, slotOf('both'))
    expect(v.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['files:passed', 'compile:passed', 'typecheck:failed', 'schemas:passed', 'ceiling:passed', 'examples:failed'])
    expect(v.diagnostics.find((d) => d.code === 'ERR_COMPONENT_TYPE' && d.line === 5)?.message).toBe("TS2322: Type 'number' is not assignable to type 'string'.")
    const example = v.diagnostics.find((d) => d.code === 'ERR_COMPONENT_EXAMPLE_FAILED')!
    expect(example).toMatchObject({ file: 'index.ts', line: 4 })
    expect(v.definition).toEqual({ name: 'double', examples: 1 })
  }, 60_000)

  it('refuses bad paths, sizes and a missing entry before anything else runs', async () => {
    const v = await validateDeployment({ files: { '../x.ts': '', '/abs.ts': '', 'a.wasm': '' }, entry: 'index.ts', tree: join(dir, 'nowhere') }, slotOf('f'), { host, logger: silentLogger() })
    expect(v.ok).toBe(false)
    expect(v.steps.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped'])
    expect(v.diagnostics.map((d) => d.message)).toEqual([
      'file path "../x.ts" climbs out of the folder (\'..\')', 'file path "/abs.ts" is absolute',
      'file path "a.wasm" is not a .ts, .mts, .js, .mjs or .json file', 'the entry "index.ts" is not among the files',
    ])
    const big = 'x'.repeat(300 * 1024)
    expect(checkDeployFiles({ 'index.ts': big, 'b.ts': big }, 'index.ts').map((d) => d.message)).toEqual([
      'index.ts is 307200 bytes, over the 262144-byte limit per file', 'b.ts is 307200 bytes, over the 262144-byte limit per file',
      'the files total 614400 bytes, over the 524288-byte limit',
    ])
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}.ts`, '']))
    expect(checkDeployFiles({ ...many, 'index.ts': '' }, 'index.ts').map((d) => d.code)).toEqual(['ERR_DEPLOY_FILES'])
    expect(checkDeployFiles({ 'index.ts': ok }, 'index.ts')).toEqual([])
  })

  it('runs examples under the slot\'s limits: a loop past its timeout fails the example, not the engine', async () => {
    const files = { 'index.ts': ok.replace('return { n: input.n * 2 }', 'while (true) {} ') }
    const v = await validate(files, slotOf('slow', { limits: { timeoutMs: 200, cpuMs: 100 } }))
    const example = v.diagnostics.find((d) => d.code === 'ERR_COMPONENT_EXAMPLE_FAILED')
    expect(example?.message, shown(v)).toMatch(/ERR_SANDBOX_(TIMEOUT|CPU_LIMIT)/)
  }, 60_000)

  it("takes fetch in the slot's own shape too, and the ceiling's hint shows the grant as the component writes it", async () => {
    const slot = slotOf('rates', { grants: { fetch: ['https://rates.example'] } })
    const asking = (fetch: string) => ({ 'index.ts': ok.replace("name: 'double',", `name: 'double', capabilities: { fetch: ${fetch} },`) })
    // As the YAML grants it: { origins: [...] } type-checks and is within the ceiling.
    const same = await validate(asking("{ origins: ['https://rates.example'] }"), slot)
    expect(same.steps.map((s) => `${s.name}:${s.status}`), shown(same)).toEqual(['files:passed', 'compile:passed', 'typecheck:passed', 'schemas:passed', 'ceiling:passed', 'examples:passed'])
    // Beyond it, in either shape: the hint is the capabilities line to write, in the shape the component used.
    const objectForm = await validate(asking("{ origins: ['https://other.example'] }"), slot)
    expect(objectForm.diagnostics.find((d) => d.code === 'ERR_SLOT_CEILING')?.hint, shown(objectForm)).toContain("capabilities: { fetch: { origins: ['https://rates.example'] } }")
    const listForm = await validate(asking("['https://other.example']"), slot)
    expect(listForm.diagnostics.find((d) => d.code === 'ERR_SLOT_CEILING')?.hint, shown(listForm)).toContain("capabilities: { fetch: ['https://rates.example'] }")
  }, 60_000)

  it('refuses limits above the slot\'s and keeps examples away from the app\'s data', async () => {
    const files = { 'index.ts': ok.replace("name: 'double',", "name: 'double', limits: { timeoutMs: 5000 },").replace('async execute(input: { n: number }) {', 'async execute(input: { n: number }, ctx) { await ctx.kv.set(\'touched\', true);') }
    const v = await validate(files, slotOf('limits', { grants: { kv: true }, limits: { timeoutMs: 1000 } }))
    expect(v.diagnostics.filter((d) => d.code === 'ERR_SLOT_CEILING').map((d) => [d.file, d.line])).toEqual([['index.ts', 3]])
    const ceiling = v.diagnostics.find((d) => d.code === 'ERR_SLOT_CEILING')!
    expect(ceiling.message).toContain("limits.timeoutMs 5000, above the 1000 slot 'limits' allows")
    expect(ceiling.hint).toContain('lower limits.timeoutMs to')
    expect(v.steps.find((s) => s.name === 'examples')?.status).toBe('passed')
    expect(existsSync(join(dir, 'data', 'islet-kv.db'))).toBe(false)
  }, 60_000)
})

describe('what a validation answers with', () => {
  it('an example that fetches without fetch: true is told to add it to that example', async () => {
    const files = { 'index.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'rates',
  examples: [{ name: 'live', input: {} }],
  async execute() { return (await fetch('https://rates.example/eur')).json() },
})
` }
    const v = await validate(files, slotOf('rates', { grants: { fetch: ['https://rates.example'] } }))
    const example = v.diagnostics.find((d) => d.code === 'ERR_COMPONENT_EXAMPLE_FAILED')
    expect(example, shown(v)).toMatchObject({ line: 4 })
    expect(example!.hint).toMatch(/^add fetch: true to example 'live'/)
  }, 60_000)
  it('never quotes a granted secret: an example whose output holds one shows it redacted', async () => {
    process.env.VALIDATE_TEST_SECRET = 'sk-live-9f8e7d6c5b4a'
    const files = { 'index.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'leaky',
  examples: [{ name: 'leaks', input: {}, output: { key: 'guess' } }],
  async execute(_input: unknown, ctx) { return { key: await ctx.secrets.get('VALIDATE_TEST_SECRET') } },
})
` }
    const v = await validate(files, slotOf('leaky', { grants: { secrets: ['VALIDATE_TEST_SECRET'] } }))
    const example = v.diagnostics.find((d) => d.code === 'ERR_COMPONENT_EXAMPLE_FAILED')
    expect(example?.message, shown(v)).toContain('[redacted]')
    expect(JSON.stringify(v)).not.toContain('sk-live-9f8e7d6c5b4a')
  }, 60_000)
})

describe('the type check worker', () => {
  const wrong = { 'index.ts': 'export const n: number = "x"\n' }
  it('names sdk files by the sdk\'s name in hints, never by where the engine keeps them', async () => {
    const files = { 'index.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent<unknown, {}, { a: number; b: number }>({
  name: 'short',
  examples: [{ input: {}, output: {} }],
  execute: () => ({ a: 1, b: 2 }),
})
` }
    const { diagnostics } = await typecheck(dir, 'index.ts', files)
    const missing = diagnostics.find((d) => d.code === 'ERR_COMPONENT_TYPE' && d.line === 4)
    expect(missing?.hint, JSON.stringify(diagnostics)).toMatch(/\(@islet\/sdk\/component\.ts:\d+:\d+\)$/)
    expect(JSON.stringify(diagnostics)).not.toContain(fileURLToPath(new URL('../sdk/', import.meta.url)))
  }, 60_000)
  it('refuses a check that runs past its time, and the checks after it get a fresh worker', async () => {
    // Cold, the worker cannot even load TypeScript within 1 ms: this check always runs out of time.
    await stopTypecheck()
    const late = await typecheck(dir, 'index.ts', wrong, { timeoutMs: 1 })
    expect(late.diagnostics).toEqual([expect.objectContaining({ code: 'ERR_COMPONENT_TYPE', message: 'the type check did not finish within 1 ms', file: 'index.ts' })])
    const [a, b] = await Promise.all([typecheck(dir, 'index.ts', wrong), typecheck(dir, 'index.ts', { 'index.ts': 'export const n: number = 1\n' })])
    expect(a.diagnostics.map((d) => [d.message, d.line, d.column, d.endLine, d.endColumn])).toEqual([["TS2322: Type 'string' is not assignable to type 'number'.", 1, 14, 1, 15]])
    expect(b.diagnostics).toEqual([])
  }, 60_000)
})
