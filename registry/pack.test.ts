// packFolder: reproducible bytes, the files npm itself would pack (checked against the real `npm pack`), a tarball
// that standard tools read back exactly, and a refusal that names what to fix.
import { execFile, execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { readTarball } from './tarball/read.ts'
import { RegistryError } from './errors.ts'
import { integrityOf } from './integrity.ts'
import { packFolder } from './pack.ts'

const made: string[] = []
afterAll(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }) })

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'islet-pack-'))
  made.push(dir)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

const manifest = (extra: Record<string, unknown> = {}) => JSON.stringify({
  name: '@acme/geo', version: '1.2.0', type: 'module',
  islet: { engine: '^0.1.0', components: { geocode: { file: 'components/geocode.ts', capabilities: { kv: true } } } },
  ...extra,
}, null, 2)

/**
 * The paths the real npm CLI would pack from `dir` (its own config and cache, never the user's). Asynchronous, so
 * that the tests comparing with npm run concurrently (it.concurrent): each is a ~0.5 s npm start, mostly waiting.
 */
async function npmPackFiles(dir: string): Promise<string[]> {
  const home = mkdtempSync(join(tmpdir(), 'islet-npm-'))
  made.push(home)
  writeFileSync(join(home, 'npmrc'), '')
  const { stdout: out } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--userconfig', join(home, 'npmrc'), '--cache', join(home, 'cache')],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'silent' } })
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort()
}

