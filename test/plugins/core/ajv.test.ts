// The one ajv set-up: what each named rule set accepts, refuses and does to the value.
import { describe, expect, it } from 'vitest'
import { createAjv } from '../../../plugins/core/ajv.ts'

const compiles = (ajv: ReturnType<typeof createAjv>, schema: object): string | true => {
  try {
    ajv.compile(schema)
    return true
  } catch (error) {
    return (error as Error).message
  }
}

describe('createAjv', () => {
  it('config: strict schemas, every error with its data, defaults filled, formats', () => {
    const ajv = createAjv('config')
    expect(compiles(ajv, { type: 'object', properties: { a: { type: 'string', minimun: 1 } } })).toMatch(/unknown keyword: "minimun"/)
    const validate = ajv.compile({ type: 'object', properties: { n: { type: 'integer', default: 3 }, at: { type: 'string', format: 'date' },
      s: { type: 'string' } } })
    const value: Record<string, unknown> = {}
    expect(validate(value)).toBe(true)
    expect(value).toEqual({ n: 3 })
    expect(validate({ at: 'yesterday', s: 1 })).toBe(false)
    expect(validate.errors?.map((e) => [e.instancePath, e.data])).toEqual([['/at', 'yesterday'], ['/s', 1]])
  })

  it('step: unknown keywords and formats refused, loose types allowed, patterns on RE2, 2020-12 on request', () => {
    expect(compiles(createAjv('step'), { type: 'string', format: 'colour' })).toMatch(/unknown format "colour"/)
    expect(compiles(createAjv('step'), { properties: { a: { minimum: 1 } } })).toBe(true)
    // A lookahead is fine for JavaScript's engine, not for RE2: proof the pattern is not run by a backtracking one.
    expect(compiles(createAjv('step'), { type: 'string', pattern: '^(?=a)' })).not.toBe(true)
    expect(compiles(createAjv('step'), { prefixItems: [{ type: 'string' }] })).toMatch(/unknown keyword: "prefixItems"/)
    const tuple = createAjv('step', { draft: '2020-12' }).compile({ prefixItems: [{ type: 'string' }] })
    expect([tuple(['x']), tuple([1])]).toEqual([true, false])
    const first = createAjv('step', { allErrors: false }).compile({ type: 'object', required: ['a', 'b'] })
    first({})
    expect(first.errors).toHaveLength(1)
  })

  it('guest: not strict, patterns on RE2, uniqueItems by JSON equality, defaults when asked', () => {
    expect(compiles(createAjv('guest'), { type: 'string', 'x-note': 1 })).toBe(true)
    expect(compiles(createAjv('guest'), { type: 'string', pattern: '^(?=a)' })).not.toBe(true)
    const unique = createAjv('guest').compile({ type: 'array', uniqueItems: true })
    expect(unique([{ a: 1, b: 2 }, { b: 2, a: 1 }])).toBe(false)
    const value: Record<string, unknown> = {}
    createAjv('guest', { useDefaults: true }).compile({ properties: { n: { default: 1 } } })(value)
    expect(value).toEqual({ n: 1 })
  })

  it('step and guest: each pattern of a schema is checked with its own expression, not the first one\'s', () => {
    const schema = {
      type: 'object',
      properties: {
        sku: { type: 'string', pattern: '^[A-Z]+-[0-9]+$' },
        card: { type: 'string', pattern: '^tok_[a-z0-9_]+$' },
        tags: { type: 'object', patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false },
      },
    }
    for (const rules of ['step', 'guest'] as const) {
      const validate = createAjv(rules).compile(schema)
      expect(validate({ sku: 'TEA-1', card: 'tok_visa', tags: { 'x-gift': 'yes' } }), rules).toBe(true)
      expect(validate({ sku: 'tok_visa', card: 'TEA-1' }), rules).toBe(false)
      expect(validate.errors?.map((e) => e.instancePath), rules).toEqual(['/sku', '/card'])
    }
  })

  it('meta: checks a schema against the draft-07 meta-schema, and keeps none of them', () => {
    const ajv = createAjv('meta')
    expect(ajv.validateSchema({ type: 'obj' })).toBe(false)
    expect(ajv.validateSchema({ $id: 'x', type: 'object' })).toBe(true)
    expect(ajv.getSchema('x')).toBeUndefined()
  })
})
