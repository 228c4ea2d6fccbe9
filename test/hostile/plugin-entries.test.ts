// A hostile `plugins:` entry: a package entry is a package installed for the app, never a way to name an arbitrary
// file. `pkg/../../x` (or its percent-encoded form) resolves, for a package without "exports", like a URL relative to
// its package.json: out of node_modules to any file on disk, which would then be imported and run.
import { existsSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createBuiltinRegistry } from '../../runtime/builtins.ts'
import { loadConfig } from '../../runtime/config/load.ts'
import { writeFiles } from '../support/files.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

describe('plugins: package entries stay in their package', () => {
  it("'pkg/../…' and 'pkg/%2e%2e/…' are refused before anything is imported", async () => {
    const outside = writeFiles({
      'evil.mjs': "import { writeFileSync } from 'node:fs'\nwriteFileSync(new URL('./ran', import.meta.url), 'yes')\n" +
        "export default { name: 'evil', version: '1.0.0' }\n",
    })
    cleanups.push(outside.cleanup)
    const app = writeFiles({
      // An ordinary installed package without "exports" (most older packages).
      'node_modules/legacy/package.json': JSON.stringify({ name: 'legacy', version: '1.0.0', main: 'index.js' }),
      'node_modules/legacy/index.js': 'module.exports = 1\n',
      'app.yaml': 'apiVersion: islet/v1\nplugins: [placeholder]\n',
    })
    cleanups.push(app.cleanup)
    const up = relative(join(app.dir, 'node_modules/legacy'), outside.dir)
    for (const written of [`legacy/${up}/evil.mjs`, `legacy/${up.replaceAll('..', '%2e%2e')}/evil.mjs`]) {
      writeFileSync(join(app.dir, 'app.yaml'), `apiVersion: islet/v1\nplugins: ['${written}']\n`)
      const { config, diagnostics } = await loadConfig(join(app.dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} })
      expect(config).toBeUndefined()
      expect(diagnostics).toMatchObject([{ code: 'ERR_PLUGIN_NOT_FOUND', line: 2, message: expect.stringContaining(written) }])
      expect(existsSync(join(outside.dir, 'ran'))).toBe(false)
    }
  })
})

describe('plugins: a plugin that throws something that is not an Error', () => {
  it.each([['undefined'], ['null'], ["'a string'"]])('throw %s while being imported is ERR_PLUGIN_LOAD_FAILED at its entry', async (thrown) => {
    const app = writeFiles({ 'app.yaml': 'apiVersion: islet/v1\nplugins: [./odd.ts]\n', 'odd.ts': `throw ${thrown}\n` })
    cleanups.push(app.cleanup)
    const { config, diagnostics } = await loadConfig(join(app.dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} })
    expect(config).toBeUndefined()
    expect(diagnostics).toMatchObject([{ code: 'ERR_PLUGIN_LOAD_FAILED', line: 2, message: expect.stringContaining('failed while being imported') }])
  })
})
