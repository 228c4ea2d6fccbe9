// The validate step: JSON Schema checks of the body (or any value), answered with a 400 listing every mismatch.
import { describe, expect, it } from 'vitest'
import { StepError } from '@islet/sdk'
import { failureOf, loadConfig, run } from './test-harness.ts'

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'qty'],
  properties: {
    sku: { type: 'string', pattern: '^[A-Z0-9-]+$' },
    qty: { type: 'integer', minimum: 1 },
    email: { type: 'string', format: 'email' },
  },
}
const validate = (config: object = { schema }) => ({ type: 'validate', name: 'check', config })

describe('validate', () => {
  it('passes a matching body through as its output', async () => {
    const body = { sku: 'AB-1', qty: 2 }
    const response = await run([validate()], { body })
    expect(response).toEqual({ status: 200, headers: {}, body })
    expect(response.body).toBe(body)
  })

  it('answers 400 ERR_VALIDATION listing every mismatch at the path callers look at', async () => {
    const error = await failureOf([validate(), { type: 'set', config: { value: 'never' } }],
      { body: { qty: 0, extra: true, email: 'not-an-email' } })
    expect(error).toBeInstanceOf(StepError)
    expect(error).toMatchObject({ status: 400, code: 'ERR_VALIDATION', message: 'request body does not match the schema' })
    expect(error.details).toEqual(expect.arrayContaining([
      { path: '/sku', message: 'is required' },
      { path: '/extra', message: 'is not allowed' },
      { path: '/qty', message: 'must be >= 1' },
      { path: '/email', message: 'must match format "email"' },
    ]))
    expect(error.details).toHaveLength(4)
  })

  it('reports a body of the wrong type at the root, and JSON Pointer-escapes odd keys', async () => {
    expect((await failureOf([validate()], { body: 'text' })).details).toEqual([{ path: '', message: 'must be object' }])
    const odd = { type: 'object', required: ['a/b', 'c~d'] }
    expect((await failureOf([validate({ schema: odd })], { body: {} })).details)
      .toEqual([{ path: '/a~1b', message: 'is required' }, { path: '/c~0d', message: 'is required' }])
  })

  it('keeps the answer small when a hostile body fails thousands of times', async () => {
    const items = { type: 'array', items: { type: 'integer' } }
    const error = await failureOf([validate({ schema: items })], { body: Array.from({ length: 5000 }, () => 'x') })
    expect(error.details).toHaveLength(20)
    expect(error.message).toBe('request body does not match the schema (5000 problems, the first 20 listed)')
  })

  it('validates another value when told to, and says "value"', async () => {
    const config = { schema: { type: 'string', pattern: '^\\d+$' }, value: '${{ body.page }}' }
    expect((await run([validate(config)], { body: { page: '3' } })).body).toBe('3')
    const error = await failureOf([validate(config)], { body: { page: 'x' } })
    expect(error.message).toBe('value does not match the schema')
  })

  it('understands draft 2020-12 when the schema says so', async () => {
    const tuple = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] }
    expect((await run([validate({ schema: tuple })], { body: ['a', 1] })).status).toBe(200)
    expect((await failureOf([validate({ schema: tuple })], { body: ['a', 'b'] })).details).toEqual([{ path: '/1', message: 'must be integer' }])
  })

  it.each([
    [{ type: 'object', properties: { qty: { type: 'integer', minimun: 1 } } }, /unknown keyword: "minimun"/],
    [{ type: 'objekt' }, /must be equal to one of the allowed values/],
    [{ type: 'string', format: 'e-mail' }, /unknown format "e-mail"/],
  ])('an invalid schema fails create with a clear message (%#)', async (bad, message) => {
    const error = await failureOf([validate({ schema: bad })])
    expect(error.code).toBe('ERR_PIPELINE_STEP_CREATE_FAILED')
    expect(error.message).toMatch(/step 'check' \(validate\) at \/x\/app\.yaml:10:9 could not be created: invalid JSON Schema/)
    expect((error.cause as { code?: string }).code).toBe('ERR_CORE_SCHEMA_INVALID')
    expect(error.message).toMatch(message)
  })

  it('a schema that could stall the engine fails create, naming the place in the schema (configs built without the loader)', async () => {
    const error = await failureOf([validate({ schema: { type: 'object', properties: { code: { type: 'string', pattern: '^(?=a)a$' } } } })])
    expect(error.code).toBe('ERR_PIPELINE_STEP_CREATE_FAILED')
    expect((error.cause as { code?: string }).code).toBe('ERR_CORE_SCHEMA_UNSAFE')
    expect(error.message).toMatch(/cannot run on the linear-time regular expression engine .* at schema\.properties\.code\.pattern/)
  })

  it('keeps JSON Schema equality in its linear uniqueItems and enum: key order does not matter, types do', async () => {
    const unique = { type: 'array', uniqueItems: true }
    expect((await failureOf([validate({ schema: unique })], { body: [{ a: 1, b: [1, '1'] }, 2, { b: [1, '1'], a: 1 }] })).details)
      .toEqual([{ path: '', message: 'must NOT have duplicate items (items ## 0 and 2 are identical)' }])
    expect((await run([validate({ schema: unique })], { body: [1, '1', [1], { a: 1 }, { a: '1' }, null, false] })).status).toBe(200)
    const oneOf = { enum: [{ x: [1, 2], y: null }, 'a', 3] }
    expect((await run([validate({ schema: oneOf })], { body: { y: null, x: [1, 2] } })).status).toBe(200)
    expect((await failureOf([validate({ schema: oneOf })], { body: { x: [2, 1], y: null } })).details)
      .toEqual([{ path: '', message: 'must be equal to one of the allowed values' }])
  })

  it('patterns run on RE2: a backtracking one answers in linear time; formats refuse strings longer than any valid value', async () => {
    const name = { type: 'string', pattern: '^([A-Za-z]+ ?)*$' }
    expect((await run([validate({ schema: name })], { body: 'Ada Lovelace' })).status).toBe(200)
    // 60 characters: ECMAScript's engine would take longer than the age of the universe to give up.
    expect((await failureOf([validate({ schema: name })], { body: `${'a'.repeat(60)}!` })).details)
      .toEqual([{ path: '', message: 'must match pattern "^([A-Za-z]+ ?)*$"' }])
    const when = { type: 'string', format: 'date-time' }
    expect((await run([validate({ schema: when })], { body: '2026-12-02T07:05:58.123+01:00' })).status).toBe(200)
    expect((await failureOf([validate({ schema: when })], { body: `2026-12-02T07:05:58${' '.repeat(200)}` })).details)
      .toEqual([{ path: '', message: 'must match format "date-time"' }])
  })

  it('a value whose check would blow up (recursion through overlapping anyOf branches) is refused at the deadline', async () => {
    // Each level evaluates the level below twice: 2^40 evaluations for this 82-byte body, unless the clock stops it.
    const tree = { $ref: '#/$defs/n', $defs: { n: { anyOf: [{ type: 'array', items: { $ref: '#/$defs/n' } }, { type: 'array', maxItems: 5, items: { $ref: '#/$defs/n' } }] } } }
    const error = await failureOf([validate({ schema: tree, maxMs: 50 })], { body: JSON.parse(`${'['.repeat(40)}1${']'.repeat(40)}`) })
    expect(error).toMatchObject({ status: 400, code: 'ERR_VALIDATION_TOO_COSTLY', message: 'request body could not be checked against the schema within 50 ms' })
    expect((await run([validate({ schema: tree })], { body: [[], [[]]] })).status).toBe(200)
  })

  it('a failing value too large to list every problem is answered with its first one', async () => {
    const items = { type: 'array', items: { type: 'integer' } }
    const error = await failureOf([validate({ schema: items })], { body: Array.from({ length: 20_000 }, () => 'x') })
    expect(error.message).toBe('request body does not match the schema (the first problem; the value is too large to list them all)')
    expect(error.details).toEqual([{ path: '/0', message: 'must be integer' }])
  })

  it("config: schema is required, value defaults to the run's input (an HTTP request's body), nothing else is allowed", () => {
    expect(loadConfig('validate', { schema })).toEqual({ schema, value: '${{ input }}', maxMs: 250 })
    expect(() => loadConfig('validate', {})).toThrow(/must have required property 'schema'/)
    expect(() => loadConfig('validate', { schema, strict: true })).toThrow(/must NOT have additional properties/)
  })
})

