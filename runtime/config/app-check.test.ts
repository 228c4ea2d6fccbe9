// The checkApp seam (sdk/app-check.ts) with a plugin of its own, as a third party would write one: what the view
// shows, where reports land, warnings against errors, and a plugin's own faults reported as ERR_PLUGIN_INVALID.
import { join } from 'node:path'
import { defineModuleType, definePlugin, defineStepType, moduleRef, defineContract, type AppView, type Plugin } from '@islet/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { createBuiltinRegistry } from '../builtins.ts'
import { writeFiles } from '../../test/support/files.ts'
import { loadConfig } from './load.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

const box = defineContract<{ put(): void }>('test.box', { put: 'function' })

/** A module type `test.box` (size) and a step `test.put` (box, size): a put larger than its box's size is an error. */
function boxPlugin(extra: Partial<Plugin> = {}, seen: { views: AppView[] } = { views: [] }): Plugin {
  const boxType = defineModuleType<{ size: number; open?: boolean }, { put(): void }>({
    type: 'test.box', provides: [box],
    configSchema: { type: 'object', additionalProperties: false, required: ['size'], properties: { size: { type: 'integer', minimum: 1 }, open: { type: 'boolean' } } },
    create: () => ({ put() {} }),
    checkApp(config, app, self) {
      seen.views.push(app)
      if (config.open) return
      for (const ref of app.referencesTo(self.name)) {
        app.report({ code: 'ERR_TEST_BOX_CLOSED', at: ref.from, path: [...ref.path], severity: 'warning', message: `box '${self.name}' is closed` })
      }
    },
  })
  const put = defineStepType<{ box: string; size: number }>({
    type: 'test.put',
    configSchema: { type: 'object', additionalProperties: false, required: ['box', 'size'], properties: { box: moduleRef('the box', box), size: { type: 'integer' } } },
    create: () => () => undefined,
    checkApp(config, app) {
      const target = app.module(config.box)
      const size = (target?.config as { size: number } | undefined)?.size
      if (size !== undefined && config.size > size) {
        app.report({ code: 'ERR_TEST_TOO_BIG', path: ['size'], message: `${config.size} does not fit box '${config.box}' (${size})`, hint: `at most ${size}` })
      }
    },
  })
  return definePlugin({ name: 'test-box', version: '1.0.0', moduleTypes: [boxType], stepTypes: [put], ...extra })
}

async function load(yaml: string, plugin: Plugin) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
  cleanups.push(cleanup)
  const registry = createBuiltinRegistry()
  registry.register(plugin)
  const file = join(dir, 'app.yaml')
  return { file, ...(await loadConfig(file, { registry, env: {} })) }
}

const APP = `apiVersion: islet/v1
modules:
  - name: small
    type: test.box
    config: { size: 2 }
  - name: big
    type: test.box
    config: { size: 10, open: true }
pipelines:
  p:
    steps:
      - type: test.put
        config: { box: small, size: 1 }
      - type: foreach
        config: { items: '\${{ input }}' }
        do:
          - type: test.put
            config: { box: small, size: 3 }
      - type: test.put
        config: { box: big, size: 11 }
`

