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
    expect(validate(config)).toBe(true)
    expect(config).toEqual({ currency: 'EUR' })
  })

  it('keeps guest $ids apart: two schemas with one $id compile, each to its own validator', () => {
    const a = compileGuestSchema('a', 'input', { $id: 'https://x.test/s', type: 'string' })!
    const b = compileGuestSchema('b', 'input', { $id: 'https://x.test/s', type: 'number' })!
    expect([a('x'), a(1), b('x'), b(1)]).toEqual([true, false, false, true])
  })

  it('refuses patterns that could backtrack catastrophically', () => {
    expect(failure({ type: 'string', pattern: '(a+)+$' })?.message).toMatch(/backtrack catastrophically/)
  })
})
