// The `plugins:` loader: packages from the app's node_modules and paths inside the app folder, in apps outside this
// repository (temp folders), each problem at its entry's file:line:col (a plugin's syntax error at its own), and a
// plugin change during `islet dev` refused with "restart".
import { symlinkSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../runtime/config/load.ts'
import type { Diagnostic } from '../runtime/config/diagnostics.ts'
import type { Diagnostic as SdkDiagnostic } from '@islet/sdk'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { startWatching } from '../runtime/cli/watch.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { json, startApp } from './support/app.ts'
import { writeFiles } from './support/files.ts'
import { until } from './support/until.ts'
import { islet } from './support/cli.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

function app(files: Record<string, string>): string {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return dir
}

const load = (dir: string) => loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} })

/** Where `needle` (its first occurrence) starts in `text`, 1-based. */
function at(text: string, needle: string): { line: number; col: number } {
  const i = text.indexOf(needle)
  if (i < 0) throw new Error(`'${needle}' not in the text`)
  const before = text.slice(0, i)
  return { line: before.split('\n').length, col: i - before.lastIndexOf('\n') }
}

/** A plugin module with one step type, `type`, that outputs its `text` upper-cased; `extra` goes into definePlugin. */
function stepPlugin(options: { name?: string; version?: string; islet?: string; type?: string; extra?: string } = {}): string {
  return `import { definePlugin, defineStepType } from '@islet/sdk'
const shout = defineStepType({
  type: '${options.type ?? 'acme.shout'}',
  configSchema: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string' } } },
  create: (config) => () => ({ shouted: config.text.toUpperCase() }),
})
export default definePlugin({ name: '${options.name ?? '@acme/shout'}', version: '${options.version ?? '1.2.0'}',
  islet: '${options.islet ?? '^0.1.0'}', stepTypes: [shout]${options.extra ? `, ${options.extra}` : ''} })
`
}

const SERVE = `modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /shout, pipeline: shout }]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  shout:
    steps:
      - name: s
        type: acme.shout
        config: { text: hi }
      - type: respond
        config: { body: '\${{ steps.s }}' }
`

