// Schema validation as users see it: readable messages, keys located, anyOf/oneOf noise collapsed, references found.
import { expressionOr, moduleRef, pipelineRef, type JsonSchema } from '@islet/sdk'
import { describe, expect, it } from 'vitest'
import { explain } from './schema-errors.ts'
import { check, compileSchema } from './validate.ts'

/** `path: message (hint)` for each finding of validating `data` against `schema`. */
function problems(schema: JsonSchema, data: unknown): string[] {
  return explain(check(schema, data).errors)
    .map((f) => `${f.path.join('.')}${f.isKey ? ' (key)' : ''}: ${f.code} ${f.message}${f.hint ? ` (${f.hint})` : ''}`)
}

const object = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema =>
  ({ type: 'object', additionalProperties: false, properties, ...extra })

describe('explain', () => {
  it('names an unknown key, at the key, with the likely intended one and the allowed keys', () => {
    expect(problems(object({ port: { type: 'integer' }, host: { type: 'string' } }), { prot: 1 }))
      .toEqual(["prot (key): ERR_CONFIG_UNKNOWN_KEY unknown key 'prot' (did you mean 'port'? allowed keys: port, host)"])
  })

  it('says which key is missing, on the mapping, with its description', () => {
    const schema = object({ file: { type: 'string', description: 'the database file' } }, { required: ['file'] })
    expect(problems(schema, {})).toEqual([": ERR_CONFIG_SCHEMA missing required key 'file' (file: the database file)"])
  })

  it('says what was expected and what was found', () => {
    const schema = object({ port: { type: 'integer', maximum: 65535 }, tags: { type: 'array', minItems: 1 } })
    expect(problems(schema, { port: 'abc', tags: [] })).toEqual([
      'port: ERR_CONFIG_SCHEMA must be integer, got string "abc"',
      'tags: ERR_CONFIG_SCHEMA must have at least 1 item',
    ])
    expect(problems(schema, { port: 70000 })).toEqual(['port: ERR_CONFIG_SCHEMA must be <= 65535, got 70000'])
  })

  it('lists the allowed values of an enum and suggests the closest', () => {
    expect(problems(object({ method: { enum: ['GET', 'POST', 'PUT'] } }), { method: 'PSOT' }))
      .toEqual(["method: ERR_CONFIG_SCHEMA must be one of: GET, POST, PUT; got string \"PSOT\" (did you mean 'POST'?)"])
  })

  it('reports an invalid key name at the key', () => {
    const schema: JsonSchema = { type: 'object', propertyNames: { pattern: '^[a-z]+$' } }
    expect(problems(schema, { ok: 1, 'Not ok': 2 }))
      .toEqual(["Not ok (key): ERR_CONFIG_SCHEMA invalid key 'Not ok': must match the pattern ^[a-z]+$"])
  })

  describe('anyOf / oneOf', () => {
    const evict: JsonSchema = {
      anyOf: [object({ policy: { enum: ['lru', 'lfu'] }, max: { type: 'integer' } }, { required: ['policy'] }),
        { const: 'never' }],
    }

    it('reports only the branch whose shape matched', () => {
      expect(problems(object({ evict }), { evict: { policy: 'fifo', max: 'x' } })).toEqual([
        'evict.policy: ERR_CONFIG_SCHEMA must be one of: lru, lfu; got string "fifo"',
        'evict.max: ERR_CONFIG_SCHEMA must be integer, got string "x"',
      ])
    })

    it('treats unknown and missing keys as problems inside the matched shape', () => {
      expect(problems(object({ evict }), { evict: { polcy: 'lru' } })).toEqual([
        "evict: ERR_CONFIG_SCHEMA missing required key 'policy'",
        "evict.polcy (key): ERR_CONFIG_UNKNOWN_KEY unknown key 'polcy' (did you mean 'policy'? allowed keys: policy, max)",
      ])
    })

    it('says what would be accepted when no branch matched', () => {
      expect(problems(object({ evict }), { evict: 3 }))
        .toEqual(['evict: ERR_CONFIG_SCHEMA must be object or "never", got number 3'])
      expect(problems(object({ status: expressionOr({ type: 'integer', minimum: 100, maximum: 599 }) }), { status: 99 }))
        .toEqual(['status: ERR_CONFIG_SCHEMA must be integer from 100 to 599 or a runtime expression ${{ … }}, got number 99'])
    })

    it('prefers the branch whose discriminating const held', () => {
      const shape: JsonSchema = {
        oneOf: [
          object({ kind: { const: 'file' }, path: { type: 'string' } }, { required: ['kind', 'path'] }),
          object({ kind: { const: 'url' }, href: { type: 'string' }, timeout: { type: 'integer' } }, { required: ['kind', 'href'] }),
        ],
      }
      expect(problems(object({ source: shape }), { source: { kind: 'url', href: 1, timeout: 'x' } })).toEqual([
        'source.href: ERR_CONFIG_SCHEMA must be string, got number 1',
        'source.timeout: ERR_CONFIG_SCHEMA must be integer, got string "x"',
      ])
    })

    it('follows $ref branches and nested alternatives', () => {
      const schema: JsonSchema = {
        definitions: { limit: object({ max: { anyOf: [{ type: 'integer' }, { type: 'string', description: 'a size like 1mb' }] } }) },
        ...object({ limit: { anyOf: [{ $ref: '#/definitions/limit' }, { type: 'boolean' }] } }),
      }
      expect(problems(schema, { limit: { max: [] } }))
        .toEqual(['limit.max: ERR_CONFIG_SCHEMA must be integer or a size like 1mb, got an array'])
    })

    it('says so when several oneOf branches match', () => {
      expect(problems({ oneOf: [{ type: 'integer' }, { type: 'number' }] }, 1))
        .toEqual([': ERR_CONFIG_SCHEMA matches more than one of the allowed forms; it must match exactly one'])
    })
  })
})

describe('check', () => {
  it('fills defaults into the value', () => {
    const value: Record<string, unknown> = {}
    check(object({ port: { type: 'integer', default: 8080 }, tags: { type: 'array', default: [] } }), value)
    expect(value).toEqual({ port: 8080, tags: [] })
  })

  it('collects module and pipeline references with their pointers', () => {
    const schema = object({ db: moduleRef(), routes: { type: 'array', items: object({ pipeline: pipelineRef() }) } })
    expect(check(schema, { db: 'main', routes: [{ pipeline: 'a' }, { pipeline: 'b' }] }).refs).toEqual([
      { kind: 'module', name: 'main', pointer: '/db' },
      { kind: 'pipeline', name: 'a', pointer: '/routes/0/pipeline' },
      { kind: 'pipeline', name: 'b', pointer: '/routes/1/pipeline' },
    ])
  })

  it('compiles each schema once', () => {
    const schema = object({ a: { type: 'string' } })
    expect(compileSchema(schema)).toBe(compileSchema(schema))
  })

  it('refuses schemas strict mode rejects (a plugin bug, reported as such by the loader)', () => {
    expect(() => compileSchema({ type: 'object', properties: { a: { type: 'strng' } } })).toThrow()
    expect(() => compileSchema({ type: 'string', 'x-islet-ref': 'table' })).toThrow()
  })
})
