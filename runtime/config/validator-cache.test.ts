// The on-disk config validator cache: a stored validator behaves exactly as a compiled one, a changed schema is never
// served an old validator, and a damaged or deleted cache only costs a compile.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { appPath, moduleRef, pipelineRef, type JsonSchema } from '@islet/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { check, createConfigAjv } from './validate.ts'
import { loadValidator, storableKey, VALIDATOR_CACHE_DIR } from './validator-cache.ts'

const made: JsonSchema[] = []
afterAll(() => { for (const schema of made) rmSync(join(VALIDATOR_CACHE_DIR, `${storableKey(schema)}.cjs`), { force: true }) })

/** A schema no other test (nor an earlier run) stored: its description is unique. Removed from the cache after. */
function freshSchema(): JsonSchema {
  const schema: JsonSchema = {
    type: 'object', additionalProperties: false, required: ['db'],
    description: `validator-cache test ${process.pid} ${Math.random()}`,
    properties: {
      db: moduleRef('the database', { name: 'sql.database' } as never),
      routes: { type: 'array', items: { type: 'object', properties: { pipeline: pipelineRef('answers', { trigger: 'http' }) } } },
      migrations: appPath('migrations folder'),
      port: { type: 'integer', maximum: 65535, default: 8080 },
      when: { type: 'string', format: 'date-time' },
    },
  }
  made.push(schema)
  return schema
}

/** A copy by value: another object with the same content, as a fresh process has. */
const copy = (schema: JsonSchema): JsonSchema => JSON.parse(JSON.stringify(schema)) as JsonSchema

const value = () => ({ db: 'main', routes: [{ pipeline: 'p' }, {}], migrations: './m', when: 'not a date', extra: 1 })

describe('config validator cache', () => {
  it('stores a compiled validator, and the stored one reports the same errors, references, paths and defaults', () => {
    const schema = freshSchema()
    const key = storableKey(schema)!
    expect(loadValidator(key)).toBeUndefined()
    const compiled = check(schema, value())
    expect(existsSync(join(VALIDATOR_CACHE_DIR, `${key}.cjs`))).toBe(true)

    const stored = loadValidator(key)!
    const found = { refs: [], paths: [] }
    const data = value()
    const isValid = stored.call(found, data)
    expect(isValid).toBe(false)
    expect(compiled.isValid).toBe(false)
    expect(stored.errors).toEqual(compiled.errors)
    expect(found).toEqual({ refs: compiled.refs, paths: compiled.paths })
    expect(compiled.refs).toEqual([
      { kind: 'module', name: 'main', pointer: '/db', contract: 'sql.database' },
      { kind: 'pipeline', name: 'p', pointer: '/routes/0/pipeline', trigger: 'http' },
    ])
    expect(compiled.paths).toEqual([{ kind: 'app', path: './m', pointer: '/migrations' }])
    expect((data as Record<string, unknown>).port).toBe(8080)
    // And through check(): a schema equal by content (a new process) is served from the disk, with the same result.
    expect(check(copy(schema), value())).toEqual(compiled)
  })

  it('never serves a validator to a schema that differs in any way', () => {
    const schema = freshSchema()
    check(schema, value())
    const changed = copy(schema) as { properties: { port: { maximum: number } } }
    changed.properties.port.maximum = 80
    made.push(changed as JsonSchema)
    expect(storableKey(changed)).not.toBe(storableKey(schema))
    expect(check(changed as JsonSchema, { db: 'x', port: 8080 }).errors.map((e) => e.message)).toEqual(['must be <= 80'])
  })

  it('ignores a damaged stored file: compiles, answers right, and stores it again', () => {
    const schema = freshSchema()
    const key = storableKey(schema)!
    const file = join(VALIDATOR_CACHE_DIR, `${key}.cjs`)
    check(copy(schema), value())
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 200))
    const result = check(schema, { db: 'main', port: 'x' })
    expect(result.errors.map((e) => `${e.instancePath} ${e.message}`)).toEqual(['/port must be integer'])
    expect(result.refs).toEqual([{ kind: 'module', name: 'main', pointer: '/db', contract: 'sql.database' }])
    expect(readFileSync(file, 'utf8').length).toBeGreaterThan(200)
  })

  it('works with the cache folder deleted', () => {
    const schema = freshSchema()
    rmSync(join(VALIDATOR_CACHE_DIR, `${storableKey(schema)}.cjs`), { force: true })
    expect(check(schema, value()).refs).toHaveLength(2)
  })

  it('does not store what JSON cannot name exactly, nor schemas tied to others by $id', () => {
    expect(storableKey({ type: 'string', default: undefined })).toBeUndefined()
    expect(storableKey({ type: 'object', properties: { a: { $ref: 'https://example.com/other.json' } } })).toBeUndefined()
    expect(storableKey({ $id: 'https://example.com/x.json', type: 'string' })).toBeUndefined()
    expect(storableKey({ type: 'object', definitions: { a: { type: 'string' } }, properties: { b: { $ref: '#/definitions/a' } } })).toBeDefined()
  })

  it('keeps the keywords working on a validator called without a collector', () => {
    const validate = createConfigAjv().compile(freshSchema())
    expect(validate({ db: 'main' })).toBe(true)
  })
})