describe('plugins: loaded from the app folder', () => {
  it('an installed package: found in the app\'s node_modules through its "exports" import condition, its step type checks the YAML and serves', async () => {
    const yaml = `apiVersion: islet/v1\nplugins:\n  - package: '@acme/islet-shout'\n    version: ^1.0.0\n${SERVE}`
    const files = {
      'app.yaml': yaml,
      // A real installed package (no network): ESM under "import", and a "require" entry that does not exist, so
      // only import-condition resolution can load it.
      'node_modules/@acme/islet-shout/package.json': JSON.stringify({
        name: '@acme/islet-shout', version: '1.2.0', type: 'module', peerDependencies: { '@islet/sdk': '^0.1.0' },
        exports: { '.': { require: './missing.cjs', import: './dist/index.js' } },
      }),
      'node_modules/@acme/islet-shout/dist/index.js': stepPlugin(),
    }
    const t = await startApp(files)
    cleanups.push(() => void t.close())
    const res = await fetch(`${t.url}/shout`)
    expect(await json(res)).toEqual({ shouted: 'HI' })
    expect(t.engine.config.plugins).toMatchObject([{ name: '@acme/shout', version: '1.2.0', entry: '@acme/islet-shout',
      file: join(t.dir, 'node_modules/@acme/islet-shout/dist/index.js'), source: { file: join(t.dir, 'app.yaml'), ...at(yaml, "'@acme/islet-shout'") } }])

    // Its schema checks the YAML like a built-in's; the registry it was loaded against stays as it was built.
    const base = createBuiltinRegistry()
    const typo = app({ ...files, 'app.yaml': yaml.replace('config: { text: hi }', 'config: { txt: hi }') })
    const { diagnostics, registry } = await loadConfig(join(typo, 'app.yaml'), { registry: base, env: {} })
    expect(registry).toBeUndefined()
    expect(diagnostics.map((d) => d.code)).toContain('ERR_CONFIG_UNKNOWN_KEY')
    expect(base.stepType('acme.shout')).toBeUndefined()

    // And through the real `islet` (Node's own loader: the package's `import '@islet/sdk'` gets the engine's copy).
    const r = islet(['validate', join(app(files), 'app.yaml')])
    expect(r.stdout).toBe('1 file valid\n')
    expect(r.status).toBe(0)
  })

  it('a path relative to the file that lists it (an imported one too), a folder with a package.json, a file without its extension', async () => {
    const dir = app({
      'app.yaml': `apiVersion: islet/v1\nimports: [./more/pipelines.yaml]\nplugins: [./plugins/shout]\n${SERVE}`,
      'plugins/shout/package.json': JSON.stringify({ name: 'shout', version: '1.0.0', type: 'module', main: './main.ts' }),
      'plugins/shout/main.ts': stepPlugin(),
      'more/pipelines.yaml': 'apiVersion: islet/v1\nplugins: [../lib/whisper]\npipelines:\n  w:\n    steps: [{ type: acme.whisper, config: { text: x } }]\n',
      'lib/whisper.ts': stepPlugin({ name: 'whisper', type: 'acme.whisper' }),
    })
    const { config, diagnostics } = await load(dir)
    expect(diagnostics).toEqual([])
    expect(config!.plugins!.map((p) => [p.name, p.file])).toEqual([
      ['@acme/shout', join(dir, 'plugins/shout/main.ts')], ['whisper', join(dir, 'lib/whisper.ts')]])
  })

  it('reports each problem at its plugins: entry, with what to do, all at once', async () => {
    // Plugins outside the app folder, as written or through a symlink, are refused before they are read, let alone run.
    const outside = app({ 'plugin.ts': "throw new Error('outside code ran')\n" })
    const yaml = `apiVersion: islet/v1
plugins:
  - '@acme/not-installed'
  - ./plugins/future.ts
  - ./plugins/typo-service.ts
  - ./plugins/no-default.ts
  - ./plugins/no-version.ts
  - ./plugins/throws.ts
  - ./plugins/server.ts
  - ./plugins/shout.ts
  - ./plugins/shout-again.ts
  - path: ./plugins/other-shout.ts
    version: ^2.0.0
  - ./plugins/missing
  - ../${basename(outside)}/plugin.ts
  - ./plugins/link.ts
  - { package: x, path: ./y }
`
    const dir = app({
      'app.yaml': yaml,
      'plugins/future.ts': stepPlugin({ name: 'future', type: 'acme.future', islet: '^9.0.0' }),
      'plugins/typo-service.ts': stepPlugin({ name: 'typo', type: 'acme.typo', extra: "services: ['evnts']" }),
      'plugins/no-default.ts': 'export const answer = 42\n',
      'plugins/no-version.ts': "export default { name: 'no-version', stepTypes: [] }\n",
      'plugins/throws.ts': "throw new Error('the plugin needs REDIS_URL')\n",
      'plugins/server.ts': `import { definePlugin, defineModuleType } from '@islet/sdk'
export default definePlugin({ name: 'my-server', version: '1.0.0', moduleTypes: [defineModuleType({ type: 'http.server', configSchema: {}, create: () => ({}) })] })
`,
      'plugins/shout.ts': stepPlugin(),
      'plugins/shout-again.ts': stepPlugin({ name: 'shout-two' }),
      'plugins/other-shout.ts': stepPlugin({ name: 'other', type: 'acme.other' }),
    })
    symlinkSync(join(outside, 'plugin.ts'), join(dir, 'plugins/link.ts'))
    const { config, diagnostics } = await load(dir)
    expect(config).toBeUndefined()
    const file = join(dir, 'app.yaml')
    const found = (code: string, needle: string) => {
      const d = diagnostics.find((x) => x.code === code && x.line === at(yaml, needle).line)
      expect(d, `${code} at '${needle}' in ${JSON.stringify(diagnostics, null, 1)}`).toBeDefined()
      expect({ file: d!.file, line: d!.line, col: d!.col }).toEqual({ file, ...at(yaml, needle) })
      return d as Diagnostic
    }
    expect(found('ERR_PLUGIN_NOT_FOUND', "'@acme/not-installed'")).toMatchObject({
      message: expect.stringContaining("'@acme/not-installed' is not installed"), hint: "run 'npm install @acme/not-installed' in the app folder" })
    expect(found('ERR_PLUGIN_ENGINE_MISMATCH', './plugins/future.ts').message).toMatch(/future@1\.2\.0 needs islet \^9\.0\.0, this is islet 0\.1\.0/)
    expect(found('ERR_PLUGIN_INVALID', './plugins/typo-service.ts')).toMatchObject({
      message: expect.stringContaining("unknown engine service 'evnts'"), hint: expect.stringContaining("did you mean 'events'?") })
    expect(found('ERR_PLUGIN_LOAD_FAILED', './plugins/no-default.ts').message).toMatch(/exports no plugin: its default export \(or export 'plugin'\) is missing/)
    expect(found('ERR_PLUGIN_INVALID', './plugins/no-version.ts').message).toMatch(/'no-version' without a semver version/)
    expect(found('ERR_PLUGIN_LOAD_FAILED', './plugins/throws.ts').message).toMatch(/failed while being imported: the plugin needs REDIS_URL/)
    expect(found('ERR_PLUGIN_CONFLICT', './plugins/server.ts').message).toMatch(/module type 'http.server', already registered by http@/)
    expect(found('ERR_PLUGIN_CONFLICT', './plugins/shout-again.ts').message).toMatch(/step type 'acme.shout', already registered by @acme\/shout@1\.2\.0/)
    expect(found('ERR_PLUGIN_VERSION_MISMATCH', '^2.0.0').message).toMatch(/is other@1\.2\.0, not in the range \^2\.0\.0/)
    expect(found('ERR_PLUGIN_NOT_FOUND', './plugins/missing').message).toMatch(/no plugin at '\.\/plugins\/missing'/)
    expect(found('ERR_CONFIG_PATH_OUTSIDE', `../${basename(outside)}/plugin.ts`).message).toMatch(/is outside the app folder/)
    expect(found('ERR_CONFIG_PATH_OUTSIDE', './plugins/link.ts').message).toMatch(/leads outside the app folder .* through a symlink/)
    expect(diagnostics.some((d) => d.message.includes('outside code ran'))).toBe(false)
    expect(found('ERR_CONFIG_SCHEMA', '{ package: x').message).toBe('a plugin entry has both package: and path:')
    expect(diagnostics.filter((d) => d.severity === 'error')).toHaveLength(13)
    // The plugin that loaded is not what failed: its entry has no diagnostic.
    expect(diagnostics.some((d) => d.line === at(yaml, './plugins/shout.ts').line)).toBe(false)
  })

  it('a plugin that did not load is reported alone, not the unknown types, functions and variables it leaves', async () => {
    const yaml = 'apiVersion: islet/v1\nplugins: [./broken.ts]\npipelines:\n' +
      "  p: { steps: [{ type: acme.shout, config: { text: '${{ acme.loud(tick) }}' } }] }\n"
    const dir = app({ 'app.yaml': yaml, 'broken.ts': "throw new Error('not today')\n" })
    const { diagnostics } = await load(dir)
    expect(diagnostics).toMatchObject([{ code: 'ERR_PLUGIN_LOAD_FAILED', ...at(yaml, './broken.ts') }])
  })

  it('the same plugin twice is a duplicate at the second entry', async () => {
    const yaml = 'apiVersion: islet/v1\nplugins:\n  - ./a.ts\n  - ./b.ts\n'
    const dir = app({ 'app.yaml': yaml, 'a.ts': stepPlugin(), 'b.ts': stepPlugin({ type: 'acme.other' }) })
    const { diagnostics } = await load(dir)
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_DUPLICATE_PLUGIN', ...at(yaml, './b.ts'),
      message: expect.stringMatching(/plugin '@acme\/shout' is loaded twice: by '\.\/a\.ts' at app\.yaml:3:5 and by '\.\/b\.ts' at app\.yaml:4:5/) }])
  })

  // Through the real `islet validate`: Node's own module loader (vitest's would parse the plugin itself), the
  // @islet/sdk link for an app outside this repository included.
  it('an import Node cannot resolve says what to do: the extension left out, or the package to install', () => {
    const yaml = 'apiVersion: islet/v1\nplugins: [./no-extension.ts, ./no-package.ts]\n'
    const dir = app({ 'app.yaml': yaml, 'helper.ts': 'export const h = 1\n',
      'no-extension.ts': "import { definePlugin } from '@islet/sdk'\nimport { h } from './helper'\nexport default definePlugin({ name: 'a', version: '1.0.0' })\n",
      'no-package.ts': "import { definePlugin } from '@islet/sdk'\nimport pad from 'left-pad-not-here'\nexport default definePlugin({ name: 'b', version: '1.0.0' })\n" })
    const r = islet(['validate', '--format', 'json', join(dir, 'app.yaml')])
    const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: SdkDiagnostic[] }
    expect(diagnostics.map((d) => d.message)).toEqual([
      expect.stringContaining(`(write the extension in the import: '${join(dir, 'helper.ts')}' exists; ES modules resolve none)`),
      expect.stringContaining("(the package 'left-pad-not-here' is not installed where"),
    ])
  })

  it('TypeScript that type stripping cannot run (an enum) is located in the plugin, with what to write instead', () => {
    const yaml = 'apiVersion: islet/v1\nplugins: [./enum.ts]\n'
    const dir = app({ 'app.yaml': yaml, 'enum.ts': "import { definePlugin } from '@islet/sdk'\nenum Level { Low }\nexport default definePlugin({ name: 'e', version: '1.0.0' })\n" })
    // Through the command line: under vitest the plugin would be compiled by vite, which runs enums.
    const r = islet(['validate', '--format', 'json', join(dir, 'app.yaml')])
    const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: SdkDiagnostic[] }
    expect(diagnostics).toMatchObject([{ code: 'ERR_PLUGIN_LOAD_FAILED', file: join(dir, 'enum.ts'), line: 2, column: 1,
      message: expect.stringContaining('enum is not supported'), hint: expect.stringContaining('a const object instead of an enum') }])
  })

  it("a syntax error in a plugin is reported at the plugin's own file:line:col, naming the entry that loads it", () => {
    const typescript = 'import { definePlugin } from \'@islet/sdk\'\nconst n: number = 1\nexport default definePlugin({\n  name: (,\n})\n'
    const javascript = 'export const helper = () => {\n  return 1 +\n}\n'
    const yaml = 'apiVersion: islet/v1\nplugins:\n  - ./ts-plugin.ts\n  - ./js-plugin/index.js\n  - ./fine.ts\npipelines:\n  p: { steps: [{ type: acme.shout, config: { text: x } }] }\n'
    const dir = app({
      'app.yaml': yaml, 'ts-plugin.ts': typescript, 'fine.ts': stepPlugin(),
      'js-plugin/index.js': "import { helper } from './helper.js'\nexport default { name: 'js', version: '1.0.0', helper }\n",
      'js-plugin/helper.js': javascript,
    })
    const r = islet(['validate', '--format', 'json', join(dir, 'app.yaml')])
    const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: SdkDiagnostic[] }
    expect(diagnostics).toMatchObject([
      { file: join(dir, 'js-plugin/helper.js'), line: 3, column: 1, code: 'ERR_PLUGIN_LOAD_FAILED',
        message: expect.stringMatching(/^plugin '\.\/js-plugin\/index\.js' \(app\.yaml:4:5\): syntax error/) },
      { file: join(dir, 'ts-plugin.ts'), line: 4, column: 10, code: 'ERR_PLUGIN_LOAD_FAILED',
        message: expect.stringMatching(/^plugin '\.\/ts-plugin\.ts' \(app\.yaml:3:5\): syntax error/) },
    ])
    expect(r.status).toBe(1)
  })

  it('an unknown type that a known plugin provides still says which plugin to install, and where to list it', async () => {
    const dir = app({ 'app.yaml': 'apiVersion: islet/v1\nmodules:\n  - { name: cache, type: redis.cache }\n' })
    const { diagnostics } = await loadConfig(join(dir, 'app.yaml'),
      { registry: createBuiltinRegistry({ catalogue: { 'redis.cache': '@islet/redis' } }), env: {} })
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_UNKNOWN_MODULE_TYPE',
      hint: "'redis.cache' is provided by the plugin '@islet/redis', which is not loaded: install it (npm install @islet/redis) and list it under plugins:" }])
  })
})

