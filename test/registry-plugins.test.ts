// Registry plugins as an app uses them: the `plugins:` map pinned by islet.lock, components from a package run in
// the sandbox with the app's grants, host code only with `host: true`, services and capabilities compared with what
// the app allows, the engine range, YAML imported from a package, the frozen lockfile, and `islet dev` moving to a
// new locked version. Real files, real engine, real sandbox.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import type { Diagnostic } from '../runtime/config/diagnostics.ts'
import { loadConfig } from '../runtime/config/load.ts'
import { ENGINE_VERSION } from '../runtime/version.ts'
import { json, startApp } from './support/app.ts'
import { islet, spawnIslet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { startTestRegistry, type TestRegistry } from '../registry/client/test-support/test-registry.ts'
import type { IsletField } from '../registry/manifest.ts'
import { createSigningKey } from '../registry/signature.ts'
import { lockPlugin, packPlugin, publishPlugin, readLockFile, TEST_KEY, withEmbeddedRegistry, type PluginFixture } from './support/registry-plugin.ts'
import { until } from './support/until.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

function app(files: Record<string, string>): string {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return dir
}

const load = (dir: string, frozenLockfile = false) =>
  loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {}, dataDir: join(dir, 'data'), frozenLockfile })

/** Where `needle` (its first occurrence) starts in `text`, 1-based. */
function at(text: string, needle: string): { line: number; col: number } {
  const i = text.indexOf(needle)
  if (i < 0) throw new Error(`'${needle}' not in the text`)
  const before = text.slice(0, i)
  return { line: before.split('\n').length, col: i - before.lastIndexOf('\n') }
}

const errors = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.severity === 'error')

/** A component that answers with the plugin version it ships in. */
const geocode = (version: string) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'geocode',
  execute: (input: { q: string }) => ({ place: input.q.toUpperCase(), by: 'geocode ${version}' }),
})
`

function geo(version = '1.0.0', islet: Record<string, unknown> = {}): PluginFixture {
  return {
    name: '@acme/geo', version,
    islet: { engine: '^0.1.0', components: { geocode: { file: 'components/geocode.ts', capabilities: { emit: ['geo.looked-up'] } } },
      yaml: ['pipelines/geo.yaml'], ...islet },
    files: {
      'components/geocode.ts': geocode(version),
      'pipelines/geo.yaml': `apiVersion: islet/v1\npipelines:\n  geo-hello:\n    steps: [{ type: respond, config: { body: { hello: from-geo-${version} } } }]\n`,
      'pipelines/hidden.yaml': 'apiVersion: islet/v1\n',
    },
  }
}

const SHOUT_HOST = (version: string) => `import { definePlugin, defineStepType } from '@islet/sdk'
const shout = defineStepType({
  type: 'acme.shout',
  configSchema: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string' } } },
  create: (config) => () => ({ shouted: config.text.toUpperCase(), by: 'shout ${version}' }),
})
export default definePlugin({ name: '@acme/shout', version: '${version}', islet: '^0.1.0', stepTypes: [shout] })
`

function shout(islet: Record<string, unknown> = {}, version = '2.0.0'): PluginFixture {
  return { name: '@acme/shout', version, islet: { engine: '^0.1.0', host: 'dist/plugin.js', ...islet },
    files: { 'dist/plugin.js': SHOUT_HOST(version) } }
}

const WEB = (routes: string) => `modules:
  - name: api
    type: http.router
    config:
      routes: [${routes}]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
`

const GEO_APP = (grants = "{ emit: ['geo.*'] }", plugins = "  '@acme/geo': ^1.0.0\n") => `apiVersion: islet/v1
plugins:
${plugins}components:
  - { plugin: '@acme/geo', component: geocode, grants: ${grants} }
${WEB('{ method: POST, path: /geo, pipeline: geo }')}pipelines:
  geo:
    steps: [{ type: component, config: { component: geocode } }]
