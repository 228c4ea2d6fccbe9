// Guest schemas: vetted, checked against the meta-schema exactly as a fresh ajv with validateSchema would, compiled
// one instance per schema.
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { isIsletError } from '../errors.ts'
import { compileGuestSchema } from './guest-schemas.ts'

/** What compileGuestSchema did before the meta-schema check was shared: a fresh ajv validating the schema itself. */
function reference(schema: object, useDefaults = false): string | undefined {
  try {
    new Ajv({ allErrors: true, strict: false, useDefaults, validateSchema: true }).compile(schema)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

function failure(schema: object, useDefaults = false): { code: string; message: string } | undefined {
  try {
    compileGuestSchema('c', 'input', schema, useDefaults)
    return undefined
  } catch (error) {
    if (!isIsletError(error)) throw error
    return { code: error.code, message: error.message }
  }
}

describe('compileGuestSchema', () => {
  const invalid: object[] = [
    { type: 'obj' },
    { type: 'object', required: 'sku' },
    { properties: { a: { minimum: 'one' } }, maxLength: -1 },
    { $schema: 'http://json-schema.org/draft-07/schema#', type: 12 },
    { $schema: 'https://example.com/unknown-meta' },
  ]
  it.each(invalid)('rejects a schema the meta-schema rejects, with the message a fresh ajv gives: %j', (schema) => {
    for (const useDefaults of [false, true]) {
      const expected = reference(structuredClone(schema), useDefaults)
      expect(expected).toBeDefined()
      expect(failure(structuredClone(schema), useDefaults)).toEqual({ code: 'ERR_COMPONENT_LOAD_FAILED', message: `component 'c': ${expected}` })
    }
  })

  it('fills the meta-schema defaults into a config schema as a fresh ajv does', () => {
    const schema = { type: 'object', properties: { currency: { type: 'string', default: 'EUR' } } }
    const ours = structuredClone(schema)
    const theirs = structuredClone(schema)
    const validate = compileGuestSchema('c', 'config', ours, true)!
    new Ajv({ allErrors: true, strict: false, useDefaults: true, validateSchema: true }).compile(theirs)
    expect(ours).toEqual(theirs)
    const config: Record<string, unknown> = {}
    expect(validate.check(config)).toEqual({ valid: true })
    expect(config).toEqual({ currency: 'EUR' })
  })

  it('reports mismatches as the validate step does: a JSON Pointer to the property, escaped; the value itself is ""', () => {
    const validator = compileGuestSchema('c', 'input', { type: 'object', additionalProperties: false, required: ['a/b'],
      properties: { 'a/b': { type: 'string' } } })!
    expect(validator.check({ 'x~y': 1 })).toEqual({ valid: false, issues: [
      { path: '/a~1b', message: 'is required' }, { path: '/x~0y', message: 'is not allowed' }] })
    expect(compileGuestSchema('c', 'input', { type: 'object' })!.check(5)).toEqual({ valid: false, issues: [{ path: '', message: 'must be object' }] })
  })

  it('keeps guest $ids apart: two schemas with one $id compile, each to its own validator', () => {
    const a = compileGuestSchema('a', 'input', { $id: 'https://x.test/s', type: 'string' })!
    const b = compileGuestSchema('b', 'input', { $id: 'https://x.test/s', type: 'number' })!
    expect([a, a, b, b].map((v, i) => v.check(i % 2 ? 1 : 'x').valid)).toEqual([true, false, false, true])
  })

  it('refuses a pattern RE2 cannot run (lookaround, backreferences), naming where it is in the schema', () => {
    const refused = failure({ type: 'object', properties: { name: { type: 'string', pattern: '^(?!admin)[a-z]+$' } } })
    expect(refused?.code).toBe('ERR_COMPONENT_LOAD_FAILED')
    expect(refused?.message).toMatch(/input schema is refused at input\.properties\.name\.pattern: pattern '\^\(\?!admin\)\[a-z\]\+\$' cannot run on the linear-time/)
    expect(failure({ patternProperties: { '(a)\\1': {} } })?.message).toMatch(/at input\.patternProperties\.\(a\)\\1: pattern/)
  })

  it('runs patterns on RE2: exponential on a backtracking engine, linear here', () => {
    const validate = compileGuestSchema('c', 'input', { type: 'string', pattern: '^(a|a)*$' })!
    expect(validate.check(`${'a'.repeat(5_000)}b`)).toMatchObject({ valid: false, issues: [{ path: '', message: 'must match pattern "^(a|a)*$"' }] })
    expect(validate.check('a'.repeat(5_000))).toEqual({ valid: true })
  })

  it('checks uniqueItems over many distinct objects in linear time, and still finds a duplicate', () => {
    const validate = compileGuestSchema('c', 'input', { type: 'array', uniqueItems: true })!
    const items = Array.from({ length: 50_000 }, (_, i) => ({ a: i, b: [i % 3] }))
    expect(validate.check(items)).toEqual({ valid: true })
    expect(validate.check([...items, { b: [1], a: 1 }])).toMatchObject({ valid: false, issues: [{ message: 'must NOT have duplicate items (items ## 1 and 50000 are identical)' }] })
  })

  it('gives up on a value too costly to check instead of holding the worker (an exponential $ref under anyOf)', () => {
    const validate = compileGuestSchema('c', 'input', { anyOf: [{ type: 'array', items: { $ref: '#' } }, { type: 'array', items: { $ref: '#' } }], not: { const: 0 } })!
    let nested: unknown = 0
    for (let i = 0; i < 40; i++) nested = [nested]
    expect(validate.check(nested)).toEqual({ valid: false, costly: expect.stringMatching(/could not be checked against the schema within 250 ms/) })
  })
})
