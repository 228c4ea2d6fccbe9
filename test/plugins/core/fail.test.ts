// The fail step: ends the pipeline with a StepError carrying a status, a stable code, a message and details.
import { describe, expect, it } from 'vitest'
import { StepError } from '@islet/sdk'
import { failureOf, loadConfig } from './test-harness.ts'

const fail = (config: object) => ({ type: 'fail', name: 'missing', config })

describe('fail', () => {
  it('throws a StepError, 400 by default, with an interpolated message and evaluated details', async () => {
    const error = await failureOf([fail({ code: 'ERR_ORDER_NOT_FOUND', message: 'no order ${{ params.id }}', details: { id: '${{ params.id }}' } })],
      { params: { id: '42' } })
    expect(error).toBeInstanceOf(StepError)
    expect(error).toMatchObject({ status: 400, code: 'ERR_ORDER_NOT_FOUND', message: 'no order 42', details: { id: '42' } })
  })

  it('takes a literal status or one computed per run', async () => {
    expect((await failureOf([fail({ status: 404, code: 'ERR_X', message: 'x' })])).status).toBe(404)
    expect((await failureOf([fail({ status: '${{ body.busy ? 503 : 409 }}', code: 'ERR_X', message: 'x' })], { body: { busy: true } })).status).toBe(503)
  })

  it('a computed status outside 400–599 is the app\'s bug: ERR_STEP_FAILED', async () => {
    const error = await failureOf([fail({ status: '${{ 200 }}', code: 'ERR_X', message: 'x' })])
    expect(error.code).toBe('ERR_STEP_FAILED')
    expect(error.message).toMatch(/status must be an integer from 400 to 599, got 200/)
  })

  it('config: code is an ERR-style constant, message required, status 400–599 defaulting to 400', () => {
    expect(loadConfig('fail', { code: 'ERR_X', message: 'm' })).toEqual({ code: 'ERR_X', message: 'm', status: 400 })
    expect(() => loadConfig('fail', { code: 'not-a-code', message: 'm' })).toThrow(/must match pattern/)
    expect(() => loadConfig('fail', { code: 'ERR_X' })).toThrow(/must have required property 'message'/)
    expect(() => loadConfig('fail', { code: 'ERR_X', message: 'm', status: 302 })).toThrow(/must be >= 400/)
  })
})