`

const post = async (url: string, body: unknown) =>
  json(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))

describe('registry plugins: components and YAML', () => {
  it('a components-only plugin: the app calls its component, which runs in the sandbox from the locked package', async () => {
    const t = await startApp({ 'app.yaml': GEO_APP() }, { prepare: (dir) => lockPlugin(dir, join(dir, 'data'), geo()) })
    try {
      expect(await post(`${t.url}/geo`, { q: 'paris' })).toEqual({ place: 'PARIS', by: 'geocode 1.0.0' })
    } finally {
      await t.close()
    }
  })

  it('a component requesting capabilities beyond its grants is refused at the grants, with the list', async () => {
    const yaml = GEO_APP("{ emit: ['orders.*'] }")
    const dir = app({ 'app.yaml': yaml })
    await lockPlugin(dir, join(dir, 'data'), geo('1.0.0', { components: { geocode: { file: 'components/geocode.ts',
      capabilities: { kv: true, fetch: ['https://geo.example'], emit: ['geo.looked-up'] } } } }))
    const { config, diagnostics } = await load(dir)
    expect(config).toBeUndefined()
    const [d] = errors(diagnostics)
    expect(d).toMatchObject({ code: 'ERR_PLUGIN_CAPABILITIES_NOT_GRANTED', ...at(yaml, "{ emit: ['orders.*'] }") })
    expect(d!.message).toBe("@acme/geo@1.0.0's component 'geocode' requests kv, fetch https://geo.example, emit geo.looked-up, beyond the grants of this entry")
    expect(d!.hint).toContain("fetch: { origins: [https://geo.example] }")
    // The pipeline calling it is not a second problem: the refused entry still declares the name.
    expect(errors(diagnostics).map((e) => e.code)).toEqual(['ERR_PLUGIN_CAPABILITIES_NOT_GRANTED'])
  })

  it('a loopback origin it requests is hinted with privateOrigins too; a misspelt plugin: gets did-you-mean', async () => {
    const dir = app({ 'app.yaml': GEO_APP('{}').replace('components:\n', "components:\n  - { plugin: '@acme/goe', component: geocode, name: other }\n") })
    await lockPlugin(dir, join(dir, 'data'), geo('1.0.0', { components: { geocode: { file: 'components/geocode.ts',
      capabilities: { fetch: ['http://127.0.0.1:9000'] } } } }))
    const found = errors((await load(dir)).diagnostics)
    expect(found.find((d) => d.code === 'ERR_PLUGIN_NOT_FOUND')!.hint).toMatch(/^did you mean '@acme\/geo'\?/)
    expect(found.find((d) => d.code === 'ERR_PLUGIN_CAPABILITIES_NOT_GRANTED')!.hint)
      .toContain('fetch: { origins: [http://127.0.0.1:9000], privateOrigins: [http://127.0.0.1:9000] }')
  })

  it('imports a YAML file the package lists; one it does not list is refused, naming those it does', async () => {
    const good = `apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\nimports: ['@acme/geo/pipelines/geo.yaml']\n${WEB('{ method: GET, path: /hello, pipeline: geo-hello }')}`
    const t = await startApp({ 'app.yaml': good }, { prepare: (dir) => lockPlugin(dir, join(dir, 'data'), geo()) })
    try {
      expect(await json(await fetch(`${t.url}/hello`))).toEqual({ hello: 'from-geo-1.0.0' })
    } finally {
      await t.close()
    }

    const bad = `apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\nimports: ['@acme/geo/pipelines/hidden.yaml']\n`
    const dir = app({ 'app.yaml': bad })
    await lockPlugin(dir, join(dir, 'data'), geo())
    const { diagnostics } = await load(dir)
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_MANIFEST', ...at(bad, "'@acme/geo/pipelines/hidden.yaml'"),
      message: "imports: @acme/geo@1.0.0 does not offer 'pipelines/hidden.yaml' for import; it lists @acme/geo/pipelines/geo.yaml" }])
  })

  it('a plugins: name npm would refuse is reported at its key, with why', async () => {
    const yaml = 'apiVersion: islet/v1\nplugins:\n  http: ^1.0.0\n'
    const { diagnostics } = await load(app({ 'app.yaml': yaml }))
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_CONFIG_SCHEMA', ...at(yaml, 'http:'),
      message: "plugin 'http' is not an npm package name: 'http' is a Node.js core module name" }])
  })

  it('an engine-incompatible plugin is refused, naming both versions', async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n"
    const dir = app({ 'app.yaml': yaml })
    await lockPlugin(dir, join(dir, 'data'), geo('1.0.0', { engine: '^9.0.0' }))
    const { diagnostics } = await load(dir)
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_ENGINE_MISMATCH', ...at(yaml, '^1.0.0'),
      message: `@acme/geo@1.0.0 needs islet ^9.0.0, this is islet ${ENGINE_VERSION}` }])
  })
})

const SHOUT_APP = (entry: string) => `apiVersion: islet/v1\nplugins:\n  '@acme/shout': ${entry}\n${WEB('{ method: GET, path: /shout, pipeline: shout }')}pipelines:
  shout:
    steps:
      - { name: s, type: acme.shout, config: { text: hi } }
      - { type: respond, config: { body: '\${{ steps.s }}' } }
