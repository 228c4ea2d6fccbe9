// loadConfig end to end: the frozen result, its hash, references, locations, and failures reported all at once.
import { symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { defineModuleType, definePlugin } from '@islet/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestRegistry } from '../../test/support/config-plugin.ts'
import { loadConfig } from './load.ts'
import { writeFiles } from '../../test/support/files.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

function write(files: Record<string, string>): string {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return join(dir, 'app.yaml')
}

const APP = `apiVersion: islet/v1
modules:
  - name: db
    type: storage.sqlite
    config: { file: "\${DB_FILE:-app.db}" }
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /orders, pipeline: list }]
  - name: web
    type: http.server
    dependsOn: [db]
    config: { routers: [api] }
pipelines:
  list:
    description: Every order.
    steps:
      - name: rows
        type: sql.query
        config: { db: db, sql: SELECT 1 }
      - if: \${{ length(steps.rows) == 0 }}
        then:
          - type: respond
            config: { status: 404 }
      - type: respond
        config: { body: '\${{ steps.rows }}' }
`

const load = (file: string, env: Record<string, string> = {}) => loadConfig(file, { registry: createTestRegistry(), env })

describe('loadConfig', () => {
  it('returns a deep-frozen config with references, names and source locations', async () => {
    const file = write({ 'app.yaml': APP })
    const { config, diagnostics } = await load(file)
    expect(diagnostics).toEqual([])
    const [db, api, web] = config!.modules
    expect(web).toMatchObject({ name: 'web', dependsOn: ['db'], refs: { modules: ['api'], pipelines: [] },
      source: { file, line: 10, col: 5 } })
    expect(api!.refs).toEqual({ modules: [], pipelines: ['list'], components: [] })
    expect(db!.config).toEqual({ file: 'app.db', timeoutMs: 5000 })
    const list = config!.pipelines.list!
    expect(list).toMatchObject({ description: 'Every order.', source: { line: 15, col: 3 } })
    expect(list.steps.map((s) => s.name)).toEqual(['rows', 'if#2', 'respond#3'])
    expect(list.steps[0]).toMatchObject({ kind: 'step', refs: { modules: ['db'] }, source: { line: 18, col: 9 } })
    expect(list.steps[1]).toMatchObject({ kind: 'if', condition: '${{ length(steps.rows) == 0 }}', else: [] })

    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(db!.config)).toBe(true)
    expect(Object.isFrozen(list.steps[1])).toBe(true)
    expect(() => { (web!.dependsOn as string[]).push('x') }).toThrow(TypeError)
  })

  it('hashes files and interpolated values: same inputs, same hash; any change, another', async () => {
    const file = write({ 'app.yaml': APP })
    const a = (await load(file)).config!.hash
    expect((await load(file)).config!.hash).toBe(a)
    expect((await load(file, { DB_FILE: 'other.db' })).config!.hash).not.toBe(a)
    expect((await load(file, { UNRELATED: 'x' })).config!.hash).toBe(a)
    writeFileSync(file, `${APP}# a comment changes the file\n`)
    expect((await load(file)).config!.hash).not.toBe(a)
  })

  it('validates each module\'s own copy of a config shared through a YAML alias', async () => {
    const file = write({ 'app.yaml': 'apiVersion: islet/v1\nmodules:\n  - { name: web, type: http.server, config: &c {} }\n' +
      '  - { name: cache, type: cache.memory, config: *c }\n' })
    const { config, diagnostics } = await load(file)
    expect(diagnostics).toEqual([])
    expect(config!.modules[1]!.config).toEqual({})
    expect(config!.modules[0]!.config).toMatchObject({ port: 8080 })
  })

  it('loads a file reached through a symlink and a relative path once', async () => {
    const file = write({
      'app.yaml': 'apiVersion: islet/v1\nimports: [./shared/db.yaml, ./link.yaml]\n',
      'shared/db.yaml': 'apiVersion: islet/v1\nmodules: [{ name: db, type: storage.sqlite, config: { file: a.db } }]\n',
    })
    symlinkSync(join(dirname(file), 'shared', 'db.yaml'), join(dirname(file), 'link.yaml'))
    const { config, diagnostics } = await load(file)
    expect(diagnostics).toEqual([])
    expect(config!.files).toHaveLength(2)
  })

  it('reports a missing root file at the file itself', async () => {
    const { config, diagnostics } = await load(join(write({}), '..', 'absent.yaml'))
    expect(config).toBeUndefined()
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_FILE_NOT_FOUND', line: 1, col: 1 }])
  })

  it('blames the plugin, at the module type, when its config schema does not compile', async () => {
    const registry = createTestRegistry()
    registry.register(definePlugin({ name: 'broken', version: '2.0.0', moduleTypes: [defineModuleType({
      type: 'broken.thing', configSchema: { type: 'object', properties: { a: { type: 'strng' } } }, create: () => ({}),
    })] }))
    const file = write({ 'app.yaml': 'apiVersion: islet/v1\nmodules:\n  - name: t\n    type: broken.thing\n' })
    const { diagnostics } = await loadConfig(file, { registry, env: {} })
    expect(diagnostics).toMatchObject([{ code: 'ERR_PLUGIN_INVALID', line: 4, col: 11,
      message: expect.stringContaining('broken@2.0.0') }])
  })

  it('reports everything wrong at once, across files and kinds of problem, sorted by place', async () => {
    const file = write({
      'app.yaml': `apiVersion: islet/v1
imports: [./more.yaml]
modules:
  - name: web
    type: http.server
    config:
      port: \${PORT}
      hots: x
      routers: [nope]
  - name: db
    type: storage.sqlit
`,
      'more.yaml': `apiVersion: islet/v1
pipelines:
  p:
    steps:
      - type: log
        config: { message: "\${{ 1 + }}" }
      - type: nope
`,
    })
    const { config, diagnostics } = await load(file)
    expect(config).toBeUndefined()
    expect(diagnostics.map((d) => `${d.file.endsWith('more.yaml') ? 'more' : 'app'}:${d.line}:${d.col} ${d.code}`)).toEqual([
      'app:7:13 ERR_CONFIG_ENV_MISSING',
      'app:8:7 ERR_CONFIG_UNKNOWN_KEY',
      'app:9:17 ERR_CONFIG_UNKNOWN_REFERENCE',
      'app:11:11 ERR_CONFIG_UNKNOWN_MODULE_TYPE',
      'more:6:37 ERR_CONFIG_EXPRESSION', // the '}}' where an operand should be
      'more:7:15 ERR_CONFIG_UNKNOWN_STEP_TYPE',
    ])
  })
})
