// Registry plugins as an app uses them: the `plugins:` map pinned by islet.lock, components from a package run in
// the sandbox with the app's grants, host code only with `host: true`, services and capabilities compared with what
// the app allows, the engine range, YAML imported from a package, the frozen lockfile, resolution from a registry on
// loopback. Real files, real engine, real sandbox. What the `islet` command does with them (run, dev, deprecations
// and yanks) is in registry-plugins-cli.test.ts: a file of its own, so that the two run in parallel.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ENGINE_VERSION } from '../runtime/version.ts'
import { json, startApp } from './support/app.ts'
import { islet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { startTestRegistry, type TestRegistry } from '../registry/client/test-support/test-registry.ts'
import type { IsletField } from '../registry/manifest.ts'
import { lockPlugin, publishPlugin, readLockFile, TEST_KEY, type PluginFixture } from './support/registry-plugin.ts'
import { at, errors, GEO_APP, geo, load, post, SHOUT_APP, SHOUT_HOST, shout, WEB } from './support/registry-plugin-apps.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

function app(files: Record<string, string>): string {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return dir
}

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
