// The set step: its output is the evaluated template, constant or computed per run.
import { describe, expect, it } from 'vitest'
import { loadConfig, pipelineOf, requestOf, run, silentLogger } from './test-harness.ts'

describe('set', () => {
  it('outputs the evaluated value, readable by later steps', async () => {
    const response = await run([
      { type: 'set', name: 'quote', config: { value: { sku: '${{ body.sku }}', total: '${{ round(body.qty * 9.99, 2) }}' } } },
      { type: 'set', config: { value: 'total ${{ steps.quote.total }} for ${{ steps.quote.sku }}' } },
    ], { body: { sku: 'AB', qty: 3 } })
    expect(response.body).toBe('total 29.97 for AB')
  })

  it('a constant value is the same frozen object on every run', async () => {
    const pipeline = await pipelineOf([{ type: 'set', config: { value: { list: [1, 2] } } }])
    const [a, b] = await Promise.all([1, 2].map(() => pipeline.run(requestOf(), { logger: silentLogger() })))
    expect(a!.body).toEqual({ list: [1, 2] })
    expect(a!.body).toBe(b!.body)
    expect(Object.isFrozen(a!.body)).toBe(true)
  })

  it('a value of null is output as null (200), a missing member as nothing (204)', async () => {
    expect(await run([{ type: 'set', config: { value: null } }])).toMatchObject({ status: 200, body: null })
    expect(await run([{ type: 'set', config: { value: '${{ body.missing }}' } }], { body: {} })).toMatchObject({ status: 204 })
  })

  it('config: value is required, nothing else is allowed', () => {
    expect(() => loadConfig('set', {})).toThrow(/must have required property 'value'/)
    expect(() => loadConfig('set', { value: 1, other: 2 })).toThrow(/must NOT have additional properties/)
  })
})
