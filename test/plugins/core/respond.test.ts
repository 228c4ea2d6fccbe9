// The respond step: ends the pipeline with a status, headers and body built from templates.
import { describe, expect, it } from 'vitest'
import { failureOf, loadConfig, run } from './test-harness.ts'

const respond = (config: object) => ({ type: 'respond', name: 'answer', config })

describe('respond', () => {
  it('answers 200 with the body by default, and ends the pipeline', async () => {
    const response = await run([respond({ body: { id: '${{ params.id }}' } }), { type: 'fail', config: { code: 'ERR_NEVER', message: 'unreachable' } }],
      { params: { id: '7' } })
    expect(response).toEqual({ status: 200, headers: {}, body: { id: '7' } })
  })

  it('takes a literal status or one computed per run', async () => {
    expect((await run([respond({ status: 201 })])).status).toBe(201)
    expect((await run([respond({ status: '${{ body.created ? 201 : 200 }}' })], { body: { created: true } })).status).toBe(201)
  })

  it('a computed status out of range is the app\'s bug: ERR_STEP_FAILED naming the step', async () => {
    for (const status of ['${{ 99 }}', '${{ 600 }}', '${{ 200.5 }}', "${{ '201' }}", '${{ body.none }}']) {
      const error = await failureOf([respond({ status })], { body: {} })
      expect(error.code).toBe('ERR_STEP_FAILED')
      expect(error.message).toMatch(/^step 'answer' of pipeline 'test' failed: status must be an integer from 100 to 599, got /)
      expect((error.cause as { code?: string }).code).toBe('ERR_CORE_STATUS_INVALID')
    }
  })

  it('interpolates headers as text, leaving out those that are null or missing', async () => {
    const response = await run([respond({
      status: 201,
      headers: { location: '/orders/${{ body.id }}', 'x-count': '${{ body.n }}', 'x-absent': '${{ body.missing }}', 'x-null': '${{ body.none }}' },
    })], { body: { id: 'o1', n: 3, none: null } })
    expect(response.headers).toEqual({ location: '/orders/o1', 'x-count': '3' })
  })

  it('refuses a header value that would start a new header line', async () => {
    const error = await failureOf([respond({ headers: { 'x-sku': '${{ body.sku }}' } })], { body: { sku: 'a\r\nset-cookie: evil=1' } })
    expect(error.code).toBe('ERR_STEP_FAILED')
    expect(error.message).toMatch(/header 'x-sku' would contain a line break/)
    expect((error.cause as { code?: string }).code).toBe('ERR_CORE_HEADER_INVALID')
  })

  it('outputs the response it sent', async () => {
    const response = await run([respond({ status: 202, body: 'queued' })])
    expect(response).toEqual({ status: 202, headers: {}, body: 'queued' })
  })

  it('config: status defaults to 200 and is 100–599 or an expression; header names are HTTP tokens', () => {
    expect(loadConfig('respond', {})).toEqual({ status: 200 })
    expect(loadConfig('respond', { status: '${{ 204 }}' })).toEqual({ status: '${{ 204 }}' })
    expect(() => loadConfig('respond', { status: 700 })).toThrow(/must be <= 599/)
    expect(() => loadConfig('respond', { status: 'ok' })).toThrow(/must match pattern/)
    expect(() => loadConfig('respond', { headers: { 'bad header': 'x' } })).toThrow(/must match pattern/)
    expect(() => loadConfig('respond', { headers: { 'x-n': 1 } })).toThrow(/must be string/)
    expect(() => loadConfig('respond', { code: 1 })).toThrow(/must NOT have additional properties/)
  })
})
