// `islet dev` as a user runs it: a real process watching real files; each save is one printed line, a broken save
// changes nothing, and the app keeps answering throughout.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spawnIslet } from './support/cli.ts'
import { writeFiles } from './support/app.ts'
import { until } from './support/until.ts'

const component = (factor: number, broken = '') => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'calc',
  examples: [{ input: 1, output: ${factor} }],
  execute: (n: number) => n * ${factor}${broken},
})
`
const app = (greeting: string) => `apiVersion: islet/v1
components:
  - file: ./calc.ts
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /calc, pipeline: calc }
        - { method: GET, path: /hello, pipeline: hello }
  - name: web
    type: http.server
    config:
      port: 0
      routers: [api]
pipelines:
  calc:
    steps: [{ type: component, config: { component: calc } }]
  hello:
    steps: [{ type: respond, config: { body: { greeting: ${greeting} } } }]
`

describe('islet dev', () => {
  it('reloads a component and the YAML on save, prints a line each, and rejects broken saves without breaking serving', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': app('hi'), 'calc.ts': component(2) })
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
    try {
      const url = String((await dev.waitFor((l) => typeof l.url === 'string')).url)
      await dev.waitFor((l) => String(l.raw ?? '').startsWith('watching'))
      const calc = async () => (await fetch(`${url}/calc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '5' })).json()
      expect(await calc()).toBe(10)

      writeFileSync(join(dir, 'calc.ts'), component(3))
      const reloaded = await dev.waitFor((l) => /^calc reloaded in \d+ ms \(generation 2\)$/.test(String(l.raw ?? '')))
      expect(reloaded).toBeDefined()
      expect(await calc()).toBe(15)

      writeFileSync(join(dir, 'calc.ts'), component(4, ' +'))
      await until(() => /calc reload failed; generation 2 keeps serving:\n.*calc\.ts:\d+:\d+ error ERR_COMPONENT_SYNTAX/.test(dev.stderr()), { explain: dev.stderr })
      expect(await calc()).toBe(15) // the broken save changed nothing

      writeFileSync(join(dir, 'app.yaml'), app('hello'))
      await dev.waitFor((l) => /^config reloaded in \d+ ms \(generation 2\)/.test(String(l.raw ?? '')))
      expect(await (await fetch(`${url}/hello`)).json()).toEqual({ greeting: 'hello' })

      writeFileSync(join(dir, 'app.yaml'), app('hello').replace('type: http.router', 'type: http.ruter'))
      await until(() => /config change rejected; the running generation keeps serving:\n.*app\.yaml:\d+:\d+ error ERR_CONFIG_UNKNOWN_MODULE_TYPE .*http\.ruter/.test(dev.stderr()), { explain: dev.stderr })
      expect(await (await fetch(`${url}/hello`)).json()).toEqual({ greeting: 'hello' })
      expect(await calc()).toBe(15)

      // One line per event: the log does not say any of these a second time.
      const repeats = dev.logs.filter((l) => typeof l.msg === 'string' && /reload|rejected|generation \d+ (serving|swapped|applied)/.test(l.msg))
      expect(repeats).toEqual([])
      expect(dev.stderr().match(/config change rejected/g)).toHaveLength(1)
    } finally {
      dev.child.kill('SIGTERM')
      expect(await dev.exited).toBe(0)
      cleanup()
    }
  })

  it('an app that does not load at start is reported, and started by the save that fixes it', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': app('hi').replace('type: http.router', 'type: http.ruter'), 'calc.ts': component(2) })
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
    try {
      await until(() => /ERR_CONFIG_UNKNOWN_MODULE_TYPE[\s\S]*nothing was started; fix it and save: dev tries again/.test(dev.stderr()), { explain: dev.stderr })
      writeFileSync(join(dir, 'app.yaml'), app('fixed'))
      const url = String((await dev.waitFor((l) => typeof l.url === 'string')).url)
      expect(await (await fetch(`${url}/hello`)).json()).toEqual({ greeting: 'fixed' })
    } finally {
      dev.child.kill('SIGTERM')
      await dev.exited
      cleanup()
    }
  })
})