describe('plugins: and islet dev', () => {
  it('a changed plugin file or a plugin added to plugins: is refused with "restart", at its entry; the app serves on', async () => {
    const yaml = `apiVersion: islet/v1\nplugins:\n  - ./plugins/shout.ts\n${SERVE}`
    const t = await startApp({ 'app.yaml': yaml, 'plugins/shout.ts': stepPlugin(), 'plugins/whisper.ts': stepPlugin({ name: 'whisper', type: 'acme.whisper' }) })
    const said: string[] = []
    const stop = await startWatching({ engine: t.engine, file: join(t.dir, 'app.yaml'), registry: createBuiltinRegistry(),
      logger: silentLogger(), say: (line) => said.push(line) })
    const explain = () => JSON.stringify(said)
    try {
      writeFileSync(join(t.dir, 'plugins/shout.ts'), stepPlugin().replace('toUpperCase()', "toUpperCase() + '!'"))
      await until(() => said.some((l) => l.includes('ERR_CONFIG_RELOAD_NEEDS_RESTART')), { explain })
      expect(said.find((l) => l.includes('ERR_CONFIG_RELOAD_NEEDS_RESTART'))).toMatch(
        /^config change rejected; the running generation keeps serving:\n.*app\.yaml:3:5 error ERR_CONFIG_RELOAD_NEEDS_RESTART plugin @acme\/shout@1\.2\.0 changed on disk .*\(plugins are loaded when islet starts: restart it/)
      expect(await json(await fetch(`${t.url}/shout`))).toEqual({ shouted: 'HI' })

      said.length = 0
      const added = yaml.replace('  - ./plugins/shout.ts\n', '  - ./plugins/shout.ts\n  - ./plugins/whisper.ts\n')
      writeFileSync(join(t.dir, 'app.yaml'), added)
      await until(() => said.some((l) => l.includes('whisper@1.2.0 was added')), { explain })
      expect(said.find((l) => l.includes('was added'))).toMatch(/app\.yaml:4:5 error ERR_CONFIG_RELOAD_NEEDS_RESTART plugin whisper@1\.2\.0 was added/)
      expect(t.engine.status().generation).toBe(1)
    } finally {
      await stop()
      await t.close()
    }
  })
})