`

describe('registry plugins: host code', () => {
  it('is refused without host: true (saying what would run and how to allow it), and loads with it', async () => {
    const refused = SHOUT_APP('^2.0.0')
    const dir = app({ 'app.yaml': refused })
    await lockPlugin(dir, join(dir, 'data'), shout())
    const { diagnostics } = await load(dir)
    const [d] = errors(diagnostics)
    expect(d).toMatchObject({ code: 'ERR_PLUGIN_HOST_NOT_ALLOWED', ...at(refused, '^2.0.0') })
    expect(d!.message).toBe('@acme/shout@2.0.0 ships host code (dist/plugin.js): it would run in the engine process with its rights; its plugins: entry does not allow host code')
    expect(d!.hint).toContain("'@acme/shout': { version: ^2.0.0, host: true }")
    expect(d!.hint).toContain('if not, remove @acme/shout from plugins:')

    const t = await startApp({ 'app.yaml': SHOUT_APP('{ version: ^2.0.0, host: true }') }, { prepare: (d) => lockPlugin(d, join(d, 'data'), shout()) })
    try {
      expect(await json(await fetch(`${t.url}/shout`))).toEqual({ shouted: 'HI', by: 'shout 2.0.0' })
      expect(t.engine.config.plugins).toMatchObject([{ name: '@acme/shout', version: '2.0.0', locked: true }])
    } finally {
      await t.close()
    }
  })

  it('host code that declares another plugin than its package is refused', async () => {
    const yaml = SHOUT_APP('{ version: ^2.0.0, host: true }')
    const dir = app({ 'app.yaml': yaml })
    await lockPlugin(dir, join(dir, 'data'), { ...shout(), files: { 'dist/plugin.js': SHOUT_HOST('2.0.1') } })
    const { diagnostics } = await load(dir)
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_INVALID', ...at(yaml, '{ version: ^2.0.0'),
      message: '@acme/shout@2.0.0: its host module exports plugin @acme/shout@2.0.1, not @acme/shout@2.0.0' }])
  })

  it('services the package uses beyond those its entry allows are refused, with the list', async () => {
    const yaml = SHOUT_APP('{ version: ^2.0.0, host: true, services: [status] }')
    const dir = app({ 'app.yaml': yaml })
    await lockPlugin(dir, join(dir, 'data'), shout({ services: ['events', 'status', 'components'] }))
    const { diagnostics } = await load(dir)
    expect(errors(diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_SERVICES_NOT_ALLOWED', ...at(yaml, '{ version: ^2.0.0'),
      message: '@acme/shout@2.0.0 uses the engine services events, components, beyond those its entry allows (status)' }])
  })
})

describe('registry plugins: islet.lock', () => {
  it('drift under --frozen-lockfile is an error with the fix; without it the plugin is resolved, warned about and locked', async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n"
    const dir = app({ 'app.yaml': yaml })
    await publishPlugin(join(dir, 'data'), geo('1.0.0'))
    await publishPlugin(join(dir, 'data'), geo('1.4.0'))
    await publishPlugin(join(dir, 'data'), geo('2.0.0'))

    const frozen = await load(dir, true)
    expect(frozen.config).toBeUndefined()
    expect(errors(frozen.diagnostics)).toMatchObject([{ code: 'ERR_PLUGIN_LOCK_DRIFT', ...at(yaml, '^1.0.0'),
      message: '@acme/geo ^1.0.0 is in plugins: but not in islet.lock, and the lockfile is frozen (--frozen-lockfile)',
      hint: 'run islet plugin upgrade @acme/geo and commit islet.lock' }])
    // The CLI says the same and exits 1.
    const cli = islet(['validate', 'app.yaml', '--frozen-lockfile', '--data-dir', join(dir, 'data')], { cwd: dir })
    expect(cli.status).toBe(1)
    expect(cli.stdout + cli.stderr).toContain('ERR_PLUGIN_LOCK_DRIFT')

    const { config, diagnostics } = await load(dir)
    expect(config).toBeDefined()
    expect(diagnostics).toMatchObject([{ severity: 'warning', code: 'ERR_PLUGIN_LOCK_DRIFT',
      message: '@acme/geo ^1.0.0 is in plugins: but not in islet.lock: resolved to @acme/geo@1.4.0 and written to islet.lock' }])
    expect(readLockFile(dir).plugins['@acme/geo']).toMatchObject({ version: '1.4.0', registry: 'embedded' })
    // Locked now: frozen loads it, with nothing to say.
    expect((await load(dir, true)).diagnostics).toEqual([])
  })

  it('a registries: value that is not a URL is refused at it, also when the lock means no registry is asked', async () => {
    const yaml = GEO_APP().replace('plugins:\n', "registries:\n  default: htp://127.0.0.1:4873/\n  '@acme': { url: localhost:4873 }\nplugins:\n")
    const dir = app({ 'app.yaml': yaml })
    await lockPlugin(dir, join(dir, 'data'), geo())
    const found = errors((await load(dir)).diagnostics)
    expect(found.map((d) => [d.code, d.line])).toEqual([['ERR_CONFIG_SCHEMA', 3], ['ERR_CONFIG_SCHEMA', 4]])
    expect(found[0]!.message).toContain('got string "htp://127.0.0.1:4873/"')
    expect(found[0]!.hint).toContain("'embedded', or an http(s) URL such as http://127.0.0.1:4873/")
  })

  it('resolving one drifting entry leaves what the lock pins within range as pinned', async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n  '@acme/shout': { version: ^2.0.0, host: true }\n"
    const dir = app({ 'app.yaml': yaml })
    await lockPlugin(dir, join(dir, 'data'), geo('1.0.0'))
    await publishPlugin(join(dir, 'data'), geo('1.4.0')) // newer, in range: not taken while 1.0.0 is pinned
    await publishPlugin(join(dir, 'data'), shout())
    const { config, diagnostics } = await load(dir)
    expect(config).toBeDefined()
    expect(diagnostics.map((d) => d.message)).toEqual(['@acme/shout ^2.0.0 is in plugins: but not in islet.lock: resolved to @acme/shout@2.0.0 and written to islet.lock'])
    expect(readLockFile(dir).plugins['@acme/geo']!.version).toBe('1.0.0')
  })
})

describe('registry plugins: every drift, where it is', () => {
  const started: TestRegistry[] = []
  afterAll(async () => { await Promise.all(started.map((r) => r.close())) })
  const plain = (name: string, islet: Record<string, unknown> = {}): PluginFixture => ({ name, version: '1.0.0', islet: { engine: '^0.1.0', ...islet } })
  /** The position of a plugins: entry's value (where diagnostics about the entry point). */
  const entry = (yaml: string, name: string) => { const p = at(yaml, `'${name}': `); return { line: p.line, col: p.col + `'${name}': `.length } }

  it('--frozen-lockfile: an extra lock entry at its line in islet.lock, a rebound scope and an unpinned dependency at the entry, each with its fix', async () => {
    const yaml = "apiVersion: islet/v1\nregistries:\n  '@beta': http://127.0.0.1:19379/\nplugins:\n  '@acme/geo': ^1.0.0\n  '@acme/route': ^1.0.0\n  '@beta/pay': ^1.0.0\n"
    const dir = app({ 'app.yaml': yaml })
    const data = join(dir, 'data')
    await lockPlugin(dir, data, geo())
    await lockPlugin(dir, data, plain('@acme/route', { plugins: { '@acme/base': '^1.0.0' } }))
    await lockPlugin(dir, data, plain('@acme/old'))
    await lockPlugin(dir, data, plain('@beta/pay'))
    const lockFile = join(dir, 'islet.lock')
    const lockText = readFileSync(lockFile, 'utf8')
    const { config, diagnostics } = await load(dir, true)
    expect(config).toBeUndefined()
    const frozen = ', and the lockfile is frozen (--frozen-lockfile)'
    expect(errors(diagnostics)).toEqual(expect.arrayContaining([
      expect.objectContaining({ code: 'ERR_PLUGIN_LOCK_DRIFT', file: lockFile, ...at(lockText, '"@acme/old"'),
        message: `@acme/old@1.0.0 is in islet.lock but neither plugins: nor a locked plugin needs it${frozen}`,
        hint: 'delete its entry from islet.lock (islet run or islet validate without --frozen-lockfile prunes it) and commit islet.lock' }),
      expect.objectContaining({ code: 'ERR_PLUGIN_LOCK_DRIFT', file: join(dir, 'app.yaml'), ...entry(yaml, '@beta/pay'),
        message: `@beta/pay was locked from embedded, but its registry is now http://127.0.0.1:19379/${frozen}`,
        hint: 'run islet plugin upgrade @beta/pay and commit islet.lock' }),
      expect.objectContaining({ code: 'ERR_PLUGIN_LOCK_DRIFT', file: join(dir, 'app.yaml'), ...entry(yaml, '@acme/route'),
        message: `@acme/route@1.0.0 needs @acme/base ^1.0.0, which is not in islet.lock${frozen}`,
        hint: 'run islet plugin upgrade @acme/route (it re-resolves what @acme/route needs) and commit islet.lock' }),
    ]))
    expect(errors(diagnostics)).toHaveLength(3)
    // The CLI prints the lock's own line for the extra.
    const cli = islet(['validate', 'app.yaml', '--frozen-lockfile', '--data-dir', data], { cwd: dir })
    expect(cli.status).toBe(1)
    const p = at(lockText, '"@acme/old"')
    expect(cli.stdout + cli.stderr).toContain(`islet.lock:${p.line}:${p.col} error ERR_PLUGIN_LOCK_DRIFT @acme/old@1.0.0 is in islet.lock but neither`)
  })

  it('without it: a rebound scope is resolved again from its new registry and an extra is pruned, each with a warning line', async () => {
    const registry = await startTestRegistry({ ports: [19360, 19378] })
    started.push(registry)
    registry.publish({ name: '@beta/pay', version: '1.0.0' })
    const yaml = `apiVersion: islet/v1\nregistries:\n  '@beta': ${registry.url}\nplugins:\n  '@acme/geo': ^1.0.0\n  '@beta/pay': ^1.0.0\n`
    const dir = app({ 'app.yaml': yaml })
    const data = join(dir, 'data')
    const { entry: geoEntry } = await lockPlugin(dir, data, geo())
    await lockPlugin(dir, data, plain('@acme/old'))
    await lockPlugin(dir, data, plain('@beta/pay'))
    const lockFile = join(dir, 'islet.lock')
    const lockText = readFileSync(lockFile, 'utf8')
    const { config, diagnostics } = await load(dir)
    expect(config).toBeDefined()
    expect(diagnostics).toEqual(expect.arrayContaining([
      expect.objectContaining({ severity: 'warning', code: 'ERR_PLUGIN_LOCK_DRIFT', file: lockFile, ...at(lockText, '"@acme/old"'),
        message: '@acme/old@1.0.0 is in islet.lock but neither plugins: nor a locked plugin needs it: removed from islet.lock' }),
      expect.objectContaining({ severity: 'warning', code: 'ERR_PLUGIN_LOCK_DRIFT', ...entry(yaml, '@beta/pay'),
        message: `@beta/pay was locked from embedded, but its registry is now ${registry.url}: re-resolved from ${registry.url} to @beta/pay@1.0.0 and written to islet.lock` }),
    ]))
    expect(diagnostics).toHaveLength(2)
    const lock = readLockFile(dir)
    expect(Object.keys(lock.plugins)).toEqual(['@acme/geo', '@beta/pay'])
    expect(lock.plugins['@acme/geo']).toEqual(geoEntry)
    expect(lock.plugins['@beta/pay']).toMatchObject({ version: '1.0.0', registry: registry.url, keyid: registry.key.keyid })
    expect(Object.keys(lock.keys).sort()).toEqual([TEST_KEY.keyid, registry.key.keyid].sort())
    expect(registry.requests).toContain('GET /@beta/pay/-/pay-1.0.0.tgz')
    expect((await load(dir, true)).diagnostics).toEqual([])
  })

  it('islet plugin add keeps a vendored plugin no registry has exactly as locked, and locks the new one beside it', async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n"
    const dir = app({ 'app.yaml': yaml })
    const data = join(dir, 'data')
    const { entry: vendored } = await lockPlugin(dir, data, geo()) // in islet-vendor/ only: the embedded registry lacks it
    await publishPlugin(data, shout())
    const r = islet(['plugin', 'add', '@acme/shout', '--host', '--yes', 'app.yaml', '--data-dir', data], { cwd: dir })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('added @acme/shout@2.0.0 (^2.0.0) in app.yaml; islet.lock written')
    const lock = readLockFile(dir)
    expect(lock.plugins['@acme/geo']).toEqual(vendored)
    expect(lock.plugins['@acme/shout']).toMatchObject({ version: '2.0.0', registry: 'embedded' })
    expect(lock.keys[TEST_KEY.keyid]).toBeDefined()
    expect(errors((await load(dir, true)).diagnostics)).toEqual([])
  })
})

