// compileComponent on real folders: the script it produces, and each refusal with its code and location.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import vm from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import type { Diagnostic } from '../config/diagnostics.ts'
import { ComponentCompileError, compileComponent, type CompileOptions } from './compile.ts'

const base = mkdtempSync(join(tmpdir(), 'islet-compile-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let count = 0

/** Writes `files` (path → source) into a fresh component folder and returns the path of its index.ts. */
function write(files: Record<string, string>): string {
  const dir = join(base, String(++count), 'component')
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return join(dir, 'index.ts')
}

async function diagnosticsOf(entry: string, options?: CompileOptions): Promise<Diagnostic[]> {
  const error = await compileComponent(entry, options).then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(ComponentCompileError)
  expect((error as ComponentCompileError).code).toBe('ERR_COMPONENT_COMPILE')
  return [...(error as ComponentCompileError).diagnostics]
}

/** The one diagnostic of a failed compile, as `code file:line:col` (file relative to the component folder). */
async function refusal(entry: string, options?: CompileOptions): Promise<string> {
  const diagnostics = await diagnosticsOf(entry, options)
  expect(diagnostics).toHaveLength(1)
  const [d] = diagnostics
  expect(d.hint).toBeTruthy()
  return `${d.code} ${d.file.slice(dirname(entry).length + 1)}:${d.line}:${d.col}`
}

const OK = `export default { name: 'ok', execute() { return 1 } }\n`

describe('compileComponent', () => {
  it('bundles the entry, a helper in a subfolder and @islet/sdk into a script whose value is the definition', async () => {
    const entry = write({
      'index.ts': [
        `import { defineComponent, type ComponentContext } from '@islet/sdk'`,
        `import { total } from './lib/math.ts'`,
        `import rates from './data/rates.json' with { type: 'json' }`,
        `export default defineComponent({`,
        `  name: 'quote',`,
        `  async execute(input: { qty: number }, ctx: ComponentContext) { return { total: total(input.qty, rates.unit) } },`,
        `})`,
      ].join('\n'),
      'lib/math.ts': `export function total(qty: number, unit: number): number { return qty * unit }\n`,
      'data/rates.json': `{ "unit": 2.5 }`,
    })
    const root = dirname(entry)
    const compiled = await compileComponent(entry)
    expect(compiled).toMatchObject({ entry, root, bytes: Buffer.byteLength(compiled.code) })
    expect(compiled.files).toEqual([join(root, 'data/rates.json'), join(root, 'index.ts'), join(root, 'lib/math.ts')])
    expect(compiled.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(compiled.durationMs).toBeGreaterThan(0)
    // Module paths in the bundle are relative: no host path reaches the sandbox.
    expect(compiled.code).not.toContain(base)
    const definition = vm.runInNewContext(compiled.code)
    expect(definition.name).toBe('quote')
    expect(definition.execute.name).toBe('execute')
    expect(await definition.execute({ qty: 4 })).toEqual({ total: 10 })
  })

  it('leaves no globals behind and runs the modules in strict mode', async () => {
    const context = vm.createContext({})
    const compiled = await compileComponent(write({ 'index.ts': `const a = 1\nfunction b() { return a }\n${OK}` }))
    expect(vm.runInContext(compiled.code, context).name).toBe('ok')
    expect(Object.keys(context)).toEqual([])
    expect(Object.getOwnPropertyNames(vm.runInContext('globalThis', context))).not.toContain('__islet_component')
    // As an ES module, assigning an undeclared name throws instead of creating a global.
    const sloppy = await compileComponent(write({ 'index.ts': `// @ts-nocheck\nleaked = 1\n${OK}` }))
    expect(() => vm.runInNewContext(sloppy.code)).toThrow(/leaked is not defined/)
  })

  it('gives identical components at different paths the same hash and code, and a changed one another hash', async () => {
    const files = { 'index.ts': `import { x } from './x.ts'\nexport default { name: 'a', execute: () => x }\n`, 'x.ts': 'export const x = 1\n' }
    const [a, b] = await Promise.all([compileComponent(write(files)), compileComponent(write(files))])
    expect(b.hash).toBe(a.hash)
    expect(b.code).toBe(a.code)
    const c = await compileComponent(write({ ...files, 'x.ts': 'export const x = 2\n' }))
    expect(c.hash).not.toBe(a.hash)
  })
})

describe('compileComponent refuses', () => {
  const outsideFile = (entry: string, name: string): string => {
    const path = join(dirname(entry), '..', name)
    writeFileSync(path, 'export const shared = 1\n')
    return path
  }

  it.each([
    ['a Node built-in', `import fs from 'fs'\nconsole.log(fs)\n`, 'ERR_COMPONENT_IMPORT index.ts:1:16'],
    ['an unused Node built-in', `import fs from 'fs'\n`, 'ERR_COMPONENT_IMPORT index.ts:1:16'],
    ['node: built-ins', `import 'node:child_process'\n`, 'ERR_COMPONENT_IMPORT index.ts:1:8'],
    ['a package', `import { chunk } from 'lodash'\nchunk([])\n`, 'ERR_COMPONENT_IMPORT index.ts:1:23'],
    ['an sdk subpath', `export { x } from '@islet/sdk/internal'\n`, 'ERR_COMPONENT_IMPORT index.ts:1:19'],
    ['an absolute path', `import '/etc/passwd.ts'\n`, 'ERR_COMPONENT_IMPORT index.ts:1:8'],
    ['require()', `const fs = require('fs')\nconsole.log(fs)\n`, 'ERR_COMPONENT_IMPORT index.ts:1:20'],
    ['require(expr)', `const m = 'fs'\nconst fs = require(m)\nconsole.log(fs)\n`, 'ERR_COMPONENT_IMPORT index.ts:2:12'],
    ['require as a value', `const r = typeof require\nconsole.log(r)\n`, 'ERR_COMPONENT_IMPORT index.ts:1:18'],
    ['import("fs")', `export async function load() { return await import('fs') }\n`, 'ERR_COMPONENT_IMPORT index.ts:1:52'],
    ['import(expr)', `const name = 'fs'\nexport function load() { return import(name) }\n`, 'ERR_COMPONENT_IMPORT index.ts:2:33'],
    ['import(`template`)', 'export function load(n: string) { return import(`./lib/${n}.ts`) }\n', 'ERR_COMPONENT_IMPORT index.ts:1:49'],
    ['import.meta', `export const here = import.meta.url\n`, 'ERR_COMPONENT_IMPORT index.ts:1:21'],
    ['an import attribute other than json', `import x from './x.ts' with { type: 'text' }\nconsole.log(x)\n`, 'ERR_COMPONENT_IMPORT index.ts:1:15'],
    ['top-level await', `export const x = await Promise.resolve(1)\n`, 'ERR_COMPONENT_SYNTAX index.ts:1:18'],
    ['a syntax error', `const x = {\n  a: 1,,\n}\n`, 'ERR_COMPONENT_SYNTAX index.ts:2:8'],
    ['an import of a missing name from a JS file', `import { nope } from './x.js'\nconsole.log(nope)\n`, 'ERR_COMPONENT_SYNTAX index.ts:1:10'],
  ])('%s', async (_, source, expected) => {
    expect(await refusal(write({ 'index.ts': source + OK, 'x.ts': 'export const x = 1\n', 'x.js': 'export const y = 1\n' }))).toBe(expected)
  })

  it('a relative import that leaves the component folder', async () => {
    const entry = write({ 'index.ts': `import { shared } from '../shared.ts'\nconsole.log(shared)\n${OK}` })
    outsideFile(entry, 'shared.ts')
    const [d] = await diagnosticsOf(entry)
    expect(d).toMatchObject({ code: 'ERR_COMPONENT_IMPORT', file: entry, line: 1, col: 24 })
    expect(d.message).toBe(`imports ../shared.ts, outside the component folder ${dirname(entry)}`)
  })

  it('a symlink that points outside the component folder', async () => {
    const entry = write({ 'index.ts': `import { shared } from './lib/link.ts'\nconsole.log(shared)\n${OK}`, 'lib/keep.ts': '' })
    symlinkSync(outsideFile(entry, 'secret.ts'), join(dirname(entry), 'lib/link.ts'))
    expect(await refusal(entry)).toBe('ERR_COMPONENT_IMPORT index.ts:1:24')
  })

  it('a symlinked folder that points outside the component folder', async () => {
    const entry = write({ 'index.ts': `import { shared } from './lib/shared.ts'\nconsole.log(shared)\n${OK}` })
    outsideFile(entry, 'shared.ts')
    symlinkSync(join(dirname(entry), '..'), join(dirname(entry), 'lib'))
    expect(await refusal(entry)).toBe('ERR_COMPONENT_IMPORT index.ts:1:24')
  })

  it('an entry that is a symlink out of its folder', async () => {
    const entry = write({ 'other.ts': OK })
    symlinkSync(outsideFile(entry, 'evil.ts'), entry)
    expect(await refusal(entry)).toBe('ERR_COMPONENT_IMPORT index.ts:1:1')
  })

  it.each([
    ['WebAssembly', 'mod.wasm'],
    ['a native addon', 'addon.node'],
    ['a text file', 'notes.txt'],
    ['TSX', 'view.tsx'],
  ])('%s', async (_, file) => {
    const entry = write({ 'index.ts': `import x from './${file}'\nconsole.log(x)\n${OK}`, [file]: 'binary' })
    expect(await refusal(entry)).toBe('ERR_COMPONENT_IMPORT index.ts:1:15')
  })

  it('an import without its extension, suggesting the file', async () => {
    const entry = write({ 'index.ts': `import { x } from './lib/x'\nimport { y } from './lib/y.js'\nconsole.log(x, y)\n${OK}`, 'lib/x.ts': '', 'lib/y.ts': '' })
    const diagnostics = await diagnosticsOf(entry)
    expect(diagnostics.map((d) => [d.code, d.line, d.col, d.hint])).toEqual([
      ['ERR_COMPONENT_IMPORT', 1, 19, `did you mean './lib/x.ts'?`],
      ['ERR_COMPONENT_SOURCE_NOT_FOUND', 2, 19, `did you mean './lib/y.ts'?`],
    ])
  })

  it('a missing entry', async () => {
    const entry = join(dirname(write({ 'a.ts': '' })), 'index.ts')
    expect(await refusal(entry)).toBe('ERR_COMPONENT_SOURCE_NOT_FOUND index.ts:1:1')
  })

  it('an entry with no default export, located at its first line', async () => {
    const entry = write({ 'index.ts': `\n\nexport const component = { name: 'x' }\n` })
    const [d] = await diagnosticsOf(entry)
    expect(d).toMatchObject({ code: 'ERR_COMPONENT_COMPILE', file: entry, line: 1, col: 1 })
    expect(d.message).toBe('no default export; export default defineComponent({...})')
  })

  it('sources over the cap, located at the file that crosses it', async () => {
    const entry = write({ 'index.ts': `import { big } from './big.ts'\nimport { more } from './more.ts'\nconsole.log(big, more)\n${OK}`,
      'big.ts': `export const big = '${'x'.repeat(2000)}'\n`, 'more.ts': 'export const more = 1\n' })
    expect(await refusal(entry, { maxSourceBytes: 1000 })).toBe('ERR_COMPONENT_TOO_LARGE big.ts:1:1')
    await expect(compileComponent(entry, { maxSourceBytes: 3000 })).resolves.toBeTruthy()
  })

  it('a bundle over the cap', async () => {
    const entry = write({ 'index.ts': `export const pad = '${'x'.repeat(2000)}'\nexport default { name: 'x', execute: () => pad }\n` })
    expect(await refusal(entry, { maxBundleBytes: 1500 })).toBe('ERR_COMPONENT_TOO_LARGE index.ts:1:1')
  })

  it('with every problem at once, sorted, each in the message with its location', async () => {
    const entry = write({
      'index.ts': `import fs from 'fs'\nimport { h } from './lib/h.ts'\nimport '../up.ts'\nconst cp = require('child_process')\nconsole.log(fs, h, cp, import.meta)\n`,
      'lib/h.ts': `export const h = (\n`,
    })
    const diagnostics = await diagnosticsOf(entry)
    expect(diagnostics.map((d) => `${d.code} ${d.file.slice(dirname(entry).length + 1)}:${d.line}`)).toEqual([
      'ERR_COMPONENT_IMPORT index.ts:1',
      'ERR_COMPONENT_IMPORT index.ts:3',
      'ERR_COMPONENT_IMPORT index.ts:4',
      'ERR_COMPONENT_IMPORT index.ts:5',
      'ERR_COMPONENT_SYNTAX lib/h.ts:2',
    ])
    const error = await compileComponent(entry).then(() => undefined, (e: ComponentCompileError) => e)
    expect(error?.message).toMatch(/does not compile \(5 errors\)/)
    expect(error?.message).toContain('index.ts:1:16 error ERR_COMPONENT_IMPORT imports fs: only @islet/sdk may be imported; components run in a sandbox with no Node APIs')
  })
})
