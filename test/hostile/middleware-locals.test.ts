// Middleware is plugin code: a careless one must not take the engine down nor turn the pipeline's run into an
// internal error nobody can place. Locals hold JSON values (README); one that is not (a BigInt, a cycle, a function,
// a Date or a Map) is refused when the middleware passes the request on, naming the middleware and the value in the
// log; an onFinish listener that throws is logged, never an uncaught exception. Real HTTP on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineModuleType, definePlugin, httpMiddleware, type HttpMiddleware, type MiddlewareProvider } from '@islet/sdk'
import { json, startApp, type TestApp } from '../support/app.ts'
import { until } from '../support/until.ts'

const cycle: Record<string, unknown> = { a: 1 }
cycle.self = cycle
const ODD: Record<string, unknown> = { bigint: 10n, cycle, fn: () => 1, date: new Date(0), map: new Map([[1, 2]]) }
const finished: string[] = []

const careless = definePlugin({
  name: '@acme/careless', version: '1.0.0',
  moduleTypes: [defineModuleType<Record<string, never>, MiddlewareProvider>({
    type: 'acme.careless', provides: [httpMiddleware], configSchema: { type: 'object' },
    create() {
      const middleware: HttpMiddleware = async (http, next) => {
        const kind = http.request.path.slice(1)
        if (kind in ODD) http.locals.odd = { deep: [ODD[kind]] }
        else http.locals.fine = { user: 'ada', tags: ['a'], missing: undefined, n: 1.5, ok: true, none: null }
        if (kind === 'finish') {
          http.onFinish(() => { throw new Error('a listener bug') })
          http.onFinish((sent) => { finished.push(String(sent.status)) })
        }
        await next()
      }
      return { middleware }
    },
  })],
})

const ECHO = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'echo', async execute(input: unknown) { return { got: input } } })
`
const APP = `
apiVersion: islet/v1
components:
  - file: ./echo.ts
modules:
  - name: careless
    type: acme.careless
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: '/:kind', pipeline: echo }
  - name: web
    type: http.server
    config: { port: 0, middleware: [careless], routers: [api] }
pipelines:
  echo:
    steps:
      - { name: e, type: component, config: { component: echo, input: "\${{ 'x' + json(locals) }}" } }
      - { type: respond, config: { body: '\${{ steps.e.got }}' } }
`

describe('middleware locals and listeners', () => {
  let app: TestApp
  beforeAll(async () => { app = await startApp({ 'app.yaml': APP, 'echo.ts': ECHO }, { plugins: [careless] }) })
  afterAll(async () => { await app?.close() })

  it.each(Object.keys(ODD))('a %s in locals is a 500 ERR_HTTP_LOCALS_INVALID, not an internal error or a silent drop', async (kind) => {
    const res = await fetch(`${app.url}/${kind}`)
    expect(res.status).toBe(500)
    expect((await json(res)).error.code).toBe('ERR_HTTP_LOCALS_INVALID')
  })

  it('JSON values pass (an undefined member is absent, as in JSON)', async () => {
    const res = await fetch(`${app.url}/json`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(`x${JSON.stringify({ fine: { user: 'ada', tags: ['a'], n: 1.5, ok: true, none: null } })}`)
  })

  it('an onFinish listener that throws is logged; the others run and the engine serves on', async () => {
    const res = await fetch(`${app.url}/finish`)
    expect(res.status).toBe(200)
    await until(() => finished.length === 1)
    expect(finished).toEqual(['200'])
    expect((await fetch(`${app.url}/json`)).status).toBe(200)
  })
})