describe('registry plugins: deprecated and yanked versions stay locked, with a warning at load', () => {
  it('a deprecation known when locking is recorded in islet.lock; each load warns with it, with no registry to ask', async () => {
    const yaml = GEO_APP()
    const dir = app({ 'app.yaml': yaml })
    const data = join(dir, 'data')
    await publishPlugin(data, geo('1.0.0'))
    withEmbeddedRegistry(data, (r) => r.deprecate('@acme/geo', '1.0.0', 'use 2.x: 1.x puts Paris in Texas', 'test'))
    const first = await load(dir)
    expect(first.config).toBeDefined()
    expect(readLockFile(dir).plugins['@acme/geo']).toMatchObject({ version: '1.0.0', deprecated: 'use 2.x: 1.x puts Paris in Texas' })
    const message = '@acme/geo@1.0.0 is deprecated: use 2.x: 1.x puts Paris in Texas'
    expect(first.diagnostics.filter((d) => d.code === 'ERR_PLUGIN_DEPRECATED')).toMatchObject([{ severity: 'warning', ...at(yaml, '^1.0.0'), message }])

    // The registry gone, the tarball cached: islet run loads the locked version, logs the warning, and serves.
    rmSync(join(data, 'registry'), { recursive: true, force: true })
    const run = spawnIslet(['run', 'app.yaml', '--frozen-lockfile', '--data-dir', data], { cwd: dir })
    try {
      const warning = await run.waitFor((l) => (l.diagnostic as { code?: string } | undefined)?.code === 'ERR_PLUGIN_DEPRECATED', 30_000)
      expect(warning.msg).toBe(message)
      const url = String((await run.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      expect(await post(`${url}/geo`, { q: 'paris' })).toEqual({ place: 'PARIS', by: 'geocode 1.0.0' })
    } finally {
      run.child.kill('SIGTERM')
      await run.exited
    }
  }, 60_000)

  it('a yank or deprecation after locking is recorded by islet plugin list and upgrade; the yanked version still loads, with a warning', async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n  '@acme/shout': { version: ^2.0.0, host: true }\n"
    const dir = app({ 'app.yaml': yaml })
    const data = join(dir, 'data')
    await publishPlugin(data, geo('1.0.0'))
    await publishPlugin(data, shout())
    expect((await load(dir)).config).toBeDefined()
    expect(readLockFile(dir).plugins['@acme/geo']!.yanked).toBeUndefined()

    withEmbeddedRegistry(data, (r) => r.yank('@acme/geo', '1.0.0', 'leaks the api key', 'test'))
    const list = islet(['plugin', 'list', 'app.yaml', '--data-dir', data], { cwd: dir })
    expect(list.status).toBe(0)
    expect(list.stdout).toContain('YANKED: leaks the api key')
    expect(list.stdout).toContain('! @acme/geo@1.0.0 yanked: leaks the api key (recorded in the lock; the app warns about it at load)')
    expect(readLockFile(dir).plugins['@acme/geo']).toMatchObject({ version: '1.0.0', yanked: 'leaks the api key' })
    const yanked = await load(dir, true)
    expect(yanked.config).toBeDefined()
    expect(yanked.diagnostics).toMatchObject([{ severity: 'warning', code: 'ERR_PLUGIN_YANKED', ...at(yaml, '^1.0.0'),
      message: '@acme/geo@1.0.0 is yanked: leaks the api key; it loads because islet.lock pins it, and no range would choose it again',
      hint: 'move to another version: islet plugin upgrade @acme/geo, with --latest to cross a major version' }])

    // Upgrading one plugin refreshes what the others' registry now says about them.
    await publishPlugin(data, geo('1.0.1'))
    withEmbeddedRegistry(data, (r) => r.deprecate('@acme/shout', '2.0.0', 'use @acme/yell', 'test'))
    const upgrade = islet(['plugin', 'upgrade', '@acme/geo', 'app.yaml', '--data-dir', data], { cwd: dir })
    expect(upgrade.status).toBe(0)
    expect(upgrade.stdout).toContain('~ @acme/geo 1.0.0 → 1.0.1')
    expect(upgrade.stdout).toContain('! @acme/shout@2.0.0 deprecated: use @acme/yell')
    const lock = readLockFile(dir)
    expect(lock.plugins['@acme/geo']).not.toHaveProperty('yanked')
    expect(lock.plugins['@acme/shout']).toMatchObject({ version: '2.0.0', deprecated: 'use @acme/yell' })
    expect((await load(dir, true)).diagnostics).toMatchObject([{ severity: 'warning', code: 'ERR_PLUGIN_DEPRECATED',
      message: '@acme/shout@2.0.0 is deprecated: use @acme/yell' }])
  }, 60_000)
})

describe('registry plugins under islet dev', () => {
  it('a new version in islet.lock reloads the app with it; a version that fails to load leaves the running one serving', async () => {
    const dir = app({ 'app.yaml': GEO_APP() })
    const data = join(dir, 'data')
    await lockPlugin(dir, data, geo('1.0.0'))
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', data], { cwd: dir })
    try {
      const url = String((await dev.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      await dev.waitFor((l) => String(l.raw ?? '').startsWith('watching'), 30_000)
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.0.0' })

      await lockPlugin(dir, data, geo('1.1.0'))
      await dev.waitFor((l) => /^config reloaded in \d+ ms \(generation 2\)/.test(String(l.raw ?? '')), 30_000)
      await until(async () => (await post(`${url}/geo`, { q: 'oslo' })).by === 'geocode 1.1.0', { ms: 30_000, explain: dev.stderr })

      await lockPlugin(dir, data, geo('1.2.0', { engine: '^9.0.0' }))
      await until(() => /config change rejected[^]*ERR_PLUGIN_ENGINE_MISMATCH[^]*@acme\/geo@1\.2\.0 needs islet \^9\.0\.0/.test(dev.stderr()),
        { ms: 30_000, explain: dev.stderr })
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.1.0' })
    } finally {
      dev.child.kill('SIGTERM')
      await dev.exited
    }
  }, 180_000) // a dev start and its reloads, each waited for up to 30 s: the budget is their sum

  it('a new lock pointing at a tampered tarball is refused with ERR_REGISTRY_INTEGRITY, and the old generation keeps serving', async () => {
    const dir = app({ 'app.yaml': GEO_APP() })
    const data = join(dir, 'data')
    await lockPlugin(dir, data, geo('1.0.0'))
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', data], { cwd: dir })
    try {
      const url = String((await dev.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      await dev.waitFor((l) => String(l.raw ?? '').startsWith('watching'), 30_000)
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.0.0' })

      // The tarball is in islet-vendor/ before the lock names it: one byte differs from what the lock pins.
      await lockPlugin(dir, data, geo('1.1.0'), { tamper: (bytes) => { bytes[bytes.length - 10]! ^= 0x01; return bytes } })
      await until(() => /config change rejected[^]*ERR_REGISTRY_INTEGRITY[^]*@acme\/geo@1\.1\.0/.test(dev.stderr()), { ms: 30_000, explain: dev.stderr })
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.0.0' })

      // A good lock again: the reload goes through, and the new generation's warnings are logged as at start.
      await lockPlugin(dir, data, geo('1.2.0'), { standing: { deprecated: 'use 2.x' } })
      const warning = await dev.waitFor((l) => (l.diagnostic as { code?: string } | undefined)?.code === 'ERR_PLUGIN_DEPRECATED', 30_000)
      expect(warning.msg).toBe('@acme/geo@1.2.0 is deprecated: use 2.x')
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.2.0' })
    } finally {
      dev.child.kill('SIGTERM')
      await dev.exited
    }
  }, 180_000) // a dev start and its reloads, each waited for up to 30 s: the budget is their sum

  it('host code: a new version in islet.lock is imported beside the old one and the step using it restarts with it', async () => {
    const dir = app({ 'app.yaml': SHOUT_APP('{ version: ^2.0.0, host: true }') })
    const data = join(dir, 'data')
    await lockPlugin(dir, data, shout())
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', data], { cwd: dir })
    try {
      const url = String((await dev.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      await dev.waitFor((l) => String(l.raw ?? '').startsWith('watching'), 30_000)
      expect(await json(await fetch(`${url}/shout`))).toEqual({ shouted: 'HI', by: 'shout 2.0.0' })

      await lockPlugin(dir, data, shout({}, '2.1.0'))
      await dev.waitFor((l) => /^config reloaded in \d+ ms \(generation 2\)/.test(String(l.raw ?? '')), 30_000)
      expect(await json(await fetch(`${url}/shout`))).toEqual({ shouted: 'HI', by: 'shout 2.1.0' })
    } finally {
      dev.child.kill('SIGTERM')
      await dev.exited
    }
  }, 180_000) // a dev start and its reloads, each waited for up to 30 s: the budget is their sum
})


describe('registry plugins: verification fails closed (islet run)', () => {
  const YAML = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n"
  const run = (dir: string) => islet(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
  const where = (yaml: string, needle: string) => { const p = at(yaml, needle); return `app.yaml:${p.line}:${p.col}` }

  it('a vendored tarball with one byte changed is refused, with both integrities', async () => {
    const dir = app({ 'app.yaml': YAML })
    const { file, entry } = await lockPlugin(dir, join(dir, 'data'), geo())
    const bytes = readFileSync(file)
    bytes[bytes.length - 10] ^= 0x01
    writeFileSync(file, bytes)
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.stdout + r.stderr).toContain(`${where(YAML, '^1.0.0')} error ERR_REGISTRY_INTEGRITY the tarball of @acme/geo@1.0.0 from ${file} hashes to sha512-`)
    expect(r.stdout + r.stderr).toContain(`but islet.lock pins ${entry.integrity}: refused; restore ${file} from version control (it ships with the app), or run \`islet plugin vendor\` to copy a verified one over it`)
  })

  it('a vendored tarball with one file added is refused', async () => {
    const dir = app({ 'app.yaml': YAML })
    const { file, entry } = await lockPlugin(dir, join(dir, 'data'), geo())
    const added = await packPlugin({ ...geo(), files: { ...geo().files, 'components/extra.ts': 'export default 1\n' } })
    writeFileSync(file, added.tarball)
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.stdout + r.stderr).toContain(`ERR_REGISTRY_INTEGRITY the tarball of @acme/geo@1.0.0 from ${file} hashes to ${added.integrity}, but islet.lock pins ${entry.integrity}`)
  })

  it('an extracted folder with a file added after verification is refused, naming the file', async () => {
    const dir = app({ 'app.yaml': YAML })
    await lockPlugin(dir, join(dir, 'data'), geo())
    const first = await load(dir)
    expect(errors(first.diagnostics)).toEqual([])
    const extracted = join(dir, 'data', 'plugins', 'packages', '@acme')
    const [folder] = readdirSync(extracted)
    writeFileSync(join(extracted, folder!, 'components', 'backdoor.ts'), 'export default 1\n')
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.stdout + r.stderr).toContain(`${where(YAML, '^1.0.0')} error ERR_REGISTRY_TAMPERED the extracted folder of @acme/geo@1.0.0 (${join(extracted, folder!)}) differs from its verified tarball (added: components/backdoor.ts)`)
  })

  it('a signature by a key the lock does not pin is refused: an unknown key id, or the pinned id over another key\'s signature', async () => {
    const other = createSigningKey()
    const dir = app({ 'app.yaml': YAML })
    await lockPlugin(dir, join(dir, 'data'), geo(), { key: other, pinned: TEST_KEY })
    const lockText = readFileSync(join(dir, 'islet.lock'), 'utf8')
    const r = run(dir)
    expect(r.status).toBe(1)
    const p = at(lockText, `"keyid": "${other.keyid}"`)
    expect(r.stdout + r.stderr).toContain(`ERR_REGISTRY_LOCK_INVALID ${join(dir, 'islet.lock')}:${p.line}:${p.col + '"keyid": '.length}: islet.lock plugins["@acme/geo"].keyid ${other.keyid} is not pinned under "keys"`)

    // The entry names the pinned key, but the signature is another key's.
    const lock = readLockFile(dir)
    lock.plugins['@acme/geo']!.keyid = TEST_KEY.keyid
    writeFileSync(join(dir, 'islet.lock'), JSON.stringify(lock, null, 2))
    const again = run(dir)
    expect(again.status).toBe(1)
    expect(again.stdout + again.stderr).toContain(`${where(YAML, '^1.0.0')} error ERR_REGISTRY_SIGNATURE @acme/geo@1.0.0: the signature does not verify with key ${TEST_KEY.keyid}`)
  })
})

describe('registry plugins: resolved from a registry on loopback', () => {
  const started: TestRegistry[] = []
  afterAll(async () => { await Promise.all(started.map((r) => r.close())) })
  const serve = async () => {
    const registry = await startTestRegistry({ ports: [19260, 19279] })
    started.push(registry)
    for (const version of ['1.0.0', '1.4.0', '2.0.0']) {
      const { islet, files } = geo(version)
      registry.publish({ name: '@acme/geo', version, islet: { components: islet.components as IsletField['components'], yaml: ['pipelines/geo.yaml'] }, files })
    }
    registry.publish({ name: '@acme/route', version: '2.0.0', islet: { engine: '^0.1.0', plugins: { '@acme/geo': '^2.0.0' } } })
    return registry
  }
  const APP = (url: string, plugins: string) => `apiVersion: islet/v1\nregistries:\n  default: ${url}\nplugins:\n${plugins}`

  it('resolves the highest match, pins it with the registry key in islet.lock, downloads and verifies it', async () => {
    const registry = await serve()
    const yaml = APP(registry.url, "  '@acme/geo': ^1.0.0\n")
    const dir = app({ 'app.yaml': yaml })
    const { config, diagnostics } = await load(dir)
    expect(errors(diagnostics)).toEqual([])
    expect(config).toBeDefined()
    const lock = readLockFile(dir)
    expect(lock.plugins['@acme/geo']).toMatchObject({ version: '1.4.0', registry: registry.url, keyid: registry.key.keyid })
    expect(Object.keys(lock.keys)).toEqual([registry.key.keyid])
    expect(registry.requests).toContain('GET /@acme/geo/-/geo-1.4.0.tgz')
    // Locked and cached now: a frozen load asks the registry nothing.
    const before = registry.requests.length
    expect(errors((await load(dir, true)).diagnostics)).toEqual([])
    expect(registry.requests.length).toBe(before)
  })

  it('a conflict is reported at the plugins: entry with the chains and the versions available', async () => {
    const registry = await serve()
    const yaml = APP(registry.url, "  '@acme/geo': ^1.0.0\n  '@acme/route': ^2.0.0\n")
    const dir = app({ 'app.yaml': yaml })
    const { config, diagnostics } = await load(dir)
    expect(config).toBeUndefined()
    const [d] = errors(diagnostics)
    expect(d).toMatchObject({ code: 'ERR_REGISTRY_RESOLVE_CONFLICT', ...at(yaml, '^1.0.0') })
    expect(d!.message).toContain('the ranges on @acme/geo have no version in common: app → @acme/geo ^1.0.0; app → @acme/route@2.0.0 → @acme/geo ^2.0.0. Available: 2.0.0, 1.4.0, 1.0.0.')
  })

  it("an entry's registry: binds its scope; one that disagrees with the scope's binding is refused at it", async () => {
    const registry = await serve()
    const bound = `apiVersion: islet/v1\nplugins:\n  '@acme/geo': { version: ^1.0.0, registry: '${registry.url}' }\n`
    const dir = app({ 'app.yaml': bound })
    expect(errors((await load(dir)).diagnostics)).toEqual([])
    expect(readLockFile(dir).plugins['@acme/geo']).toMatchObject({ version: '1.4.0', registry: registry.url })

    const clash = `apiVersion: islet/v1\nregistries:\n  '@acme': embedded\nplugins:\n  '@acme/geo': { version: ^1.0.0, registry: '${registry.url}' }\n`
    const [d] = errors((await load(app({ 'app.yaml': clash }))).diagnostics)
    expect(d).toMatchObject({ code: 'ERR_CONFIG_SCHEMA', ...at(clash, `'${registry.url}'`),
      message: `@acme/geo would come from ${registry.url}, but its scope @acme is bound to embedded` })
  })

  it('a range no version satisfies is reported at its entry with the versions available', async () => {
    const registry = await serve()
    const yaml = APP(registry.url, "  '@acme/geo': ^3.0.0\n")
    const dir = app({ 'app.yaml': yaml })
    const [d] = errors((await load(dir)).diagnostics)
    expect(d).toMatchObject({ code: 'ERR_REGISTRY_NO_MATCHING_VERSION', ...at(yaml, '^3.0.0') })
    expect(d!.message).toContain('no version of @acme/geo satisfies ^3.0.0 (app → @acme/geo ^3.0.0). Available: 2.0.0, 1.4.0, 1.0.0.')
  })
})