describe('packFolder', () => {
  it('gives the same bytes and integrity for the same files, whatever their mtimes and permissions', async () => {
    const dir = folder({ 'package.json': manifest({ files: ['components', 'bin'] }), 'components/geocode.ts': 'export default 1\n', 'bin/run.js': '#!/usr/bin/env node\n', 'README.md': '# geo\n' })
    chmodSync(join(dir, 'bin/run.js'), 0o755)
    const first = await packFolder(dir)
    // A fresh checkout: every mtime different, a umask that leaves group bits off.
    for (const f of ['package.json', 'components/geocode.ts', 'bin/run.js', 'README.md']) utimesSync(join(dir, f), new Date(2031, 1, 2), new Date(2031, 1, 2))
    chmodSync(join(dir, 'README.md'), 0o600)
    chmodSync(join(dir, 'bin/run.js'), 0o700)
    const second = await packFolder(dir)
    expect(second.tarball.equals(first.tarball)).toBe(true)
    expect(second.integrity).toBe(first.integrity)
    expect(first.integrity).toBe(integrityOf(first.tarball))
    expect(first.filename).toBe('acme-geo-1.2.0.tgz')
    expect(first.files.find((f) => f.path === 'bin/run.js')?.mode).toBe(0o755)
    // …and a changed byte is a different package.
    writeFileSync(join(dir, 'components/geocode.ts'), 'export default 2\n')
    expect((await packFolder(dir)).integrity).not.toBe(first.integrity)
  })

  it('writes a tarball tar reads back: entries under package/, fixed mtime, no owner, long paths intact', async () => {
    const long = `components/${'deeply-nested-folder/'.repeat(6)}${'x'.repeat(90)}.ts`   // > 100 bytes: ustar prefix
    const longer = `components/${'y'.repeat(120)}/${'z'.repeat(120)}.ts`                 // no split fits: a pax header
    const dir = folder({ 'package.json': manifest({ files: ['components'] }), 'components/geocode.ts': 'export default 1\n', [long]: 'long\n', [longer]: 'longer\n' })
    const packed = await packFolder(dir)
    const file = join(dir, 'out.tgz')
    writeFileSync(file, packed.tarball)
    const listing = execFileSync('tar', ['-tzvf', file, '--numeric-owner', '--full-time'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
    expect(listing).toContain(`package/${long}`)
    expect(listing).toContain(`package/${longer}`)
    for (const line of listing.trim().split('\n')) expect(line).toMatch(/^-rw-r--r-- 0\/0 .* 1985-10-26 08:15:00 package\//)
    const out = mkdtempSync(join(tmpdir(), 'islet-untar-'))
    made.push(out)
    execFileSync('tar', ['-xzf', file, '-C', out])
    expect(readFileSync(join(out, 'package', long), 'utf8')).toBe('long\n')
    expect(readFileSync(join(out, 'package', longer), 'utf8')).toBe('longer\n')
  })

  it("reads back through the runtime's safe tarball reader: the same files, the same bytes, long paths included", async () => {
    const long = `components/${'nested/'.repeat(20)}deep.ts`
    const longer = `components/${'y'.repeat(120)}/${'z'.repeat(120)}.ts`
    const dir = folder({ 'package.json': manifest({ files: ['components'] }), 'components/geocode.ts': 'export default 1\n', [long]: 'long\n', [longer]: 'longer\n', 'README.md': '# geo\n' })
    const packed = await packFolder(dir)
    const { files } = readTarball(packed.tarball)
    expect([...files.keys()].sort()).toEqual(packed.files.map((f) => f.path))
    for (const [path, bytes] of files) expect(bytes.equals(readFileSync(join(dir, path))), path).toBe(true)
  })

  // Concurrent (with the context's expect): each waits on its own npm pack.
  it.concurrent('packs the files npm pack packs: the files field, always README/LICENSE/package.json, never node_modules/.git/.npmrc', async ({ expect }) => {
    const dir = folder({
      'package.json': manifest({ files: ['components', 'dist/*.js', 'pipelines/geo.yaml', './docs/'], main: 'main.js', bin: { geo: 'cli.js' } }),
      'components/geocode.ts': '', 'components/util/lookup.ts': '', 'components/.DS_Store': '', 'components/x.orig': '',
      'dist/plugin.js': '', 'dist/plugin.js.map': '', 'dist/nested/deep.js': '',
      'pipelines/geo.yaml': '', 'pipelines/other.yaml': '', 'docs/guide.md': '',
      'main.js': '', 'cli.js': '', 'README.md': '', 'LICENSE': '', 'licence.txt': '', 'CHANGELOG.md': '', 'notes.txt': '',
      'node_modules/dep/index.js': '', '.git/config': '', '.npmrc': 'x=1\n', 'package-lock.json': '{}', '.gitignore': 'dist\n',
    })
    const packed = await packFolder(dir)
    expect(packed.files.map((f) => f.path)).toEqual(await npmPackFiles(dir))
    expect(packed.files.map((f) => f.path)).toContain('components/util/lookup.ts')
  })

  it.concurrent('without a files field honours .npmignore (and a nested one) as npm does', async ({ expect }) => {
    const dir = folder({
      'package.json': manifest(), 'components/geocode.ts': '', 'components/geocode.test.ts': '', 'test/a.ts': '',
      'src/keep.ts': '', 'src/drop.log': '', 'src/.npmignore': '*.log\n', 'notes/todo.md': '', 'README': '',
      '.npmignore': '# not for the package\ntest/\n*.test.ts\n/notes\n', '.gitignore': 'src\n', 'build/config.gypi': '',
      'node_modules/dep/index.js': '', '.git/HEAD': '',
    })
    const packed = await packFolder(dir)
    expect(packed.files.map((f) => f.path)).toEqual(await npmPackFiles(dir))
    expect(packed.files.map((f) => f.path)).toEqual(['README', 'components/geocode.ts', 'package.json', 'src/keep.ts'])
  })

  it.concurrent('falls back to .gitignore without a .npmignore, as npm does', async ({ expect }) => {
    const dir = folder({ 'package.json': manifest(), 'components/geocode.ts': '', 'data/app.db': '', 'coverage/x.json': '', '.gitignore': 'data/\ncoverage\n' })
    const packed = await packFolder(dir)
    expect(packed.files.map((f) => f.path)).toEqual(await npmPackFiles(dir))
    expect(packed.files.map((f) => f.path)).toEqual(['components/geocode.ts', 'package.json'])
  })

  // The corners of npm's rules, each compared with the real npm pack of the same folder.
  const corners: Record<string, Record<string, string>> = {
    'a negated files entry': { 'package.json': manifest({ files: ['components', '!components/secret.ts'] }), 'components/geocode.ts': '', 'components/secret.ts': '' },
    'globs in files (?, {a,b}, [ab], **)': { 'package.json': manifest({ files: ['components/?eocode.ts', 'lib/{a,b}.js', 'docs/[ab]*.md', 'src/**/*.ts'] }),
      'components/geocode.ts': '', 'lib/a.js': '', 'lib/c.js': '', 'docs/alpha.md': '', 'docs/c.md': '', 'src/x/y.ts': '', 'src/z.md': '' },
    'main and bin outside files': { 'package.json': manifest({ files: ['components'], main: 'dist/index.js', bin: 'cli/run.js' }),
      'components/geocode.ts': '', 'dist/index.js': '', 'dist/other.js': '', 'cli/run.js': '' },
    'anchored and globstar .npmignore rules': { 'package.json': manifest(), '.npmignore': '/test\nfixtures/*.json\n**/*.map\n',
      'components/geocode.ts': '', 'test/a.js': '', 'lib/test/b.js': '', 'fixtures/a.json': '', 'lib/fixtures/b.json': '', 'lib/c.js.map': '', 'lib/c.js': '' },
    'a nested .gitignore and .npmignore under files': { 'package.json': manifest({ files: ['components', 'lib'] }), 'components/geocode.ts': '',
      'lib/.gitignore': '*.log\nbuild/\n', 'lib/a.js': '', 'lib/x.log': '', 'lib/build/o.js': '', 'components/.npmignore': 'drop.ts\n', 'components/drop.ts': '', 'components/.hidden': '' },
    'README, LICENSE and COPYING in any case, backups not': { 'package.json': manifest({ files: ['components'] }), 'components/geocode.ts': '',
      'Readme.markdown': '', 'LICENSE-MIT': '', 'readme~': '', 'Copying.txt': '', 'CHANGES': '' },
  }
  for (const [corner, files] of Object.entries(corners)) {
    it.concurrent(`packs what npm packs: ${corner}`, async ({ expect }) => {
      const dir = folder(files)
      expect((await packFolder(dir)).files.map((f) => f.path)).toEqual(await npmPackFiles(dir))
    })
  }

  it('never packs a packed tarball', async () => {
    const dir = folder({ 'package.json': manifest({ files: ['components'] }), 'components/geocode.ts': '', 'components/old.tgz': 'x', 'acme-geo-1.1.0.tgz': 'x' })
    expect((await packFolder(dir)).files.map((f) => f.path)).toEqual(['components/geocode.ts', 'package.json'])
  })

  it('refuses a package it could not publish, listing every problem', async () => {
    const dir = folder({
      'package.json': JSON.stringify({ name: '@acme/Geo', version: '1.2', scripts: { postinstall: 'node x.js' },
        islet: { engine: 'not a range', host: 'dist/plugin.ts', components: { geocode: { file: 'components/missing.ts' } } } }),
      'dist/plugin.ts': '',
    })
    const error = await packFolder(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as RegistryError).code).toBe('ERR_REGISTRY_MANIFEST_INVALID')
    const problems = (error as RegistryError).details.problems as string[]
    expect(problems.join('\n')).toMatch(/^name: '@acme\/Geo' is not a valid npm package name/m)
    expect(problems.join('\n')).toMatch(/^version: '1.2' is not a semver version/m)
    expect(problems.join('\n')).toMatch(/^scripts.postinstall: install scripts are refused/m)
    expect(problems.join('\n')).toMatch(/^islet.engine: 'not a range' is not a semver range/m)
    expect(problems.join('\n')).toMatch(/^islet.host: host code 'dist\/plugin.ts' is not a .js or .mjs file/m)
    expect(problems.join('\n')).toMatch(/^islet.components.geocode.file: 'components\/missing.ts' is not in the package/m)
  })

  it('refuses files the registry would refuse at publish: two names equal up to case', async () => {
    const dir = folder({ 'package.json': manifest(), 'components/geocode.ts': 'export default {}', 'README.md': 'a', 'readme.md': 'b' })
    const error = await packFolder(dir).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as RegistryError).code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect((error as RegistryError).message).toContain("'README.md' and 'readme.md' differ only in case")
  })

  it('refuses a folder without an islet field, saying what one looks like', async () => {
    const dir = folder({ 'package.json': JSON.stringify({ name: 'plain', version: '1.0.0' }) })
    await expect(packFolder(dir)).rejects.toThrow(/lacks 'islet' \(a plugin package says what it provides: "islet": \{ "engine"/)
  })
})
