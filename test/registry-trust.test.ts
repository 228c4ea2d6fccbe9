// Red-team of the runtime's trust rules for registry plugins: what a package's own YAML may and may not do once the
// app imports it. The app grants; a plugin's file never does (nor reads the app's environment, nor sets the sandbox).
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import type { Diagnostic } from '../runtime/config/diagnostics.ts'
import { loadConfig } from '../runtime/config/load.ts'
import { NO_GRANTS } from '../runtime/config/component-schema.ts'
import { missingCapabilities } from '../runtime/config/plugin-capabilities.ts'
import type { RequestedCapabilities } from '../registry/manifest.ts'
import { writeFiles } from './support/files.ts'
import { tarballFileName, VENDOR_DIR, type Lockfile } from '../registry/client/index.ts'
import { integrityOf } from '../registry/integrity.ts'
import { publicKeyOf, signVersion } from '../registry/signature.ts'
import { packageTgz } from '../registry/tarball/test-tar.ts'
import { readLock, writeLock } from '../runtime/plugins/locked-plugins.ts'
import { lockPlugin, TEST_KEY, type PluginFixture } from './support/registry-plugin.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

const errors = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.severity === 'error')

const APP = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\nimports: ['@acme/geo/pipelines/geo.yaml']\n"

const COMPONENT = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'leak', execute: () => ({ ok: true }) })
`

function geo(yaml: string, extra: Record<string, string> = {}): PluginFixture {
  return { name: '@acme/geo', version: '1.0.0', islet: { engine: '^0.1.0', yaml: ['pipelines/geo.yaml'] },
    files: { 'pipelines/geo.yaml': yaml, 'components/leak.ts': COMPONENT, ...extra } }
}

/**
 * Like lockPlugin, for a package.json the registry's rules would refuse (so no packFolder): a tarball packed by hand,
 * signed with the fixtures' key and pinned, as a registry that never checked them would hand it out.
 */
async function lockUnchecked(appDir: string, plugin: PluginFixture): Promise<void> {
  const files: Record<string, string> = { 'package.json': JSON.stringify({ name: plugin.name, version: plugin.version, type: 'module', islet: plugin.islet }), ...plugin.files }
  const tarball = packageTgz(files)
  const integrity = integrityOf(tarball)
  const { keyid, sig } = signVersion(TEST_KEY, plugin.name, plugin.version, integrity)
  mkdirSync(join(appDir, VENDOR_DIR), { recursive: true })
  writeFileSync(join(appDir, VENDOR_DIR, tarballFileName(integrity)), tarball)
  const lock: Lockfile = readLock(appDir) ?? { lockfileVersion: 1, keys: {}, plugins: {} }
  lock.plugins[plugin.name] = { version: plugin.version, integrity, keyid, sig, registry: 'embedded', engine: String(plugin.islet.engine) }
  lock.keys[TEST_KEY.keyid] = { key: publicKeyOf(TEST_KEY).key, registry: 'embedded' }
  writeLock(appDir, lock)
}

async function load(plugin: PluginFixture, env: Record<string, string> = {}) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': APP })
  cleanups.push(cleanup)
  await lockPlugin(dir, join(dir, 'data'), plugin)
  return loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env, dataDir: join(dir, 'data') })
}

describe("a registry plugin's YAML cannot give itself what only the app gives", () => {
  it('a component it declares with grants: (secrets, fetch) is refused; the app grants through { plugin, component, grants }', async () => {
    const yaml = `apiVersion: islet/v1
components:
  - { file: ../components/leak.ts, grants: { secrets: [DATABASE_URL], fetch: { origins: ['https://evil.example'] } } }
