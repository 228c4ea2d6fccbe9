// Hot reload under load, through the real watchers: a component file rewritten 50 times and the YAML reloaded 5
// times while concurrent keep-alive clients hit a route that calls the component. No request may fail, and every
// response must come from one complete generation of each (never a mix).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { json, startApp } from './support/app.ts'
import { until } from './support/until.ts'
import { startWatching } from '../runtime/cli/watch.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { silentLogger } from '../runtime/log/logger.ts'

/** A component whose output carries its version twice, from two places in its code: a mix would show two values. */
const component = (v: number) => `import { defineComponent } from '@islet/sdk'
const VERSION = 'c${v}'
export default defineComponent({
  name: 'calc',
  examples: [{ input: 1, output: { a: 'c${v}', b: 'c${v}', n: 2 } }],
  execute: (n: number) => ({ a: VERSION, b: version(), n: n * 2 }),
})
function version() { return 'c${v}' }
`
/** The app, whose version appears in two different steps of the pipeline. */
const app = (v: number) => `apiVersion: islet/v1
components:
  - file: ./calc.ts
modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /calc, pipeline: calc }]
  - name: web
    type: http.server
    config:
      port: 0
      routers: [api]
pipelines:
  calc:
    steps:
      - { name: cfg, type: set, config: { value: g${v} } }
      - { name: out, type: component, config: { component: calc } }
      - type: respond
        config: { body: { configA: '\${{ steps.cfg }}', configB: g${v}, component: '\${{ steps.out }}' } }
`

describe('hot reload under load', () => {
  it('50 component rewrites and 5 config reloads: zero failed requests, no mixed generations, the last content live', async () => {
    const t = await startApp({ 'app.yaml': app(0), 'calc.ts': component(0) })
    const stop = await startWatching({
      engine: t.engine, file: join(t.dir, 'app.yaml'), registry: createBuiltinRegistry(), logger: silentLogger(), say: () => {},
    })
    const failures: string[] = []
    let responses = 0
    const configs = new Set<string>()
    let writing = true
    const client = async () => {
      while (writing) {
        try {
          const res = await fetch(`${t.url}/calc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '1' })
          const body = await json(res)
          responses++
          if (res.status !== 200) failures.push(`status ${res.status}: ${JSON.stringify(body)}`)
          else if (body.configA !== body.configB || body.component.a !== body.component.b) failures.push(`mixed: ${JSON.stringify(body)}`)
          else configs.add(body.configA)
        } catch (error) {
          failures.push(`request failed: ${(error as Error).message}`)
        }
      }
    }
    const clients = Array.from({ length: 8 }, client)
    // Paced by the traffic, not by a clock: each write waits for requests served since the one before, and each
    // config write for its generation to be live and answering, so every reload really happens under load.
    for (let i = 1; i <= 50; i++) {
      const seen = responses
      writeFileSync(join(t.dir, 'calc.ts'), component(i))
      if (i % 10 === 0) {
        writeFileSync(join(t.dir, 'app.yaml'), app(i / 10))
        await until(() => configs.has(`g${i / 10}`), { ms: 15_000 })
      }
      await until(() => responses > seen, { ms: 15_000 })
    }
    // The last content must become live; the clients keep hitting the app meanwhile.
    let last: any
    await until(async () => {
      last = await json(await fetch(`${t.url}/calc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '1' }))
      return last.component?.a === 'c50' && last.configA === 'g5'
    }, { ms: 15_000 })
    writing = false
    await Promise.all(clients)
    await stop()
    expect(failures).toEqual([])
    expect([...configs].sort()).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5'])
    expect(last).toMatchObject({ configA: 'g5', configB: 'g5', component: { a: 'c50', b: 'c50', n: 2 } })
    expect(t.engine.status()).toMatchObject({ generation: 6 })
    await t.close()
  })
})
