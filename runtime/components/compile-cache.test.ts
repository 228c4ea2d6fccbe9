// The compile cache: hits only when every input is unchanged, and any edit (content, imports, symlinks) recompiles.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import vm from 'node:vm'
import * as esbuild from 'esbuild'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { CACHE_DIR } from '../cache-dir.ts'
import { ComponentCompileError, compileComponent, createCompileCache } from './compile.ts'

// Counts real esbuild runs, a build or a rebuild on a kept context (compile-context.ts): a cache hit must not run one.
const builds = vi.hoisted(() => ({ count: 0, rebuilds: 0 }))
vi.mock('esbuild', async (importOriginal) => {
  const original = await importOriginal<typeof import('esbuild')>()
  return {
    ...original,
    build: (options: esbuild.BuildOptions) => { builds.count++; return original.build(options) },
    context: async (options: esbuild.BuildOptions) => {
      const context = await original.context(options)
      return { ...context, rebuild: () => { builds.count++; builds.rebuilds++; return context.rebuild() } }
    },
  }
})
// (braces: a function returned from beforeEach is run as its teardown)
beforeEach(() => { builds.count = builds.rebuilds = 0 })

const base = mkdtempSync(join(tmpdir(), 'islet-compile-cache-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let count = 0

function write(files: Record<string, string>, dir = join(base, String(++count))): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return join(dir, 'index.ts')
}

const COMPONENT = {
  'index.ts': `import { value } from './lib/value.ts'\nexport default { name: 'v', execute: () => value }\n`,
  'lib/value.ts': 'export const value = 1\n',
}
const run = (code: string): unknown => vm.runInNewContext(code).execute()

describe('createCompileCache', () => {
  it('runs one build for compiles of one entry that overlap: the later one waits and finds it cached', async () => {
    const cache = createCompileCache()
    const entry = write(COMPONENT)
    const [a, b] = await Promise.all([cache.compile(entry), cache.compile(entry)])
    expect(b).toBe(a)
    expect(builds.count).toBe(1)
  })

  it('returns the same object for unchanged sources without running esbuild again', async () => {
    const cache = createCompileCache()
    const entry = write(COMPONENT)
    const first = await cache.compile(entry)
    expect(await cache.compile(entry)).toBe(first)
    expect(builds.count).toBe(1)
    expect(cache.size).toBe(1)
  })

  it('recompiles after an edit to an imported file, with a new hash and new code', async () => {
    const cache = createCompileCache()
    const entry = write(COMPONENT)
    const first = await cache.compile(entry)
    write({ 'lib/value.ts': 'export const value = 2\n' }, dirname(entry))
    const second = await cache.compile(entry)
    expect(second.hash).not.toBe(first.hash)
    expect(run(second.code)).toBe(2)
    expect(builds.count).toBe(2)
    expect(cache.size).toBe(1) // the old generation's code is no longer held
  })

  it('rebuilds an entry edited again on a kept esbuild context, with the code, map and errors a fresh compile gives', async () => {
    const cache = createCompileCache()
    const entry = write(COMPONENT)
    await cache.compile(entry)
    const fresh = async () => {
      const [kept, own] = await Promise.all([cache.compile(entry).catch((e: unknown) => e), compileComponent(entry).catch((e: unknown) => e)])
      return { kept, own }
    }
    for (const value of ['2', '(', '3']) {
      write({ 'lib/value.ts': `export const value = ${value}\n` }, dirname(entry))
      const { kept, own } = await fresh()
      if (value === '(') {
        expect(kept).toBeInstanceOf(ComponentCompileError)
        expect((kept as ComponentCompileError).diagnostics).toEqual((own as ComponentCompileError).diagnostics)
        continue
      }
      expect(run((kept as { code: string }).code)).toBe(Number(value))
      expect(kept).toMatchObject({ code: (own as { code: string }).code, map: (own as { map: string }).map, hash: (own as { hash: string }).hash })
    }
    expect(builds.rebuilds).toBe(3)
    await cache.close()
  })

  it('picks up a file that an edit newly imports', async () => {
    const cache = createCompileCache()
    const entry = write(COMPONENT)
    await cache.compile(entry)
    write({ 'lib/value.ts': `export { value } from './other.ts'\n`, 'lib/other.ts': 'export const value = 3\n' }, dirname(entry))
    const second = await cache.compile(entry)
    expect(second.files).toContain(join(dirname(entry), 'lib/other.ts'))
    expect(run(second.code)).toBe(3)
    write({ 'lib/other.ts': 'export const value = 4\n' }, dirname(entry))
    expect(run((await cache.compile(entry)).code)).toBe(4)
  })

  it('recompiles when a symlink is retargeted, though no file content changed', async () => {
    const cache = createCompileCache()
    const entry = write({ ...COMPONENT, 'lib/one.ts': 'export const value = 1\n', 'lib/two.ts': 'export const value = 2\n', 'lib/value.ts': '' })
    const link = join(dirname(entry), 'lib/value.ts')
    unlinkSync(link)
    symlinkSync('one.ts', link)
    expect(run((await cache.compile(entry)).code)).toBe(1)
    unlinkSync(link)
    symlinkSync('two.ts', link)
    expect(run((await cache.compile(entry)).code)).toBe(2)
  })

  it('reports a broken edit, and serves the cached build again once the edit is undone', async () => {
    const cache = createCompileCache()
    const entry = write(COMPONENT)
    const first = await cache.compile(entry)
    write({ 'lib/value.ts': 'export const value = (\n' }, dirname(entry))
    await expect(cache.compile(entry)).rejects.toBeInstanceOf(ComponentCompileError)
    write(COMPONENT, dirname(entry))
    expect(await cache.compile(entry)).toBe(first)
    expect(builds.count).toBe(2)
  })

  it('checks the caps of each call against the cached build', async () => {
    const cache = createCompileCache()
    const entry = write(COMPONENT)
    await cache.compile(entry)
    await expect(cache.compile(entry, { maxSourceBytes: 10 })).rejects.toMatchObject({ diagnostics: [{ code: 'ERR_COMPONENT_TOO_LARGE' }] })
    await expect(cache.compile(entry, { maxBundleBytes: 10 })).rejects.toMatchObject({ diagnostics: [{ code: 'ERR_COMPONENT_TOO_LARGE' }] })
  })

  it('holds one copy of the code of identical components, each with its own paths', async () => {
    const cache = createCompileCache()
    const a = await cache.compile(write(COMPONENT))
    const b = await cache.compile(write(COMPONENT))
    expect(b.hash).toBe(a.hash)
    expect(b.code).toBe(a.code)
    expect(b.root).not.toBe(a.root)
    expect(cache.size).toBe(1)
    cache.clear()
    expect(cache.size).toBe(0)
    expect(await cache.compile(b.entry)).not.toBe(b)
  })

  it('starts from the bundle an earlier run left on disk: no esbuild while the sources are unchanged, a build after an edit', async () => {
    const entry = write(COMPONENT)
    const first = await createCompileCache().compile(entry)
    builds.count = builds.rebuilds = 0
    // A new cache is a new `islet run`: nothing in memory.
    const again = await createCompileCache().compile(entry)
    expect(builds.count).toBe(0)
    expect(again).toMatchObject({ entry: first.entry, root: first.root, hash: first.hash, code: first.code, map: first.map, files: first.files, bytes: first.bytes })
    write({ 'lib/value.ts': 'export const value = 2\n' }, dirname(entry))
    expect(run((await createCompileCache().compile(entry)).code)).toBe(2)
    expect(builds.count).toBe(1)
  })

  it('builds again when the bundle on disk is not the code its record was written for', async () => {
    const entry = write({ ...COMPONENT, 'lib/value.ts': 'export const value = 5\n' })
    const { hash } = await createCompileCache().compile(entry)
    builds.count = builds.rebuilds = 0
    const file = join(CACHE_DIR, 'component-bundles', `${hash}.json`)
    expect(readdirSync(dirname(file))).toContain(`${hash}.json`)
    writeFileSync(file, JSON.stringify({ code: '({ execute: () => 666 })', map: '' }))
    expect(run((await createCompileCache().compile(entry)).code)).toBe(5)
    expect(builds.count).toBe(1)
  })
})
