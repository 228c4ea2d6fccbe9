// What `islet` loads to start an app: the registry's code only when the app uses it. The registry client (with
// undici, ~110 modules) and the embedded registry server (SQLite store, publish checks and their ajv schemas) were
// imported by every start through static imports, a plugin-less app's included; `npm run bench` §15 measures what
// that costs. Observed from the outside: the real command under a resolve hook that lists every module it loads.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { islet } from './support/cli.ts'
import { lockPlugin } from './support/registry-plugin.ts'

const PIPELINE = `pipelines:
  p:
    steps:
      - { type: respond, config: { body: ok } }
`

let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'islet-start-imports-'))
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Runs `islet validate <app>` under a hook that records every module URL resolved; returns them (and the result). */
function validateRecording(app: string) {
  const hook = join(dir, 'record-hook.mjs')
  const log = join(dir, 'modules.log')
  writeFileSync(hook, `import { registerHooks } from 'node:module'
import { appendFileSync } from 'node:fs'
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r } })
`)
  writeFileSync(log, '')
  const result = islet(['validate', app, '--data-dir', join(dir, 'data')], { env: { NODE_OPTIONS: `--import ${pathToFileURL(hook).href}` } })
  return { result, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) }
}

const under = (modules: string[], part: string) => modules.filter((url) => url.includes(part))

describe('start-up imports', () => {
  it('an app without registry plugins loads none of the registry client, the embedded registry or undici', () => {
    writeFileSync(join(dir, 'app.yaml'), `apiVersion: islet/v1\n${PIPELINE}`)
    const { result, modules } = validateRecording(join(dir, 'app.yaml'))
    expect(result.status, result.stderr).toBe(0)
    expect(under(modules, '/runtime/config/plugins.ts')).not.toEqual([]) // the hook saw the config loader
    expect(under(modules, '/registry/client/')).toEqual([])
    expect(under(modules, '/registry/server/')).toEqual([])
    expect(under(modules, '/node_modules/undici/')).toEqual([])
  })

  it('an app whose locked plugins are vendored loads the client to verify them, but no embedded registry and no undici', async () => {
    const app = join(dir, 'app')
    mkdirSync(app)
    await lockPlugin(app, join(dir, 'data'), { name: '@acme/yaml-only', version: '1.0.0', islet: { engine: '>=0.1.0', yaml: ['pipelines.yaml'] },
      files: { 'pipelines.yaml': PIPELINE } })
    writeFileSync(join(app, 'app.yaml'), `apiVersion: islet/v1\nplugins:\n  '@acme/yaml-only': ^1.0.0\n${PIPELINE}`)
    const { result, modules } = validateRecording(join(app, 'app.yaml'))
    expect(result.status, result.stderr).toBe(0)
    expect(under(modules, '/registry/client/materialize.ts')).not.toEqual([])
    expect(under(modules, '/registry/server/')).toEqual([])
    expect(under(modules, '/node_modules/undici/')).toEqual([])
  })
})