describe('checkApp', () => {
  it("reports a step's problem at its config's file:line:col, also inside a block; an error fails the load", async () => {
    const { file, config, diagnostics } = await load(APP, boxPlugin())
    expect(config).toBeUndefined()
    const shown = diagnostics.map((d) => ({ severity: d.severity, code: d.code, line: d.line, col: d.col, path: d.path, hint: d.hint, file: d.file }))
    expect(shown).toEqual([
      { severity: 'warning', code: 'ERR_TEST_BOX_CLOSED', line: 13, col: 24, path: 'pipelines.p.steps.0.config.box', hint: undefined, file },
      { severity: 'warning', code: 'ERR_TEST_BOX_CLOSED', line: 18, col: 28, path: 'pipelines.p.steps.1.do.0.config.box', hint: undefined, file },
      { severity: 'error', code: 'ERR_TEST_TOO_BIG', line: 18, col: 41, path: 'pipelines.p.steps.1.do.0.config.size', hint: 'at most 2', file },
      { severity: 'error', code: 'ERR_TEST_TOO_BIG', line: 20, col: 35, path: 'pipelines.p.steps.2.config.size', hint: 'at most 10', file },
    ])
  })

  it('warnings alone keep the config; the view is read only and lists what is valid, in order', async () => {
    const seen = { views: [] as AppView[] }
    const { config, diagnostics } = await load(APP.replace('size: 3', 'size: 2').replace('size: 11', 'size: 9')
      .replace('  p:\n', '  bad:\n    steps: [{ type: test.put, config: { box: small, size: nope } }]\n  p:\n'), boxPlugin({}, seen))
    expect(diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['ERR_CONFIG_SCHEMA'])
    const view = seen.views[0]!
    // The step with an invalid config is not in the view, so no checkApp ever sees a config its schema refused.
    expect(view.steps('test.put').map((s) => [s.pipeline, s.name, (s.config as { size: number }).size])).toEqual([
      ['p', 'test.put#1', 1], ['p', 'test.put#1', 2], ['p', 'test.put#3', 9],
    ])
    expect(view.modules('test.box').map((m) => m.name)).toEqual(['small', 'big'])
    expect(view.module('small')).toMatchObject({ kind: 'module', type: 'test.box', source: { line: 3, column: 5 } })
    expect(view.referencesTo('small').map((r) => [r.from.kind, r.path])).toEqual([['step', ['box']], ['step', ['box']]])
    expect(() => { (view.module('small')!.config as { size: number }).size = 99 }).toThrow(TypeError)

    const valid = await load(APP.replace('size: 3', 'size: 2').replace('size: 11', 'size: 9'), boxPlugin())
    expect(valid.config).toBeDefined()
    expect(valid.diagnostics.map((d) => d.severity)).toEqual(['warning', 'warning'])
    expect(config).toBeUndefined()
  })

  it("a plugin's checkApp reports at any declaration it names; a throw or a malformed code is the plugin's fault", async () => {
    const plugin = boxPlugin({
      checkApp(app) {
        for (const c of app.components()) app.report({ code: 'ERR_TEST_SLOT', at: c, path: ['grants', 'emit', 0], severity: 'warning', message: `slot ${c.name}` })
        app.report({ code: 'not-a-code', at: app.module('big'), path: ['size'], message: 'bad code' })
      },
    })
    const { diagnostics } = await load(`${APP.replace('size: 3', 'size: 2').replace('size: 11', 'size: 9')}components:
  - slot: pricing
    grants: { emit: [prices.changed] }
`, plugin)
    // (The events plugin warns about that grant too, through the same seam.)
    expect(diagnostics.filter((d) => (d.code as string) === 'ERR_TEST_SLOT' || d.code === 'ERR_PLUGIN_INVALID').map((d) => [d.severity, d.code, d.line, d.path])).toEqual([
      ['error', 'ERR_PLUGIN_INVALID', 8, 'modules.1.config.size'],
      ['warning', 'ERR_TEST_SLOT', 23, 'components.0.grants.emit.0'],
    ])
    expect(diagnostics.find((d) => d.code === 'ERR_PLUGIN_INVALID')!.message)
      .toBe("plugin test-box@1.0.0 reported a problem with code 'not-a-code', not an ERR_* code: bad code")

    const throwing = boxPlugin()
    const put = throwing.stepTypes![0]!
    const broken = { ...throwing, stepTypes: [{ ...put, checkApp() { throw new Error('boom') } }] }
    const thrown = await load(APP, broken)
    expect(thrown.diagnostics.filter((d) => d.code === 'ERR_PLUGIN_INVALID').map((d) => [d.line, d.path, d.message])).toEqual([
      [12, 'pipelines.p.steps.0.type', "step type 'test.put' threw while checking the app: boom"],
      [17, 'pipelines.p.steps.1.do.0.type', "step type 'test.put' threw while checking the app: boom"],
      [19, 'pipelines.p.steps.2.type', "step type 'test.put' threw while checking the app: boom"],
    ])
  })
})
