// Plugin-registered expression functions end to end: a real plugin object in the app's registry, its functions called
// from pipelines over real HTTP, its contract enforced, and an unknown `area.name(…)` reported at config load.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineFunction, definePlugin } from '@islet/sdk'
import { loadConfig } from '../runtime/config/load.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { json, startApp, writeFiles, type TestApp } from './support/app.ts'

const money = definePlugin({
  name: '@acme/money', version: '1.0.0', islet: '^0.1.0',
  functions: [
    defineFunction({
      name: 'money.cents', minArgs: 1, description: 'an amount in cents',
      call(amount) {
        if (typeof amount !== 'number') throw new Error(`an amount is a number, not ${JSON.stringify(amount)}`)
        return Math.round(amount * 100)
      },
    }),
    defineFunction({
      name: 'money.total', minArgs: 1, maxArgs: 2,
      // Sees frozen copies: writing to its argument must fail, never reach the request.
      call(lines, currency = 'EUR') {
        const list = lines as { price: number }[]
        let mutated = true
        try { (list as unknown as unknown[]).push({ price: 1 }) } catch { mutated = false }
        return { total: list.reduce((sum, l) => sum + l.price, 0), currency, mutated }
      },
    }),
    defineFunction({ name: 'money.later', minArgs: 0, call: () => Promise.resolve(1) }),
  ],
})

const APP = `
apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /price, pipeline: price }
        - { method: POST, path: /later, pipeline: later }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  price:
    steps:
      - name: priced
        type: set
        config:
          value:
            cents: '\${{ map(body.lines, l => money.cents(l.price)) }}'
            sum: '\${{ money.total(body.lines, "USD") }}'
            lines: '\${{ length(body.lines) }}'
  later:
    steps:
      - type: set
        config: { value: '\${{ money.later() }}' }
`

describe('plugin expression functions', () => {
  let app: TestApp
  beforeAll(async () => { app = await startApp({ 'app.yaml': APP }, { plugins: [money] }) })
  afterAll(() => app?.close())

  const post = (path: string, body: unknown) => fetch(`${app.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })

  it('are called from pipelines, inside lambdas too, on frozen copies of the data', async () => {
    const res = await post('/price', { lines: [{ price: 1.5 }, { price: 2.25 }] })
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ cents: [150, 225], sum: { total: 3.75, currency: 'USD', mutated: false }, lines: 2 })
  })

  it('an error the function throws is ERR_EXPRESSION_EVAL naming the function, the expression and the value', async () => {
    const res = await post('/price', { lines: [{ price: 'free' }] })
    expect(res.status).toBe(500)
    const line = app.logs.find((l) => (l.err as { code?: string } | undefined)?.code === 'ERR_EXPRESSION_EVAL')
    const message = String((line!.err as { message: string }).message)
    expect(message).toContain('money.cents() failed: an amount is a number, not "free"')
    expect(message).toContain('(called with array ["free"])')
    expect(message).toContain('${{ map(body.lines, l => money.cents(l.price)) }}')
  })

  it('a promise is refused: expression functions are synchronous', async () => {
    const res = await post('/later', {})
    expect(res.status).toBe(500)
    const line = app.logs.find((l) => String((l.err as { message?: string } | undefined)?.message).includes('money.later() returned a promise'))
    expect(line).toBeDefined()
  })
})

describe('calls of plugin functions are checked when the config loads', () => {
  it('an unknown or misspelt one is reported at its file:line:col with a did-you-mean, and a wrong arity too', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1
pipelines:
  p:
    steps:
      - type: set
        config: { value: '\${{ money.cent(body.x) }}' }
      - type: set
        config: { value: '\${{ money.total() }}' }
      - type: set
        config: { value: '\${{ geo.distance(1, 2) }}' }
` })
    try {
      const registry = createBuiltinRegistry()
      registry.register(money)
      const { diagnostics } = await loadConfig(join(dir, 'app.yaml'), { registry, env: {} })
      expect(diagnostics.map((d) => [d.line, d.col, d.code, d.message, d.hint])).toEqual([
        [6, 31, 'ERR_CONFIG_EXPRESSION', "unknown function 'money.cent'", "did you mean 'money.cents'?"],
        [8, 31, 'ERR_CONFIG_EXPRESSION', 'money.total() takes 1 to 2 arguments, got 0', undefined],
        [10, 31, 'ERR_CONFIG_EXPRESSION', "unknown function 'geo.distance'", 'the plugin functions are money.cents, money.total, money.later'],
      ])
      // Without the plugin, the same file names what is missing.
      const bare = await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} })
      expect(bare.diagnostics[0]).toMatchObject({ line: 6, message: "unknown function 'money.cent'", hint: expect.stringContaining('no plugin registers functions') })
    } finally {
      cleanup()
    }
  })
})

describe('lambda syntax errors are reported when the config loads', () => {
  it('at their file:line:col, like any other expression error', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1
pipelines:
  p:
    steps:
      - type: set
        config: { value: '\${{ map(body.xs, x =>) }}' }
      - type: set
        config: { value: '\${{ map(body.xs, body => body.id) }}' }
` })
    try {
      const { diagnostics } = await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} })
      expect(diagnostics.map((d) => [d.line, d.col, d.message])).toEqual([
        [6, 48, "expected an expression, found ')'"],
        [8, 44, "the lambda parameter 'body' would hide the variable of that name"],
      ])
    } finally {
      cleanup()
    }
  })
})
