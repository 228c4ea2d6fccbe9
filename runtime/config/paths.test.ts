// Paths in a config stay in the app folder (database files in the data directory), symlinks resolved; a file that
// is not config is never quoted. The static cases are in test/cases/config/path-*; these need symlinks and temp files.
import { mkdirSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestRegistry } from '../../test/support/config-plugin.ts'
import { writeFiles } from '../../test/support/files.ts'
import { createBuiltinRegistry } from '../builtins.ts'
import type { Diagnostic } from './diagnostics.ts'
import { loadConfig } from './load.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

/** A fresh folder holding `files`; returns its path. */
function folder(files: Record<string, string>): string {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return dir
}

const SECRET = 'root:x:0:0:root:/root:/bin/bash\nAKIAIOSFODNN7EXAMPLE s3cr3t-h0rse-battery\n'
const SECRET_PARTS = ['root:x', 'AKIA', 's3cr3t', 'h0rse', '/bin/bash']

const load = (file: string, dataDir?: string, registry = createTestRegistry()) =>
  loadConfig(file, { registry, env: {}, dataDir })

const shown = (diagnostics: readonly Diagnostic[]) => diagnostics.map((d) => `${d.message} ${d.hint ?? ''}`).join('\n')

function expectNoSecret(diagnostics: readonly Diagnostic[]): void {
  for (const part of SECRET_PARTS) expect(shown(diagnostics)).not.toContain(part)
}

