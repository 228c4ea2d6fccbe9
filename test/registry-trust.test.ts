// Red-team of the runtime's trust rules for registry plugins: what a package's own YAML may and may not do once the
// app imports it. The app grants; a plugin's file never does (nor reads the app's environment, nor sets the sandbox).
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import type { Diagnostic } from '../runtime/config/diagnostics.ts'
import { loadConfig } from '../runtime/config/load.ts'
import { NO_GRANTS } from '../runtime/config/component-schema.ts'
import { writeFiles } from './support/files.ts'
import { lockPlugin, type PluginFixture } from './support/registry-plugin.ts'

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

async function load(plugin: PluginFixture, env: Record<string, string> = {}) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': APP })
  cleanups.push(cleanup)
  lockPlugin(dir, join(dir, 'data'), plugin)
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
