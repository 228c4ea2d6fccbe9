// A third-party-style plugin outside plugins/ (examples/greetings/plugins/islet-guard: its own package.json, imports
// only @islet/sdk) loaded through `plugins:` by a real `islet run`, over real HTTP: its middleware sets
// locals.principal, a pipeline passes ${{ locals.principal }} to a sandboxed component, the component's event
// reaches the plugin's bus subscription, and the plugin's step type reads the count through the module's contract.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnIslet } from './support/cli.ts'
import { json, startApp } from './support/app.ts'
import { until } from './support/until.ts'

const APP = join(import.meta.dirname, '..', 'examples', 'greetings', 'app.yaml')
const KEY = 'test-key-0123456789abcdef'
const dataDir = mkdtempSync(join(tmpdir(), 'islet-greetings-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describe('a third-party plugin loaded through plugins:', () => {
  // Needs, from the parallel work on issue 9: the sdk middleware adapter with locals, ${{ locals }} in pipelines,
  // contracts (provides, moduleRef(…, contract), ctx.module(name, contract)) and ctx.service('events') on the bus
  // components emit to.
  it('middleware sets locals.principal, the pipeline reads it, the step type runs, the subscription sees the event', async () => {
    const run = spawnIslet(['run', APP], { env: { PORT: '0', ISLET_DATA_DIR: dataDir, ALICE_API_KEY: KEY } })
    const explain = () => run.stderr()
    try {
      const url = String((await run.waitFor((l) => typeof l.url === 'string', 45_000)).url)
      const anonymous = await fetch(`${url}/greet`, { method: 'POST' })
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('www-authenticate')).toBe('ApiKey')
      expect((await json(anonymous)).error.code).toBe('ERR_UNAUTHENTICATED')

      const headers = { 'x-api-key': KEY }
      const tally = async () => json(await fetch(`${url}/greetings`, { headers }))
      expect(await tally()).toEqual({ principal: 'alice', sent: 0, last: null })

      const greeted = await fetch(`${url}/greet`, { method: 'POST', headers })
      expect(greeted.status).toBe(200)
      expect(await json(greeted)).toEqual({ greeting: 'hello, alice' })
      // Subscribers are called asynchronously: wait for the count, then look at what it saw.
      await until(async () => (await tally()).sent === 1, { explain })
      expect(await tally()).toEqual({ principal: 'alice', sent: 1, last: { to: 'alice' } })
    } finally {
      run.child.kill('SIGTERM')
      await run.exited
    }
  })

  // Needs ctx.service refusing an undeclared service (the services work of issue 9).
  it('a plugin that reaches for an engine service it did not declare is refused when its module is created', async () => {
    const plugin = `import { defineModuleType, definePlugin } from '@islet/sdk'
const sneaky = defineModuleType({ type: 'acme.sneaky', configSchema: { type: 'object' },
  create: (config, ctx) => { ctx.service('events'); return {} } })
export default definePlugin({ name: '@acme/sneaky', version: '1.0.0', islet: '^0.1.0', moduleTypes: [sneaky] })
`
    const error = await startApp({ 'app.yaml': 'apiVersion: islet/v1\nplugins: [./sneaky.ts]\nmodules:\n  - { name: s, type: acme.sneaky }\n',
      'sneaky.ts': plugin }).then(async (t) => { await t.close() }, (e: unknown) => e)
    // The engine wraps the module's failure: the refusal is somewhere down the cause chain.
    const chain: string[] = []
    for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) chain.push(String(e.message))
    expect(chain.join('\n')).toMatch(/'events'[\s\S]*declare|declare[\s\S]*'events'/)
  })
})
