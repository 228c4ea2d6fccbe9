// Blocks in an HTTP pipeline: the request's variables reach the block's steps, and a timeout answers 504 with its code.
import { afterEach, expect, it } from 'vitest'
import { json, startApp, type TestApp } from './support/app.ts'
import { flowTestPlugin } from './support/flow.ts'

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

it('runs foreach over the body with the request visible inside, logs through the request\'s logger, and answers 504 ERR_FLOW_TIMEOUT for a hung block', async () => {
  app = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /lines/:currency, pipeline: lines }
        - { method: GET, path: /slow, pipeline: slow }
        - { method: GET, path: /again, pipeline: again }
pipelines:
  lines:
    steps:
      - name: each
        type: foreach
        config: { items: '\${{ body.lines }}', concurrency: 2 }
        do:
          - type: set
            config: { value: '\${{ item.qty * body.price }} \${{ params.currency }}' }
      - type: respond
        config: { status: 201, body: { totals: '\${{ steps.each }}' } }
  again:
    steps:
      - type: timeout
        config: { duration: 1h }
        do:
          - type: retry
            config: { backoff: { initial: 1 } }
            do:
              - type: log
                config: { message: 'attempt \${{ attempt }} of request \${{ request.id }}' }
              - if: \${{ attempt == 1 }}
                then: [ { type: fail, config: { status: 503, code: ERR_BUSY, message: busy } } ]
              - type: set
                config: { value: { attempt: '\${{ attempt }}' } }
  slow:
    steps:
      - type: timeout
        config: { duration: 20ms }
        do: [ { type: flowtest.hang } ]
` }, { plugins: [flowTestPlugin] })
  const created = await fetch(`${app.url}/lines/EUR`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ price: 3, lines: [{ qty: 1 }, { qty: 2 }] }),
  })
  expect(created.status).toBe(201)
  expect(await json(created)).toEqual({ totals: ['3 EUR', '6 EUR'] })
  // The request's own logger (made when first used) serves the block's steps and the retry's warning.
  const again = await fetch(`${app.url}/again`, { headers: { 'x-request-id': 'again-1' } })
  expect(await json(again)).toEqual({ attempt: 2 })
  expect(app.logs.filter((l) => l.requestId === 'again-1' && typeof l.msg === 'string' && /attempt|retrying/.test(l.msg)).map((l) => l.msg)).toEqual([
    'attempt 1 of request again-1',
    expect.stringMatching(/^retry step 'retry#1' of pipeline 'again': attempt 1 of 3 failed \(busy\); retrying in \d+ ms$/),
    'attempt 2 of request again-1',
  ])
  const slow = await fetch(`${app.url}/slow`)
  expect(slow.status).toBe(504)
  expect((await json(slow)).error).toMatchObject({ code: 'ERR_FLOW_TIMEOUT', message: "timeout step 'timeout#1' of pipeline 'slow': its block did not finish within 20 ms and was aborted" })
})
