// A component answers a client error: `throw new StepError({ status: 422, code: 'ERR_SKU_UNKNOWN', message })` reaches
// the caller as that status and code — only 4xx, only a code of its own (never one of Islet's), message and details
// capped — and is an answer, not a limit breach. Anything else it throws stays a 500 ERR_COMPONENT_THREW.
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { component, rejection, startHostile, type HostileHost } from './hostile/support.ts'
import { json, startApp, type TestApp } from './support/app.ts'
import { spawnIslet } from './support/cli.ts'
import { ComponentClientError } from '../runtime/components/client-error.ts'

/** A component whose execute throws `new StepError(<options>)`. */
const throwing = (options: string, name = 'thrower') => component(`  execute(input: any) { throw new StepError(${options}) },`,
  "import { StepError } from '@islet/sdk'", name)

const SKU = "{ status: 422, code: 'ERR_SKU_UNKNOWN', message: 'unknown sku NOPE', details: { known: ['TEA-1'] } }"

let h: HostileHost

beforeAll(async () => {
  h = await startHostile({
    sku: throwing(SKU),
    'server-error': throwing("{ status: 503, code: 'ERR_BACKEND_DOWN', message: 'down' }"),
    'ok-status': throwing("{ status: 200, code: 'ERR_FINE', message: 'fine' }"),
    'odd-status': throwing("{ status: 422.5, code: 'ERR_HALF', message: 'half' }"),
    'bad-code': throwing("{ status: 400, code: 'bad code', message: 'bad' }"),
    'host-code': throwing("{ status: 404, code: 'ERR_COMPONENT_NOT_FOUND', message: 'forged' }"),
    'plugin-code': throwing("{ status: 404, code: 'ERR_HTTP_NOT_FOUND', message: 'forged' }"),
    'storage-code': throwing("{ status: 409, code: 'ERR_SQL_CONFLICT', message: 'forged' }"),
    'validate-code': throwing("{ status: 400, code: 'ERR_VALIDATION_TOO_COSTLY', message: 'forged' }"),
    'map-details': throwing("{ status: 400, code: 'ERR_MINE', message: 'm', details: { seen: new Map() } }"),
    'huge-details': throwing("{ status: 400, code: 'ERR_MINE', message: 'm', details: { blob: 'x'.repeat(20_000) } }"),
    'long-message': throwing("{ status: 400, code: 'ERR_MINE', message: 'm'.repeat(10_000) }"),
    'shaped-like': component("  execute() { throw { name: 'StepError', status: 409, code: 'ERR_TAKEN', message: 'taken' } },", '', 'shaped'),
  }, { quarantine: { breaches: 1, windowMs: 60_000, baseMs: 60_000, maxMs: 60_000 } })
})
afterAll(() => h?.stop())

async function clientError(name: string): Promise<ComponentClientError> {
  try {
    await h.invoke(name, {})
  } catch (error) {
    if (error instanceof ComponentClientError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe('a StepError thrown by a component', () => {
  it('arrives as the client error it asked for: status, code, message and details', async () => {
    const error = await clientError('sku')
    expect({ status: error.status, code: error.code, message: error.message, details: error.clientDetails })
      .toEqual({ status: 422, code: 'ERR_SKU_UNKNOWN', message: 'unknown sku NOPE', details: { known: ['TEA-1'] } })
    // A thrown object of the same shape is the same claim (the guest's sdk is guest code: shape, not identity).
    expect((await clientError('shaped-like')).status).toBe(409)
  })

  it('is an answer, not a breach: repeated, it never quarantines the component', async () => {
    for (let i = 0; i < 3; i++) expect((await clientError('sku')).code).toBe('ERR_SKU_UNKNOWN')
    expect((await clientError('sku')).code).toBe('ERR_SKU_UNKNOWN') // not ERR_COMPONENT_QUARANTINED (breaches: 1)
  })

  it.each([
    ['server-error', 'not a client error (400–499)'],
    ['ok-status', 'not a client error (400–499)'],
    ['odd-status', 'not a client error (400–499)'],
    ['bad-code', 'is not of the form ERR_SOMETHING'],
    ['host-code', "one of Islet's own codes"],
    ['plugin-code', "one of Islet's own codes"],
    ['storage-code', "one of Islet's own codes"],
    ['validate-code', "one of Islet's own codes"],
    ['map-details', 'a Map at details.seen'],
    ['huge-details', 'over 8192 bytes'],
  ])('%s stays a 500 ERR_COMPONENT_THREW that says why', async (name, why) => {
    const error = await rejection(h.invoke(name, {}))
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toContain('its StepError was not passed on')
    expect(error.message).toContain(why)
    expect(error.details.clientErrorRefused).toContain(why)
  })

  it('has its message capped', async () => {
    const error = await clientError('long-message')
    expect(error.message.length).toBeLessThanOrEqual(500)
  })
})

describe('over HTTP', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({
      'app.yaml': `apiVersion: islet/v1
components:
  - file: ./components/sku.ts
modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /sku, pipeline: sku }]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  sku:
    steps: [{ type: component, config: { component: sku } }]
`,
      'components/sku.ts': throwing(SKU, 'sku'),
    })
  })
  afterAll(() => app?.close())

  it('the component step answers with its status, code, message and details', async () => {
    const res = await fetch(`${app.url}/sku`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(422)
    expect((await json(res)).error).toMatchObject({ code: 'ERR_SKU_UNKNOWN', message: 'unknown sku NOPE', details: { known: ['TEA-1'] } })
  })

  it('the flagship answers an unknown sku with 422 ERR_SKU_UNKNOWN', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'islet-orders-'))
    const run = spawnIslet(['run', join(import.meta.dirname, '..', 'examples', 'orders', 'app.yaml')], { env: { PORT: '0', ISLET_DATA_DIR: dataDir } })
    try {
      const url = String((await run.waitFor((l) => typeof l.url === 'string')).url)
      const res = await fetch(`${url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"NOPE","qty":1}' })
      expect(res.status).toBe(422)
      expect((await json(res)).error).toMatchObject({ code: 'ERR_SKU_UNKNOWN', message: "unknown sku 'NOPE'" })
    } finally {
      run.child.kill('SIGTERM')
      await run.exited
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