describe('config paths: imports', () => {
  it('refuses a file outside the app folder, absolute or through a symlink, before reading it, and quotes none of it', async () => {
    const outside = folder({ 'secret.txt': SECRET, 'other.yaml': 'apiVersion: islet/v1\n' })
    const app = folder({ 'app.yaml': `apiVersion: islet/v1\nimports:\n  - ${join(outside, 'secret.txt')}\n  - ./link.txt\n  - ./linked/other.yaml\n` })
    symlinkSync(join(outside, 'secret.txt'), join(app, 'link.txt'))
    symlinkSync(outside, join(app, 'linked'))
    const { config, diagnostics } = await load(join(app, 'app.yaml'))
    expect(config).toBeUndefined()
    expect(diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([
      ['ERR_CONFIG_PATH_OUTSIDE', 3, 5], ['ERR_CONFIG_PATH_OUTSIDE', 4, 5], ['ERR_CONFIG_PATH_OUTSIDE', 5, 5]])
    expect(diagnostics[1]!.message).toMatch(/'\.\/link\.txt' leads outside the app folder .* through a symlink/)
    expect(diagnostics[2]!.message).toMatch(/'\.\/linked\/other\.yaml' leads outside the app folder/)
    expectNoSecret(diagnostics)
  })

  it('reads a file that is not config inside the app folder without quoting it', async () => {
    const app = folder({ 'app.yaml': 'apiVersion: islet/v1\nimports: [./notes.txt]\n', 'notes.txt': SECRET })
    const { diagnostics } = await load(join(app, 'app.yaml'))
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_SCHEMA', line: 1, col: 1, message: expect.stringContaining('got a string') }])
    expectNoSecret(diagnostics)
  })

  it('loads an app whose folder is reached through a symlink', async () => {
    const real = folder({
      'app.yaml': 'apiVersion: islet/v1\nimports: [./db.yaml]\ncomponents: [{ file: ./quote.ts }]\n',
      'db.yaml': 'apiVersion: islet/v1\nmodules: [{ name: db, type: storage.sqlite, config: { file: a.db, migrations: ./migrations } }]\n',
      'quote.ts': 'export default {}\n',
      'migrations/001_a.sql': 'CREATE TABLE a (id INTEGER);\n',
    })
    const via = join(folder({}), 'app-link')
    symlinkSync(real, via)
    const { config, diagnostics } = await load(join(via, 'app.yaml'))
    expect(diagnostics).toEqual([])
    expect(config!.components.map((c) => c.name)).toEqual(['quote'])
  })
})

describe('config paths: components', () => {
  it('refuses a component file or folder entry that a symlink leads out of the app folder', async () => {
    const outside = folder({ 'evil.ts': 'export default {}\n', 'pkg/index.ts': 'export default {}\n' })
    const app = folder({
      'app.yaml': 'apiVersion: islet/v1\ncomponents:\n  - file: ./evil.ts\n  - directory: ./components\n',
      'components/fine.ts': 'export default {}\n',
    })
    symlinkSync(join(outside, 'evil.ts'), join(app, 'evil.ts'))
    symlinkSync(join(outside, 'pkg'), join(app, 'components', 'pkg'))
    const { config, diagnostics } = await load(join(app, 'app.yaml'))
    expect(config).toBeUndefined()
    expect(diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([
      ['ERR_CONFIG_PATH_OUTSIDE', 3, 11], ['ERR_CONFIG_PATH_OUTSIDE', 4, 16]])
    expect(diagnostics[1]!.message).toContain("the component './components/pkg/index.ts' leads outside the app folder")
  })
})

describe('config paths: module inputs', () => {
  it('refuses a migrations folder, or a migration in it, that a symlink leads out of the app folder', async () => {
    const outside = folder({ '001_passwd.sql': SECRET, 'migrations/001_a.sql': SECRET })
    const app = folder({
      'app.yaml': 'apiVersion: islet/v1\nmodules:\n' +
        '  - { name: a, type: storage.sqlite, config: { file: a.db, migrations: ./linked } }\n' +
        '  - { name: b, type: storage.sqlite, config: { file: b.db, migrations: ./migrations } }\n',
      'migrations/000_fine.sql': 'SELECT 1;\n',
    })
    symlinkSync(join(outside, 'migrations'), join(app, 'linked'))
    symlinkSync(join(outside, '001_passwd.sql'), join(app, 'migrations', '001_passwd.sql'))
    const { config, diagnostics } = await load(join(app, 'app.yaml'))
    expect(config).toBeUndefined()
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([['ERR_CONFIG_PATH_OUTSIDE', 3], ['ERR_CONFIG_PATH_OUTSIDE', 4]])
    expect(diagnostics[1]!.message).toContain("'./migrations/001_passwd.sql' leads outside the app folder")
    expectNoSecret(diagnostics)
  })
})

describe('config paths: database files', () => {
  it('keeps a database file in the data directory, symlinks resolved; :memory: and paths inside are fine', async () => {
    const outside = folder({})
    const dataDir = folder({})
    mkdirSync(join(dataDir, 'tenants'))
    symlinkSync(outside, join(dataDir, 'escape'))
    const app = folder({ 'app.yaml': 'apiVersion: islet/v1\nmodules:\n' +
      `  - { name: a, type: storage.sqlite, config: { file: ${join(dataDir, 'tenants/a.db')} } }\n` +
      '  - { name: b, type: storage.sqlite, config: { file: "tenants/b.db" } }\n' +
      '  - { name: c, type: storage.sqlite, config: { file: ":memory:" } }\n' +
      '  - { name: d, type: storage.sqlite, config: { file: escape/d.db } }\n' +
      `  - { name: e, type: storage.sqlite, config: { file: ${join(outside, 'e.db')} } }\n` })
    const { diagnostics } = await load(join(app, 'app.yaml'), dataDir)
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([['ERR_CONFIG_PATH_OUTSIDE', 6], ['ERR_CONFIG_PATH_OUTSIDE', 7]])
    expect(diagnostics[0]!.message).toMatch(/'escape\/d\.db' leads outside the data directory .* through a symlink/)
    expect(diagnostics[1]!.hint).toContain('--data-dir')
  })

  it('checks the real storage.sqlite module: its file in the data directory, its migrations in the app folder', async () => {
    const outside = folder({ 'migrations/001_a.sql': 'SELECT 1;\n' })
    const app = folder({ 'app.yaml': 'apiVersion: islet/v1\nmodules:\n' +
      `  - { name: db, type: storage.sqlite, config: { file: ${join(outside, 'x.db')}, migrations: ${join(outside, 'migrations')} } }\n` })
    const { diagnostics } = await load(join(app, 'app.yaml'), join(dirname(app), 'data'), createBuiltinRegistry())
    expect(diagnostics.map((d) => [d.code, d.path])).toEqual([
      ['ERR_CONFIG_PATH_OUTSIDE', 'modules.0.config.file'], ['ERR_CONFIG_PATH_OUTSIDE', 'modules.0.config.migrations']])
  })
})
