// Test support: the plugin packages and apps test/registry-plugins*.test.ts share: @acme/geo (a component, a YAML
// file to import), @acme/shout (host code adding a step type), apps using them over HTTP, and the helpers that
// locate a diagnostic in the YAML it is about.
import { join } from 'node:path'
import { createBuiltinRegistry } from '../../runtime/builtins.ts'
import type { Diagnostic } from '../../runtime/config/diagnostics.ts'
import { loadConfig } from '../../runtime/config/load.ts'
import { json } from './app.ts'
import type { PluginFixture } from './registry-plugin.ts'

export const load = (dir: string, frozenLockfile = false) =>
  loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {}, dataDir: join(dir, 'data'), frozenLockfile })

/** Where `needle` (its first occurrence) starts in `text`, 1-based. */
export function at(text: string, needle: string): { line: number; col: number } {
  const i = text.indexOf(needle)
  if (i < 0) throw new Error(`'${needle}' not in the text`)
  const before = text.slice(0, i)
  return { line: before.split('\n').length, col: i - before.lastIndexOf('\n') }
}

export const errors = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.severity === 'error')

/** A component that answers with the plugin version it ships in. */
export const geocode = (version: string) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'geocode',
  execute: (input: { q: string }) => ({ place: input.q.toUpperCase(), by: 'geocode ${version}' }),
})
`

export function geo(version = '1.0.0', islet: Record<string, unknown> = {}): PluginFixture {
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

export const SHOUT_HOST = (version: string) => `import { definePlugin, defineStepType } from '@islet/sdk'
const shout = defineStepType({
  type: 'acme.shout',
  configSchema: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string' } } },
  create: (config) => () => ({ shouted: config.text.toUpperCase(), by: 'shout ${version}' }),
})
export default definePlugin({ name: '@acme/shout', version: '${version}', islet: '^0.1.0', stepTypes: [shout] })
`

export function shout(islet: Record<string, unknown> = {}, version = '2.0.0'): PluginFixture {
  return { name: '@acme/shout', version, islet: { engine: '^0.1.0', host: 'dist/plugin.js', ...islet },
    files: { 'dist/plugin.js': SHOUT_HOST(version) } }
}

export const WEB = (routes: string) => `modules:
  - name: api
    type: http.router
    config:
      routes: [${routes}]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
`

export const GEO_APP = (grants = "{ emit: ['geo.*'] }", plugins = "  '@acme/geo': ^1.0.0\n") => `apiVersion: islet/v1
plugins:
${plugins}components:
  - { plugin: '@acme/geo', component: geocode, grants: ${grants} }
${WEB('{ method: POST, path: /geo, pipeline: geo }')}pipelines:
  geo:
    steps: [{ type: component, config: { component: geocode } }]
`

export const post = async (url: string, body: unknown) =>
  json(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))


export const SHOUT_APP = (entry: string) => `apiVersion: islet/v1\nplugins:\n  '@acme/shout': ${entry}\n${WEB('{ method: GET, path: /shout, pipeline: shout }')}pipelines:
  shout:
    steps:
      - { name: s, type: acme.shout, config: { text: hi } }
      - { type: respond, config: { body: '\${{ steps.s }}' } }
`
