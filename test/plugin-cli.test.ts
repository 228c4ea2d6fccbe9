// `islet plugin …`: the edits to app.yaml keep everything the author wrote (comments, order, spacing, quoting) and
// change only the entry; command-line mistakes are usage errors (exit 2) that say how to write it, before any
// registry is asked; a change is never made off a terminal without --yes; --format json carries the same data.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { IsletError } from '../runtime/errors.ts'
import { confirm } from '../runtime/cli/confirm.ts'
import { parsePluginSpec } from '../runtime/cli/plugin-spec.ts'
import { pluginEntries, readAppYaml, removePluginEntry, setPluginEntry } from '../runtime/cli/plugins-yaml.ts'
import { islet } from './support/cli.ts'
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
  })

  it('refuses the list form of plugins: with where it is and what to write instead', () => {
    withApp('apiVersion: islet/v1\nplugins:\n  - ./plugins/local\n', (file) => {
      const app = readAppYaml(file)
      expect(() => setPluginEntry(app, '@acme/geo', { range: '^1.0.0' })).toThrow(`${file}:3:3: plugins: is in the list form`)
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

  it('a name npm would refuse, --services without --host, and yank without one exact version', () => {
    withApp(APP, (file, dir) => {
      const name = islet(['plugin', 'add', '@Acme/Geo', file], { cwd: dir })
      expect(name.status).toBe(2)
      expect(name.stderr).toContain("did you mean '@acme/geo'? npm names are lower case")
      const services = islet(['plugin', 'add', '@acme/geo', '--services', 'events', file], { cwd: dir })
      expect(services.status).toBe(2)
      expect(services.stderr).toContain('--services grants engine services to host code: pass --host with it')
      const yank = islet(['plugin', 'yank', '@acme/geo@^1.2.0'], { cwd: dir })
      expect(yank.status).toBe(2)
      expect(yank.stderr).toContain("islet plugin yank needs one exact version: @acme/geo@1.2.3, not '@acme/geo@^1.2.0'")
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

  it('every plugin and registry command answers --help with its usage, options and examples', () => {
    const commands = [['plugin', 'add'], ['plugin', 'remove'], ['plugin', 'upgrade'], ['plugin', 'list'], ['plugin', 'vendor'], ['plugin', 'yank'], ['plugin', 'unyank'],
      ['registry', 'serve'], ['registry', 'user', 'add'], ['registry', 'token', 'create'], ['registry', 'token', 'revoke'], ['registry', 'token', 'list']]
    for (const command of commands) {
      const r = islet([...command, '--help'])
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