`
    const { config, diagnostics } = await load(geo(yaml))
    expect(config).toBeUndefined()
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_CAPABILITIES_NOT_GRANTED', line: 3,
      message: expect.stringContaining("@acme/geo/pipelines/geo.yaml: a plugin's YAML file cannot grant capabilities") }])
  })

  it('a component it declares without grants: loads, and gets none', async () => {
    const yaml = 'apiVersion: islet/v1\ncomponents:\n  - { file: ../components/leak.ts }\n'
    const { config, diagnostics } = await load(geo(yaml))
    expect(errors(diagnostics)).toEqual([])
    const leak = config!.components.find((c) => c.name === 'leak')!
    expect(leak.grants).toEqual(NO_GRANTS)
  })

  it("reading the app's environment (${VAR}) is refused, and the value is never used", async () => {
    const yaml = "apiVersion: islet/v1\npipelines:\n  p:\n    steps: [{ type: respond, config: { body: { leaked: '${DATABASE_URL}' } } }]\n"
    const { config, diagnostics } = await load(geo(yaml), { DATABASE_URL: 'postgres://root:hunter2@db' })
    expect(config).toBeUndefined()
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_CONFIG_SCHEMA', line: 4,
      message: expect.stringContaining("cannot read the app's environment") }])
    expect(JSON.stringify(diagnostics)).not.toContain('hunter2')
  })

  it('a sandbox: section (workers, limits for every component of the app) is refused', async () => {
    const yaml = 'apiVersion: islet/v1\nsandbox: { workers: 16 }\n'
    const { config, diagnostics } = await load(geo(yaml))
    expect(config).toBeUndefined()
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_CONFIG_SCHEMA', line: 2,
      message: expect.stringContaining("cannot declare sandbox:") }])
  })
})

const HOST = (services: string[]) => `import { definePlugin, defineStepType } from '@islet/sdk'
const shout = defineStepType({ type: 'acme.shout', configSchema: { type: 'object' }, create: () => () => ({ shouted: true }) })
export default definePlugin({ name: '@acme/shout', version: '2.0.0', islet: '^0.1.0', services: ${JSON.stringify(services)}, stepTypes: [shout] })
`
const shout = (services: string[], declared: string[] = services): PluginFixture => ({ name: '@acme/shout', version: '2.0.0',
  islet: { engine: '^0.1.0', host: 'dist/plugin.js', ...(declared.length ? { services: declared } : {}) }, files: { 'dist/plugin.js': HOST(services) } })

async function loadApp(yaml: string, plugins: PluginFixture[], validated = true) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
  cleanups.push(cleanup)
  for (const plugin of plugins) await (validated ? lockPlugin(dir, join(dir, 'data'), plugin) : lockUnchecked(dir, plugin))
  return loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {}, dataDir: join(dir, 'data') })
}

describe('host code reaches the engine only through an entry that says host: true', () => {
  it("a dependency's host code (islet.plugins) is refused though its dependent is allowed host code", async () => {
    const geoDependingOnShout: PluginFixture = { name: '@acme/geo', version: '1.0.0',
      islet: { engine: '^0.1.0', plugins: { '@acme/shout': '^2.0.0' } } }
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': { version: ^1.0.0, host: true }\n"
    const { config, diagnostics } = await loadApp(yaml, [geoDependingOnShout, shout([])])
    expect(config).toBeUndefined()
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_HOST_NOT_ALLOWED', message: expect.stringContaining('@acme/shout@2.0.0 ships host code') }])
  })

  it("services its definePlugin asks for beyond the package's islet.services are refused, though the entry allows them", async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/shout': { version: ^2.0.0, host: true, services: [events, status] }\n"
    const { config, diagnostics } = await loadApp(yaml, [shout(['events', 'status'], ['status'])])
    expect(config).toBeUndefined()
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_SERVICES_NOT_ALLOWED',
      message: "@acme/shout@2.0.0: its host code asks for the engine services events, which its package.json islet.services does not list" }])
  })
})

describe("a component's requested capabilities in shapes the registry never validated (a package from another registry)", () => {
  const component = (capabilities: Record<string, unknown>): PluginFixture => ({ name: '@acme/geo', version: '1.0.0',
    islet: { engine: '^0.1.0', components: { leak: { file: 'components/leak.ts', capabilities } } }, files: { 'components/leak.ts': COMPONENT } })
  const yaml = (grants: string) => `apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\ncomponents:\n  - { plugin: '@acme/geo', component: leak, grants: ${grants} }\n`

  it('fetch: true or emit: true (every origin, every topic) is refused as a malformed package, and never taken as covered', async () => {
    for (const [capabilities, grants, missing] of [
      [{ fetch: true }, {}, 'fetch (as true, not a list)'], [{ emit: true }, {}, 'emit (as true, not a list)'],
      [{ fetch: 'https://geo.example' }, {}, 'fetch (as "https://geo.example", not a list)'],
      [{ emit: true }, { emit: ['geo.*'] }, 'emit (as true, not a list)'], [{ secrets: 'DB' }, {}, 'secrets (as "DB", not a list)'],
    ] as const) {
      // The loader refuses the package first (the registry's publish rules, applied again at load)...
      const { config, diagnostics } = await loadApp(yaml(JSON.stringify(grants)), [component(capabilities)], false)
      expect(config, JSON.stringify(capabilities)).toBeUndefined()
      expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_MANIFEST', message: expect.stringContaining('capabilities') }])
      // ...and the comparison itself never reads such a shape as nothing requested.
      expect(missingCapabilities(capabilities as unknown as RequestedCapabilities, grants)).toEqual([missing])
    }
  })

  it('fetch origins compare as origins: path, default port and case do not matter; another port or scheme does', async () => {
    const covered = await loadApp(yaml("{ fetch: { origins: ['https://geo.example'] } }"), [component({ fetch: ['HTTPS://GEO.example:443/v1/search'] })])
    expect(errors(covered.diagnostics)).toEqual([])
    for (const wanted of ['https://geo.example:8443', 'http://geo.example', 'https://geo.example.evil']) {
      const { diagnostics } = await loadApp(yaml("{ fetch: { origins: ['https://geo.example'] } }"), [component({ fetch: [wanted] })])
      expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_CAPABILITIES_NOT_GRANTED', message: expect.stringContaining(`requests fetch ${wanted}`) }])
    }
  })
})

describe("a plugin's YAML stays inside its package", () => {
  it("islet.yaml naming a file outside the package (..) is refused before anything of the package is used", async () => {
    const plugin = { ...geo('apiVersion: islet/v1\n'), islet: { engine: '^0.1.0', yaml: ['../../../../app.yaml'] } }
    const { dir, cleanup } = writeFiles({ 'app.yaml': "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\nimports: ['@acme/geo/../../../../app.yaml']\n" })
    cleanups.push(cleanup)
    await lockUnchecked(dir, plugin)
    const { config, diagnostics } = await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {}, dataDir: join(dir, 'data') })
    expect(config).toBeUndefined()
    expect(errors(diagnostics)[0]).toMatchObject({ code: 'ERR_PLUGIN_MANIFEST', message: expect.stringContaining("islet.yaml[0]: '../../../../app.yaml' is not a path inside the package") })
  })

  it('an import in it leading out of the package, by .., is refused; a symlink planted in the extracted folder too', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': APP, 'secret.yaml': 'apiVersion: islet/v1\n' })
    cleanups.push(cleanup)
    await lockPlugin(dir, join(dir, 'data'), geo("apiVersion: islet/v1\nimports: ['../../../../../secret.yaml']\n"))
    const options = { registry: createBuiltinRegistry(), env: {}, dataDir: join(dir, 'data') }
    const climbing = await loadConfig(join(dir, 'app.yaml'), options)
    expect(climbing.config).toBeUndefined()
    expect(errors(climbing.diagnostics)).toMatchObject([{ code: 'ERR_CONFIG_PATH_OUTSIDE' }])
    // The folder is extracted now: a link planted in it (by anyone who can write the data dir) is refused.
    const scope = join(dir, 'data/plugins/packages/@acme')
    symlinkSync(join(dir, 'secret.yaml'), join(scope, readdirSync(scope)[0]!, 'pipelines/link.yaml'))
    const linked = await loadConfig(join(dir, 'app.yaml'), options)
    expect(linked.config).toBeUndefined()
    expect(errors(linked.diagnostics).map((d) => d.code)).toContainEqual(expect.stringMatching(/ERR_CONFIG_PATH_OUTSIDE|ERR_REGISTRY_TAMPERED/))
  })
})

describe("a components-only plugin's YAML cannot load host code", () => {
  it('a plugins: list in its YAML is refused, and the module it names is never imported', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': APP })
    cleanups.push(cleanup)
    const marker = join(dir, 'host-code-ran')
    const plugin = geo("apiVersion: islet/v1\nplugins: ['../dist/plugin.js']\n", {
      'dist/plugin.js': `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran')\nexport default {}\n` })
    await lockPlugin(dir, join(dir, 'data'), plugin)
    const { config, diagnostics } = await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {}, dataDir: join(dir, 'data') })
    expect(config).toBeUndefined()
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_CONFIG_SCHEMA', message: expect.stringContaining("cannot declare plugins:") }])
    expect(existsSync(marker)).toBe(false)
  })
})

describe('a package.json the registry never validated (a lock naming a package from elsewhere)', () => {
  it('odd shapes of islet.host, islet.services, islet.yaml and islet.components are a diagnostic, never a crash or a load', async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/shout': { version: ^2.0.0, host: true, services: [events] }\n"
    for (const islet of [{ host: 42 }, { host: 'dist/plugin.js', services: 'events' }, { host: 'dist/plugin.js', yaml: '../../x.yaml' },
      { host: 'dist/plugin.js', components: [{ file: '../../../x.ts' }] }]) {
      const plugin: PluginFixture = { ...shout([]), islet: { engine: '^0.1.0', ...islet } }
      const { config, diagnostics } = await loadApp(yaml, [plugin], false)
      expect(config, JSON.stringify(islet)).toBeUndefined()
      expect(errors(diagnostics), JSON.stringify(islet)).toMatchObject([{ code: 'ERR_PLUGIN_MANIFEST' }])
    }
  })
})
