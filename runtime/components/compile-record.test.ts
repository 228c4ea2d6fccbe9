// `islet validate`'s component check: a component whose files are what compiled last time is known to compile without
// esbuild; any edit is compiled again, so an error introduced is reported, never hidden behind the record.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import * as esbuild from 'esbuild'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { checkComponent, ComponentCompileError } from './compile.ts'

// Counts real esbuild runs of components (the sdk's bundle is cached on its own): a known-good component runs none.
vi.mock('esbuild', async (importOriginal) => {
  const original = await importOriginal<typeof import('esbuild')>()
  return { ...original, build: vi.fn((options: esbuild.BuildOptions) => original.build(options)) }
})
const builds = vi.mocked(esbuild.build)
const componentBuilds = () => builds.mock.calls.filter(([options]) => options.entryPoints?.toString() === 'entry').length
beforeEach(() => { builds.mockClear() })

const base = mkdtempSync(join(tmpdir(), 'islet-compile-record-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let count = 0

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
}

function component(): { dir: string; entry: string } {
  const dir = join(base, String(++count))
  write(dir, {
    'index.ts': `import { value } from './lib/value.ts'\nexport default { name: 'v', execute: () => value }\n`,
    'lib/value.ts': 'export const value = 1\n',
  })
  return { dir, entry: join(dir, 'index.ts') }
}

const failure = (entry: string) => checkComponent(entry).then(() => undefined, (error: unknown) => error)

describe('checkComponent', () => {
  it('compiles a component once; unchanged, it is known to compile without another esbuild run', async () => {
    const { entry } = component()
    await checkComponent(entry)
    expect(componentBuilds()).toBe(1)
    await checkComponent(entry)
    expect(componentBuilds()).toBe(1)
  })

  it('reports an error introduced in an imported file after a successful check', async () => {
    const { dir, entry } = component()
    await checkComponent(entry)
    write(dir, { 'lib/value.ts': 'export const value = (\n' })
    const error = await failure(entry)
    expect(error).toBeInstanceOf(ComponentCompileError)
    expect((error as ComponentCompileError).diagnostics[0]).toMatchObject({ file: join(dir, 'lib/value.ts'), severity: 'error' })
    // Fixed again: compiles (the failure was never recorded as a success, nor the success forgotten wrongly).
    write(dir, { 'lib/value.ts': 'export const value = 2\n' })
    await checkComponent(entry)
  })

  it('compiles again when an import is retargeted through a symlink with no file changing', async () => {
    const { dir, entry } = component()
    write(dir, { 'lib/other.ts': 'export const value = ;\n', 'index.ts': `import { value } from './link/value.ts'\nexport default { name: 'v', execute: () => value }\n` })
    symlinkSync(join(dir, 'lib'), join(dir, 'link'))
    await checkComponent(entry)
    rmSync(join(dir, 'link'))
    mkdirSync(join(dir, 'link'))
    write(dir, { 'link/value.ts': 'export const value = ;\n' })
    expect(await failure(entry)).toBeInstanceOf(ComponentCompileError)
  })

  it('reports a missing entry, as a compile does', async () => {
    const error = await failure(join(base, 'nope', 'index.ts'))
    expect(error).toBeInstanceOf(ComponentCompileError)
    expect((error as ComponentCompileError).diagnostics[0]!.code).toBe('ERR_COMPONENT_SOURCE_NOT_FOUND')
  })
})
