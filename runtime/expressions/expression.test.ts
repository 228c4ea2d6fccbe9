// The runtime expression language: grammar, evaluation, null-safety, the data-only guarantees and error reports.
import { describe, expect, it } from 'vitest'
import { compileExpression } from './expression.ts'
import { compileError, evaluate, HTTP_LANGUAGE, scopeOf, type ScopeInput } from './test-scope.ts'

describe('literals', () => {
  it.each([
    ['42', 42], ['3.25', 3.25], ['1e3', 1000], ['2.5E-1', 0.25],
    ["'single'", 'single'], ['"double"', 'double'], ["'it\\'s'", "it's"], ['"a\\nb\\t\\"c\\\\"', 'a\nb\t"c\\'],
    ["'\\u0041\\u{1F600}'", 'A😀'], ['true', true], ['false', false], ['null', null],
    ['[1, "two", [3]]', [1, 'two', [3]]], ['[1, 2,]', [1, 2]], ['[]', []],
    ['{a: 1, "b-c": "x", 3: true}', { a: 1, 'b-c': 'x', 3: true }], ['{a: {b: {}}}', { a: { b: {} } }],
  ])('%s', (source, value) => {
    expect(evaluate(source)).toEqual(value)
  })

  it('builds a fresh array or object on every evaluation', () => {
    const compiled = compileExpression('{list: [body]}', HTTP_LANGUAGE)
    const scope = scopeOf({ body: 1 })
    expect(compiled(scope)).not.toBe(compiled(scope))
  })
})

describe('variables', () => {
  const input: ScopeInput = {
    body: { qty: 2 }, params: { id: '7' }, query: { q: 'x' }, headers: { 'x-api-key': 'k1' }, steps: { order: { id: 'o1' } },
  }

  it.each([
    ['body.qty', 2], ['params.id', '7'], ['query.q', 'x'], ["headers['x-api-key']", 'k1'], ['steps.order.id', 'o1'],
    ['request.id', 'req-1'], ['request.method', 'POST'], ['request.path', '/orders/7'], ["request['method']", 'POST'],
  ])('%s', (source, value) => {
    expect(evaluate(source, input)).toEqual(value)
  })

  it('request on its own is only id, method and path', () => {
    expect(evaluate('request', input)).toEqual({ id: 'req-1', method: 'POST', path: '/orders/7' })
    expect(evaluate('request[query.k]', { query: { k: 'body' }, body: 1 })).toBeUndefined()
    expect(compileError("request['body']").details.hint).toBe("use 'body' on its own")
  })
})

describe('member access', () => {
  const body = { a: { b: [10, 20, { c: 'deep' }] }, name: 'Ann', nothing: null, length: 5 }

  it.each([
    ['body.a.b[2].c', 'deep'], ['body.a.b[1]', 20], ["body['a']['b'][0]", 10], ['body.a.b[0 + 1]', 20],
    ['body.name.length', 3], ['body.a.b.length', 3], ['body.length', 5], ["body.a.b['1']", 20],
  ])('%s', (source, value) => {
    expect(evaluate(source, { body })).toEqual(value)
  })

  it.each([
    'body.missing', 'body.missing.deeper.still', 'body.nothing.x', 'body.a.b[3]', 'body.a.b[-1]', 'body.a.b[0.5]',
    'body.name.first', 'body.name[0]', 'body.a.b.c', 'body.a.b[true]', 'body.a[null]',
  ])('%s is undefined, not an error', (source) => {
    expect(evaluate(source, { body })).toBeUndefined()
  })

  it('is null-safe when the root itself is null or undefined', () => {
    expect(evaluate('body.a.b', { body: null })).toBeUndefined()
    expect(evaluate('body.a.b', {})).toBeUndefined()
  })

  it('sees own properties only, never inherited ones', () => {
    for (const name of ['toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf']) {
      expect(evaluate(`body.${name}`, { body: {} })).toBeUndefined()
      expect(evaluate(`body.items.${name}`, { body: { items: [] } })).toBeUndefined()
    }
    expect(evaluate('body.x', { body: Object.create({ x: 'inherited' }) })).toBeUndefined()
  })

  it('sees null-prototype objects (route params and parsed query strings are) but not class instances', () => {
    const query = Object.assign(Object.create(null), { page: '2' })
    expect(evaluate('query.page', { query })).toBe('2')
    function NullObject() {}
    NullObject.prototype = Object.create(null)
    const params = Object.assign(new (NullObject as unknown as new () => object)(), { id: '7' }) as Record<string, string>
    expect(evaluate('params.id', { params })).toBe('7')
    expect(evaluate('query.q', { query: new URLSearchParams('q=1') as never })).toBeUndefined()
    class Order { id = 'o1' }
    expect(evaluate('steps.order.id', { steps: { order: new Order() } })).toBeUndefined()
    expect(evaluate('steps.map.size', { steps: { map: new Map([[1, 2]]) } })).toBeUndefined()
  })
})

describe('names that lead to code', () => {
  it.each(['body.__proto__', 'body.constructor', 'steps.x.prototype', "body['__proto__']", "body['constructor']"])(
    'static %s is a compile error', (source) => {
      expect(compileError(source).details.hint).toMatch(/data only/)
    })

  it.each(['__proto__', 'constructor', 'prototype'])('computed %s yields undefined, even as an own property', (name) => {
    const body = JSON.parse(`{"${name}": {"polluted": true}}`)
    expect(evaluate('body[query.k]', { body, query: { k: name } })).toBeUndefined()
    expect(evaluate('body.x[query.k]', { body: { x: [] }, query: { k: name } })).toBeUndefined()
  })

  it('cannot use a forbidden name as an object key', () => {
    expect(compileError('{__proto__: body}').details.offset).toBe(1)
    expect(compileError('{"constructor": 1}').message).toMatch(/cannot be used as a key/)
  })

  it('a __proto__ payload in the body reaches no prototype', () => {
    const body = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": {"__proto__": {"polluted": "yes"}}}')
    const sources = ['{copy: body, inner: body.a}', 'json(body)', 'keys(body)', "parseJson('{\"__proto__\": {\"polluted\": 1}}')",
      'body[query.k].polluted', 'default(body.a, 1)', '[body, body.a]']
    for (const source of sources) evaluate(source, { body, query: { k: '__proto__' } })
    const parsed = evaluate("parseJson('{\"__proto__\": {\"polluted\": 1}}')") as object
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false)
  })

  it('cannot reach a function, let alone call one', () => {
    const error = compileError("body.constructor.constructor('return process')()")
    expect([error.message, error.details.offset]).toEqual(["'constructor' cannot be read", 17])
    expect(compileError('(1 + 2)(3)').message).toMatch(/only functions can be called/)
    expect(compileError('steps.fn.call()').message).toMatch(/methods cannot be called/)
  })
})
