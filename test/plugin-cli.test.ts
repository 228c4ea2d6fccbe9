// `islet plugin …`: the edits to app.yaml keep everything the author wrote (comments, order, spacing, quoting) and
// change only the entry; command-line mistakes are usage errors (exit 2) that say how to write it, before any
// registry is asked; a change is never made off a terminal without --yes; --format json carries the same data.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IsletError } from '../runtime/errors.ts'
import { confirm } from '../runtime/cli/confirm.ts'
import { effectsOf } from '../runtime/cli/plugin-effects.ts'
import { formatPlan, summarize, type Plan } from '../runtime/cli/plugin-plan.ts'
import { parsePluginSpec } from '../runtime/cli/plugin-spec.ts'
import type { PackumentVersion } from '../runtime/cli/registry-parts.ts'
import { pluginEntries, readAppYaml, removePluginEntry, setPluginEntry } from '../runtime/cli/plugins-yaml.ts'
import { islet, isletAsync, spawnIslet, type RunningIslet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'

const APP = `# Orders app
apiVersion: islet/v1   # keep this first

plugins:
  # geocoding for addresses
  '@acme/geo': ^1.2.0    # pinned to the 1.2 API
  '@acme/audit': { version: ^2.0.0, host: true, services: [events] }

modules:
  - name: web
    type: http.server
    config: { port: 0 }   # any free port
`

function withApp<T>(text: string, run: (file: string, dir: string) => T): T {
  const { dir, cleanup } = writeFiles({ 'app.yaml': text })
  try {
    return run(join(dir, 'app.yaml'), dir)
  } finally {
    cleanup()
  }
}

describe('the plugins: map, edited in place', () => {
  it('adds an entry after the last one and changes nothing else in the file', () => {
    withApp(APP, (file) => {
      const app = readAppYaml(file)
      setPluginEntry(app, '@acme/pdf', { range: '^0.3.0' })
      expect(app.text).toBe(APP.replace("services: [events] }\n", "services: [events] }\n  '@acme/pdf': ^0.3.0\n"))
    })
  })

  it('changes a range where it is written, keeping the comment after it and the map form of another entry', () => {
    withApp(APP, (file) => {
      const app = readAppYaml(file)
      setPluginEntry(app, '@acme/geo', { range: '^1.3.0' })
      setPluginEntry(app, '@acme/audit', { range: '^2.1.0' })
      expect(app.text).toBe(APP.replace("'@acme/geo': ^1.2.0    # pinned", "'@acme/geo': ^1.3.0    # pinned").replace('version: ^2.0.0', 'version: ^2.1.0'))
      expect(pluginEntries(app).get('@acme/audit')).toMatchObject({ range: '^2.1.0', host: true, services: ['events'] })
    })
  })

  it('quotes what YAML cannot write plainly, and gives host code the map form', () => {
    withApp(APP, (file) => {
      const app = readAppYaml(file)
      setPluginEntry(app, 'plain-name', { range: '>=1.0.0 <2.0.0' })
      setPluginEntry(app, '@acme/geo', { range: '^1.2.0', host: true, services: ['events', 'kv'] })
      const entries = pluginEntries(app)
      expect(entries.get('plain-name')!.range).toBe('>=1.0.0 <2.0.0')
      expect(app.text).toContain("  '@acme/geo': { version: ^1.2.0, host: true, services: [events, kv] }    # pinned to the 1.2 API\n")
      expect(app.text).toContain("  plain-name: '>=1.0.0 <2.0.0'\n")
    })
  })

  it('appends a plugins: map to a file without one, and removes an entry with its line only', () => {
    const bare = 'apiVersion: islet/v1\n# the end\n'
    withApp(bare, (file) => {
      const app = readAppYaml(file)
      setPluginEntry(app, '@acme/geo', { range: '*' })
      expect(app.text).toBe(`${bare}plugins:\n  '@acme/geo': '*'\n`)
    })
    withApp(APP, (file) => {
      const app = readAppYaml(file)
      expect(removePluginEntry(app, '@acme/geo')).toBe(true)
      expect(app.text).toBe(APP.replace("  '@acme/geo': ^1.2.0    # pinned to the 1.2 API\n", ''))
      expect(removePluginEntry(app, '@acme/nope')).toBe(false)
    })
    // The last entry: `plugins: {}` (not `{}` alone on the line below), the comment above the entry kept.
    withApp(APP, (file) => {
      const app = readAppYaml(file)
      removePluginEntry(app, '@acme/geo')
      removePluginEntry(app, '@acme/audit')
      expect(app.text).toBe(APP.replace("plugins:\n  # geocoding for addresses\n  '@acme/geo': ^1.2.0    # pinned to the 1.2 API\n  '@acme/audit': { version: ^2.0.0, host: true, services: [events] }\n",
        'plugins: {}\n  # geocoding for addresses\n'))
      expect(pluginEntries(app).size).toBe(0)
    })
    withApp('apiVersion: islet/v1\nplugins:   # see: the README\n  # note: pinned\n  a: ^1.0.0\n', (file) => {
      const app = readAppYaml(file)
      removePluginEntry(app, 'a')
      expect(app.text).toBe('apiVersion: islet/v1\nplugins: {}   # see: the README\n  # note: pinned\n')
    })
    withApp('apiVersion: islet/v1\nplugins: { a: ^1.0.0 }   # flow\n', (file) => {
      const app = readAppYaml(file)
      removePluginEntry(app, 'a')
      expect(app.text).toBe('apiVersion: islet/v1\nplugins: {}   # flow\n')
    })
  })

  it('refuses the list form of plugins: with where it is and what to write instead', () => {
    withApp('apiVersion: islet/v1\nplugins:\n  - ./plugins/local\n', (file) => {
      const app = readAppYaml(file)
      expect(() => setPluginEntry(app, '@acme/geo', { range: '^1.0.0' })).toThrow(`${file}:3:3: plugins: is in the list form`)
    })
  })
})

describe('islet plugin add: what it shows before changing anything', () => {
  const plan = (islet: Record<string, unknown>): Plan => ({
    plugin: summarize({ name: '@acme/geo', version: '1.2.0', islet: { engine: '^0.1.0', ...islet } } as PackumentVersion, 'SHA256:k'),
    dependencies: [], yaml: { file: 'app.yaml', entry: "'@acme/geo': ^1.2.0" }, lock: { file: 'islet.lock', changes: [] },
  })

  it('the components: entries to paste, with grants covering what each requests (a loopback origin as privateOrigins too)', () => {
    const text = formatPlan(plan({ components: {
      geocode: { file: 'components/geocode.ts', capabilities: { kv: true, fetch: ['https://geo.example', 'http://127.0.0.1:9000'] } },
      plain: { file: 'components/plain.ts' },
      notify: { file: 'components/notify.ts', capabilities: { emit: ['geo.*'], secrets: ['GEO_KEY'] } },
    } }), false)
    expect(text).toContain(`to call its components, list them under components: in app.yaml, granting what each requests:
  - { plugin: '@acme/geo', component: geocode, grants: { kv: true, fetch: { origins: ['https://geo.example', 'http://127.0.0.1:9000'], privateOrigins: ['http://127.0.0.1:9000'] } } }
  - { plugin: '@acme/geo', component: plain }
  - { plugin: '@acme/geo', component: notify, grants: { emit: ['geo.*'], secrets: ['GEO_KEY'] } }`)
  })

  it('host code without --host: says the app will be refused, not that the rest works without it', () => {
    const text = formatPlan(plan({ host: './host.js', components: { geocode: { file: 'components/geocode.ts' } } }), false)
    expect(text).toContain('NOT allowed by this entry: the app is refused (ERR_PLUGIN_HOST_NOT_ALLOWED) until it says host: true')
    expect(formatPlan(plan({ host: './host.js' }), true)).toContain('allowed by this entry (host: true)')
  })
})

describe('islet plugin upgrade: what a new version means for the app', () => {
  it('names each components: entry whose grants fall short of the new version, a component it dropped, and host code not allowed', () => {
    const text = `${APP}components:\n  - { plugin: '@acme/geo', component: geocode, grants: { kv: true } }\n  - { plugin: '@acme/geo', component: gone }\n  - { plugin: '@acme/geo', component: fits, grants: { emit: ['geo.*'] } }\n`
    withApp(text, (file) => {
      const version = { name: '@acme/geo', version: '2.0.0', islet: { engine: '^0.1.0', host: './host.js', components: {
        geocode: { file: 'g.ts', capabilities: { kv: true, fetch: ['https://geo.example'] } },
        fits: { file: 'f.ts', capabilities: { emit: ['geo.found'] } },
      } } } as unknown as PackumentVersion
      expect(effectsOf(readAppYaml(file), '@acme/geo', version, false)).toEqual([
        '@acme/geo@2.0.0 now ships host code (./host.js), which its plugins: entry does not allow: the app is refused until it says host: true (review it first), or pin the previous range',
        `${file}:14:5: @acme/geo@2.0.0's component 'geocode' now requests fetch https://geo.example, beyond this entry's grants: the app is refused until you grant it, or pin the previous range`,
        `${file}:15:5: @acme/geo@2.0.0 no longer provides the component 'gone' (it provides geocode, fits)`,
      ])
      expect(effectsOf(readAppYaml(file), '@acme/geo', version, true)).toHaveLength(2)
    })
  })
})

describe('islet plugin: command-line mistakes', () => {
  it('a range that does not parse is a usage error naming it, with how to write one', () => {
    expect(() => parsePluginSpec('@acme/geo@one')).toThrow("'one' in '@acme/geo@one' is not a semver range; write e.g. @acme/geo@^1.2.0")
    expect(parsePluginSpec('@acme/geo@^1.2.0')).toEqual({ name: '@acme/geo', range: '^1.2.0' })
    expect(parsePluginSpec('@acme/geo')).toEqual({ name: '@acme/geo' })
    withApp(APP, (file, dir) => {
      const r = islet(['plugin', 'add', '@acme/geo@one', file], { cwd: dir })
      expect(r.status).toBe(2)
      expect(r.stderr).toContain("ERR_CLI_USAGE: 'one' in '@acme/geo@one' is not a semver range")
      expect(readFileSync(file, 'utf8')).toBe(APP)
    })
  })

  it('a name npm would refuse, --services without --host, and yank without one exact version', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': APP })
    try {
      const file = join(dir, 'app.yaml')
      const [name, services, yank] = await Promise.all([isletAsync(['plugin', 'add', '@Acme/Geo', file], { cwd: dir }),
        isletAsync(['plugin', 'add', '@acme/geo', '--services', 'events', file], { cwd: dir }), isletAsync(['plugin', 'yank', '@acme/geo@^1.2.0'], { cwd: dir })])
      expect(name!.status).toBe(2)
      expect(name!.stderr).toContain("did you mean '@acme/geo'? npm names are lower case")
      expect(services!.status).toBe(2)
      expect(services!.stderr).toContain('--services grants engine services to host code: pass --host with it')
      expect(yank!.status).toBe(2)
      expect(yank!.stderr).toContain("islet plugin yank needs one exact version: @acme/geo@1.2.3, not '@acme/geo@^1.2.0'")
    } finally {
      cleanup()
    }
  })

  it('a registries: token whose variable is not set is reported at its file:line:col, before any registry is asked', () => {
    const text = `apiVersion: islet/v1\nregistries:\n  '@acme': { url: 'http://127.0.0.1:9/', token: '\${ISLET_TEST_UNSET_TOKEN}' }\n`
    withApp(text, (file, dir) => {
      const r = islet(['plugin', 'add', '@acme/geo', '--yes', 'app.yaml'], { cwd: dir })
      expect(r.status).toBe(1)
      expect(r.stderr).toContain('ERR_CONFIG_ENV_MISSING: app.yaml:3:50: registries: uses ${ISLET_TEST_UNSET_TOKEN}, which is not set')
      expect(readFileSync(file, 'utf8')).toBe(text)
    })
  })

  it('remove names the entries the app has (did-you-mean) and changes nothing', () => {
    withApp(APP, (file, dir) => {
      const r = islet(['plugin', 'remove', '@acme/goe', file], { cwd: dir })
      expect(r.status).toBe(2)
      expect(r.stderr).toContain("has no plugins: entry '@acme/goe' (did you mean '@acme/geo'?)")
      expect(readFileSync(file, 'utf8')).toBe(APP)
    })
  })

  it('every plugin and registry command answers --help with its usage, options and examples', async () => {
    const commands = [['plugin', 'add'], ['plugin', 'remove'], ['plugin', 'upgrade'], ['plugin', 'list'], ['plugin', 'vendor'], ['plugin', 'yank'], ['plugin', 'unyank'],
      ['registry', 'serve'], ['registry', 'user', 'add'], ['registry', 'token', 'create'], ['registry', 'token', 'revoke'], ['registry', 'token', 'list']]
    const results = await Promise.all(commands.map((command) => isletAsync([...command, '--help'])))
    for (const [i, command] of commands.entries()) {
      const r = results[i]!
      expect(r.status, `${command.join(' ')} --help: ${r.stderr}`).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^Usage: islet ${command.join(' ')}\\b`))
      expect(r.stdout).toMatch(/\nOptions:\n[\s\S]*-h, --help[\s\S]*\nExamples:\n {2}/)
    }
  })

  it('without a subcommand, lists the plugin commands', () => {
    const r = islet(['plugin'])
    expect(r.status).toBe(2)
    for (const sub of ['add', 'remove', 'upgrade', 'list', 'vendor', 'yank', 'unyank']) expect(r.stderr).toContain(`islet plugin ${sub} `)
  })
})

describe('islet plugin: changes and output', () => {
  it('remove edits app.yaml in place (comments kept) and reports it as JSON', () => {
    withApp(APP, (file, dir) => {
      const r = islet(['plugin', 'remove', '@acme/audit', file, '--format', 'json'], { cwd: dir })
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ removed: '@acme/audit', lock: { changes: [] } })
      expect(readFileSync(file, 'utf8')).toBe(APP.replace("  '@acme/audit': { version: ^2.0.0, host: true, services: [events] }\n", ''))
    })
  })

  it('remove says where components: entries still call the removed plugin (the app is refused until they go)', () => {
    withApp(`${APP}components:\n  - { plugin: '@acme/geo', component: geocode }\n  - { file: ./x.ts }\n`, (file, dir) => {
      const r = islet(['plugin', 'remove', '@acme/geo', 'app.yaml'], { cwd: dir })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toContain("note: components: entries still call @acme/geo's components, at app.yaml:13:5: remove them too")
      expect(readFileSync(file, 'utf8')).toContain("  - { plugin: '@acme/geo', component: geocode }\n")
    })
  })

  it('list --format json gives each entry with its range, host trust and locked version (none before a lock)', () => {
    withApp(APP, (file, dir) => {
      const r = islet(['plugin', 'list', file, '--format', 'json'], { cwd: dir, env: { ISLET_DATA_DIR: join(dir, 'data') } })
      expect(r.status).toBe(0)
      const out = JSON.parse(r.stdout) as { lock: unknown; plugins: unknown[] }
      expect(out.lock).toBe(null)
      expect(out.plugins).toMatchObject([
        { name: '@acme/audit', range: '^2.0.0', host: true, version: null, requiredBy: ['app'] },
        { name: '@acme/geo', range: '^1.2.0', host: false, version: null, requiredBy: ['app'] },
      ])
    })
  })

  it('a change is not made off a terminal without --yes, and says how to go ahead', async () => {
    // vitest's stdin is not a terminal, as in CI: there is no one to ask.
    const refused = await confirm('add @acme/geo ^1.2.0?', { yes: false, command: 'plugin add' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(IsletError)
    expect(refused).toMatchObject({ code: 'ERR_CLI_CONFIRM' })
    expect((refused as Error).message).toContain('pass --yes to go ahead')
    expect(await confirm('add @acme/geo ^1.2.0?', { yes: true, command: 'plugin add' })).toBe(true)
  })
})

// End to end against a real registry (islet registry serve on loopback, on a port the system picks; packages
// published with the real npm CLI).

/** `npm publish` in `cwd` with the test's npmrc, without blocking this process (publishes run together). */
function npmPublish(cwd: string, npmrc: string, cache: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['publish', '--userconfig', npmrc, '--cache', cache], { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.once('error', reject)
    child.once('close', (status) => resolve({ status, stderr }))
  })
}

function plugin(dir: string, pkg: Record<string, unknown>, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', files: ['components'], ...pkg }))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
}

describe('islet plugin against a registry on loopback', () => {
  const work = mkdtempSync(join(tmpdir(), 'islet-plugin-cli-'))
  let registry: string
  let app: string
  let served: RunningIslet
  const run = (args: string[], env: Record<string, string> = {}) => isletAsync([...args, '--data-dir', join(work, 'data')], { cwd: join(work, 'app'), env })

  beforeAll(async () => {
    served = spawnIslet(['registry', 'serve', '--dir', join(work, 'registry'), '--port', '0', '--format', 'json'])
    registry = String((await served.waitFor((l) => typeof l.url === 'string', 30_000)).url)
    app = `# the app
apiVersion: islet/v1   # v1

registries:
  default: ${registry}

modules: []   # none yet
`
    const dir = join(work, 'registry')
    const user = islet(['registry', 'user', 'add', 'alice', '--dir', dir], { env: { ISLET_REGISTRY_PASSWORD: 'correct horse' } })
    expect(user.status, user.stderr).toBe(0)
    const token = islet(['registry', 'token', 'create', '--user', 'alice', '--scope', '@acme/*', '--dir', dir, '--format', 'json'])
    expect(token.status, token.stderr).toBe(0)
    const npmrc = join(work, 'npmrc')
    writeFileSync(npmrc, `registry=${registry}\n${registry.replace(/^http:/, '')}:_authToken=${(JSON.parse(token.stdout) as { token: string }).token}\n`)
    const component = (name: string) => `import { defineComponent } from '@islet/sdk'\nexport default defineComponent({ name: '${name}', execute: (input: string) => ({ input }) })\n`
    plugin(join(work, 'base'), { name: '@acme/base', version: '1.0.0', islet: { engine: '>=0.0.0', components: { noop: { file: 'components/noop.ts' } } } },
      { 'components/noop.ts': component('noop') })
    plugin(join(work, 'geo'), { name: '@acme/geo', version: '1.2.0', description: 'geocoding', islet: { engine: '>=0.0.0', plugins: { '@acme/base': '^1.0.0' },
      components: { geocode: { file: 'components/geocode.ts', capabilities: { fetch: ['https://geo.example'], kv: true } } } } },
    { 'components/geocode.ts': component('geocode') })
    for (const r of await Promise.all(['base', 'geo'].map((p) => npmPublish(join(work, p), npmrc, join(work, 'npm-cache'))))) expect(r.status, r.stderr).toBe(0)
    mkdirSync(join(work, 'app'))
    writeFileSync(join(work, 'app', 'app.yaml'), app)
  }, 120_000)

  afterAll(async () => {
    served?.child.kill('SIGTERM')
    await served?.exited
    rmSync(work, { recursive: true, force: true })
  })

  // The first three change nothing (the checks say so), so they run concurrently (with the context's expect).
  it.concurrent('a published component that does not compile is refused with where in the package (islet registry serve lends the compiler)', async ({ expect }) => {
    plugin(join(work, 'broken'), { name: '@acme/geo', version: '1.3.0', islet: { engine: '>=0.0.0', components: { geocode: { file: 'components/geocode.ts' } } } },
      { 'components/geocode.ts': "import { defineComponent } from '@islet/sdk'\nexport default defineComponent({\n" })
    const r = await npmPublish(join(work, 'broken'), join(work, 'npmrc'), join(work, 'npm-cache'))
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/components\/geocode\.ts:3:1: ERR_COMPONENT_SYNTAX component 'geocode'/)
  })

  it.concurrent('add shows what the plugin requests and, off a terminal without --yes, changes nothing', async ({ expect }) => {
    const r = await run(['plugin', 'add', '@acme/geo'])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain('geocode        components/geocode.ts  requests: fetch https://geo.example; kv')
    expect(r.stdout).toContain("'@acme/geo': ^1.2.0")
    expect(r.stdout).toMatch(/\+ @acme\/base@1\.0\.0 .*key SHA256:/)
    expect(r.stderr).toContain('ERR_CLI_CONFIRM: nothing changed')
    expect(readFileSync(join(work, 'app', 'app.yaml'), 'utf8')).toBe(app)
    expect(existsSync(join(work, 'app', 'islet.lock'))).toBe(false)
  })

  it.concurrent('an unknown name gets did-you-mean from the registry search', async ({ expect }) => {
    const r = await run(['plugin', 'add', '@acme/goe', '--yes'])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`ERR_PLUGIN_UNKNOWN: no plugin '@acme/goe' in ${registry} (did you mean '@acme/geo'?)`)
  })

  it('with --yes: writes the entry (the rest of app.yaml as it was) and the lock, and reports it as JSON', async () => {
    const r = await run(['plugin', 'add', '@acme/geo', '--yes', '--format', 'json'])
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { applied: boolean; plugin: { components: { capabilities: unknown }[] }; lock: { changes: { name: string; kind: string }[] } }
    expect(out.applied).toBe(true)
    expect(out.plugin.components[0]!.capabilities).toEqual({ fetch: ['https://geo.example'], kv: true })
    expect(out.lock.changes.map((c) => `${c.kind} ${c.name}`)).toEqual(['add @acme/base', 'add @acme/geo'])
    expect(readFileSync(join(work, 'app', 'app.yaml'), 'utf8')).toBe(`${app}plugins:\n  '@acme/geo': ^1.2.0\n`)
    const lock = JSON.parse(readFileSync(join(work, 'app', 'islet.lock'), 'utf8')) as { plugins: Record<string, { version: string }> }
    expect(Object.fromEntries(Object.entries(lock.plugins).map(([n, e]) => [n, e.version]))).toEqual({ '@acme/base': '1.0.0', '@acme/geo': '1.2.0' })
    const list = JSON.parse((await run(['plugin', 'list', '--format', 'json'])).stdout) as { plugins: { name: string; version: string }[] }
    expect(list.plugins.map((p) => `${p.name}@${p.version}`)).toEqual(['@acme/base@1.0.0', '@acme/geo@1.2.0'])
  })
})
