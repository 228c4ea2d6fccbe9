// The config watcher: edits to imported files are noticed, imports added later are watched, and an invalid edit
// is reported with the same diagnostics `islet validate` prints while the running generation keeps serving.
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { json, startApp } from './support/app.ts'
import { startWatching } from '../runtime/cli/watch.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { until } from './support/until.ts'
import { writeFiles } from './support/files.ts'

const root = (imports: string[]) => `apiVersion: islet/v1
imports: [${imports.join(', ')}]
modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: GET, path: /hello, pipeline: hello }]
  - name: web
    type: http.server
    config:
      port: 0
      routers: [api]
`
const pipelines = (greeting: string) => `apiVersion: islet/v1
pipelines:
  hello:
    steps: [{ type: respond, config: { body: { greeting: ${greeting} } } }]
`

let said: string[] = []
const explain = () => `said: ${JSON.stringify(said)}`

describe('config watcher', () => {
  it('reloads on an imported file, watches imports added later, and rejects an invalid edit with located errors', async () => {
    const t = await startApp({ 'app.yaml': root(['./pipelines.yaml']), 'pipelines.yaml': pipelines('one') })
    said = []
    const stop = await startWatching({
      engine: t.engine, file: join(t.dir, 'app.yaml'), registry: createBuiltinRegistry(), logger: silentLogger(),
      say: (line) => said.push(line),
    })
    const greeting = async () => (await json(await fetch(`${t.url}/hello`))).greeting
    try {
      writeFileSync(join(t.dir, 'pipelines.yaml'), pipelines('two'))
      await until(async () => (await greeting()) === 'two', { explain })

      // Move the pipeline to a new imported file: the watcher must follow the new import.
      writeFileSync(join(t.dir, 'more.yaml'), pipelines('three'))
      writeFileSync(join(t.dir, 'pipelines.yaml'), 'apiVersion: islet/v1\n')
      writeFileSync(join(t.dir, 'app.yaml'), root(['./pipelines.yaml', './more.yaml']))
      await until(async () => (await greeting()) === 'three', { explain })
      writeFileSync(join(t.dir, 'more.yaml'), pipelines('four'))
      await until(async () => (await greeting()) === 'four', { explain })

      writeFileSync(join(t.dir, 'more.yaml'), pipelines('five').replace('type: respond', 'type: respnd'))
      await until(async () => said.some((l) => l.startsWith('config change rejected')), { explain })
      const rejected = said.find((l) => l.startsWith('config change rejected'))!
      expect(rejected).toMatch(/more\.yaml:4:\d+ error ERR_CONFIG_UNKNOWN_STEP_TYPE .*respnd.*did you mean 'respond'/)
      expect(await greeting()).toBe('four')
    } finally {
      await stop()
      await t.close()
    }
  })

  it('confines a reloaded config as at start: an import leading outside is rejected, a database in the data directory is taken', async () => {
    const t = await startApp({ 'app.yaml': root(['./pipelines.yaml']), 'pipelines.yaml': pipelines('one') })
    const outside = writeFiles({ 'evil.yaml': pipelines('stolen') })
    symlinkSync(join(outside.dir, 'evil.yaml'), join(t.dir, 'evil.yaml'))
    said = []
    const stop = await startWatching({
      engine: t.engine, file: join(t.dir, 'app.yaml'), registry: createBuiltinRegistry(), logger: silentLogger(),
      say: (line) => said.push(line), dataDir: join(t.dir, 'data'),
    })
    const greeting = async () => (await json(await fetch(`${t.url}/hello`))).greeting
    try {
      writeFileSync(join(t.dir, 'app.yaml'), root(['./evil.yaml']))
      await until(async () => said.some((l) => l.startsWith('config change rejected')), { explain })
      expect(said.find((l) => l.startsWith('config change rejected'))).toMatch(/app\.yaml:2:\d+ error ERR_CONFIG_PATH_OUTSIDE/)
      expect(await greeting()).toBe('one')

      // An absolute path is only known to be inside once the data directory is: the watcher checks with the engine's.
      const db = `  - name: db\n    type: storage.sqlite\n    config: { file: ${join(t.dir, 'data', 'app.db')} }\n`
      writeFileSync(join(t.dir, 'pipelines.yaml'), pipelines('two'))
      writeFileSync(join(t.dir, 'app.yaml'), root(['./pipelines.yaml']) + db)
      await until(async () => (await greeting()) === 'two', { explain })
    } finally {
      await stop()
      await t.close()
      outside.cleanup()
    }
  })
})