describe('validate on query and route parameters', () => {
  const query = {
    type: 'object', additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      flag: { type: 'boolean' },
      tag: { type: 'array', items: { type: 'string' } },
      q: { type: 'string' },
    },
  }
  const onQuery = (config: object = {}) => validate({ schema: query, value: '${{ query }}', ...config })

  it("converts the text to the schema's types and fills defaults; the request's own query is left as sent", async () => {
    const request = { query: { limit: '5', flag: 'true', tag: ['a', 'b'], q: '007' } }
    const steps = [onQuery(), { type: 'set', config: { value: { out: '${{ steps.check }}', raw: '${{ query }}' } } }]
    expect((await run(steps, request)).body).toEqual({
      out: { limit: 5, flag: true, tag: ['a', 'b'], q: '007' }, raw: { limit: '5', flag: 'true', tag: ['a', 'b'], q: '007' },
    })
    expect((await run([onQuery()], { query: { tag: 'a' } })).body).toEqual({ tag: ['a'], limit: 20 })
  })

  it('answers 400 naming the parameter, what was expected and what came', async () => {
    const error = await failureOf([onQuery()], { query: { limit: 'five', flag: 'maybe' } })
    expect(error).toMatchObject({ status: 400, code: 'ERR_VALIDATION', message: "query parameter 'limit' must be integer (got \"five\")" })
    expect(error.details).toEqual([
      { path: '/limit', parameter: 'limit', message: 'must be integer', got: '"five"' },
      { path: '/flag', parameter: 'flag', message: 'must be boolean', got: '"maybe"' },
    ])
    expect((await failureOf([onQuery()], { query: { limit: '500' } })).message).toBe("query parameter 'limit' must be <= 100 (got \"500\")")
    expect((await failureOf([onQuery()], { query: { nope: '1' } })).message).toBe("query parameter 'nope' is not allowed (got \"1\")")
  })

  it('a route parameter or one member of the query is converted too, its default filled when absent', async () => {
    const id = validate({ schema: { type: 'object', properties: { id: { type: 'integer' } } }, value: '${{ params }}' })
    expect((await run([id], { params: { id: '42' } })).body).toEqual({ id: 42 })
    expect((await failureOf([id], { params: { id: 'x' } })).message).toBe("route parameter 'id' must be integer (got \"x\")")
    const page = validate({ schema: { type: 'integer', minimum: 1, default: 1 }, value: '${{ query.page }}' })
    expect((await run([page], { query: { page: '3' } })).body).toBe(3)
    expect((await run([page], { query: {} })).body).toBe(1)
    expect((await failureOf([page], { query: { page: '0' } })).message).toBe("query parameter 'page' must be >= 1 (got \"0\")")
  })

  it('bodies stay strict, and coerce: overrides the choice either way', async () => {
    const schema = { type: 'object', properties: { qty: { type: 'integer' } } }
    expect((await failureOf([validate({ schema })], { body: { qty: '5' } })).details).toEqual([{ path: '/qty', message: 'must be integer' }])
    expect((await run([validate({ schema, coerce: true })], { body: { qty: '5' } })).body).toEqual({ qty: 5 })
    expect((await failureOf([onQuery({ coerce: false })], { query: { limit: '5' } })).message).toBe('query parameter does not match the schema')
  })
})
