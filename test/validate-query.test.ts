// validate on the query string over real HTTP: ?limit=5 is an integer, ?flag=true a boolean, a repeated ?tag= an
// array, defaults filled; a bad value is a 400 naming the parameter. Bodies stay strict.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, startApp, type TestApp } from './support/app.ts'

const APP = `
apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /items/:id, pipeline: items }
        - { method: POST, path: /items, pipeline: create }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  items:
    steps:
      - name: path
        type: validate
        config: { schema: { type: object, properties: { id: { type: integer, minimum: 1 } } }, value: '\${{ params }}' }
      - name: q
        type: validate
        config:
          value: '\${{ query }}'
          schema:
            type: object
            additionalProperties: false
            properties:
              limit: { type: integer, minimum: 1, maximum: 100, default: 20 }
              flag: { type: boolean, default: false }
              tag: { type: array, items: { type: string } }
      - type: respond
        config: { body: { id: '\${{ steps.path.id }}', q: '\${{ steps.q }}', next: '\${{ steps.q.limit + 1 }}' } }
  create:
    steps:
      - type: validate
        config: { schema: { type: object, properties: { qty: { type: integer } } } }
`

describe('validate on the query string and route parameters', () => {
  let app: TestApp
  beforeAll(async () => { app = await startApp({ 'app.yaml': APP }) })
  afterAll(() => app?.close())

  it('converts the text to the schema types and fills defaults', async () => {
    const res = await fetch(`${app.url}/items/7?limit=5&flag=true&tag=a&tag=b`)
    expect(res.status).toBe(200)
    expect(await json(res)).toEqual({ id: 7, q: { limit: 5, flag: true, tag: ['a', 'b'] }, next: 6 })
    expect(await json(await fetch(`${app.url}/items/7?tag=a`))).toEqual({ id: 7, q: { limit: 20, flag: false, tag: ['a'] }, next: 21 })
  })

  it('a bad value is a 400 saying which parameter and what was expected', async () => {
    const res = await fetch(`${app.url}/items/7?limit=lots`)
    expect(res.status).toBe(400)
    const body = await json(res)
    expect(body.error).toMatchObject({ code: 'ERR_VALIDATION', message: 'query parameter \'limit\' must be integer (got "lots")' })
    expect(body.error.details).toEqual([{ path: '/limit', parameter: 'limit', message: 'must be integer', got: '"lots"' }])
    expect((await json(await fetch(`${app.url}/items/x`))).error.message).toBe('route parameter \'id\' must be integer (got "x")')
  })

  it('bodies stay strict: a number sent as text is refused', async () => {
    const res = await fetch(`${app.url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"qty":"5"}' })
    expect(res.status).toBe(400)
    expect((await json(res)).error).toMatchObject({ message: 'request body does not match the schema', details: [{ path: '/qty', message: 'must be integer' }] })
  })
})
