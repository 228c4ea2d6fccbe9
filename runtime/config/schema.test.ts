// The whole-app schema editors use: it must accept what the loader accepts and reject unknown types and bad configs.
import { defineModuleType, definePlugin } from '@islet/sdk'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createTestRegistry } from '../../test/support/config-plugin.ts'
import { combinedSchema, FILE_SCHEMA, SCHEMA_ID } from './schema.ts'
import { createConfigAjv } from './validate.ts'

function validator() {
  const registry = createTestRegistry()
  const schema = combinedSchema(registry)
  return { registry, schema, validate: createConfigAjv().compile(schema) }
}

const app = (yaml: string) => parse(`apiVersion: islet/v1\n${yaml}`)

describe('combinedSchema', () => {
  it('is a draft-07 schema with an id, a title and the registered types', () => {
    const { schema } = validator()
    expect(schema).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', $id: SCHEMA_ID, title: expect.any(String) })
    const module = (schema.definitions as Record<string, { properties: { type: { enum: string[] } } }>).module
    expect(module.properties.type.enum).toEqual(['http.server', 'http.router', 'storage.sqlite', 'cache.memory'])
  })

  it('accepts a valid app and applies each type\'s config schema by type', () => {
    const { validate } = validator()
    const good = app(`
modules:
  - { name: web, type: http.server, config: { port: 80 } }
  - { name: db, type: storage.sqlite, config: { file: a.db } }
pipelines:
  p:
    steps:
      - { type: log, config: { message: hi } }
      - if: \${{ true }}
        then: [{ type: respond, config: { status: 201 } }]
`)
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true)
    expect(validate(app('modules: [{ name: web, type: http.server, config: { port: "x" } }]'))).toBe(false)
    expect(validate(app('modules: [{ name: db, type: storage.sqlite, config: { port: 1 } }]'))).toBe(false)
    expect(validate(app('pipelines: { p: { steps: [{ type: log, config: { level: info } }] } }'))).toBe(false)
    expect(validate(app('pipelines: { p: { steps: [{ if: "${{ x }}", then: [{ type: log, config: {} }] }] } }'))).toBe(false)
  })

  it('rejects unknown types, unknown keys and a missing or unknown apiVersion', () => {
    const { validate } = validator()
    expect(validate(app('modules: [{ name: web, type: http.sever }]'))).toBe(false)
    expect(validate(app('modules: [{ name: web, type: http.server, dependson: [] }]'))).toBe(false)
    expect(validate({ modules: [] })).toBe(false)
    expect(validate({ apiVersion: 'islet/v9' })).toBe(false)
  })

  it('accepts ${VAR} where a number or boolean goes, since the loader interpolates before validating', () => {
    const { validate } = validator()
    expect(validate(app('modules:\n  - { name: web, type: http.server, config: { port: "${PORT:-8080}", tls: "${TLS}" } }'))).toBe(true)
    expect(validate(app('modules: [{ name: web, type: http.server, config: { port: "80" } }]'))).toBe(false)
    expect(validate(app('modules: [{ name: web, type: http.server, config: { port: 70000 } }]'))).toBe(false)
  })

  it('keeps a plugin schema\'s local $refs working by giving it its own $id', () => {
    const registry = createTestRegistry()
    registry.register(definePlugin({ name: 'refs', version: '1.0.0', moduleTypes: [defineModuleType({
      type: 'refs.thing',
      configSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object',
        definitions: { n: { type: 'integer' } }, properties: { n: { $ref: '#/definitions/n' } } },
      create: () => ({}),
    })] }))
    const validate = createConfigAjv().compile(combinedSchema(registry))
    expect(validate(app('modules: [{ name: t, type: refs.thing, config: { n: 1 } }]'))).toBe(true)
    expect(validate(app('modules: [{ name: t, type: refs.thing, config: { n: "x" } }]'))).toBe(false)
  })

  it('describes components: and sandbox:, with the entry rules the loader checks in code', () => {
    const { validate } = validator()
    const good = app(`
sandbox: { workers: 2, limits: { memoryMb: "\${MEMORY_MB}" }, quarantine: { breaches: 5 } }
components:
  - directory: ./components
    grants: { kv: true }
  - file: ./quote.ts
    name: price-quote
    limits: { timeoutMs: 500 }
    grants: { fetch: { origins: ['https://api.example.com'] }, emit: ['orders.*'], secrets: [PRICING_KEY] }
    config: { currency: EUR }
`)
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true)
    expect(validate(app('components: [{ file: ./a.ts, directory: ./c }]'))).toBe(false)
    expect(validate(app('components: [{ name: a }]'))).toBe(false)
    expect(validate(app('components: [{ directory: ./c, name: a }]'))).toBe(false)
    expect(validate(app('components: [{ file: ./a.ts, grants: { fetch: { origins: [https://a.com/v1] } } }]'))).toBe(false)
    expect(validate(app('sandbox: { workers: 17 }'))).toBe(false)
  })

  it('leaves the engine\'s own file schema untouched', () => {
    validator()
    expect(FILE_SCHEMA.properties.apiVersion).not.toHaveProperty('enum')
  })
})
