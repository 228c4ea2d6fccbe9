// Compile-time reports of the expression language: syntax errors with offsets, unknown names, calls it refuses.
import { describe, expect, it } from 'vitest'
import { compileError } from './test-scope.ts'

describe('syntax errors carry an offset into the source', () => {
  it.each([
    ['1 +', 3, /expected an expression, found the end/],
    ['body.', 5, /expected a property name/],
    ['(1 + 2', 6, /expected '\)'/],
    ['[1, 2', 5, /expected '\]'/],
    ['{a 1}', 3, /expected ':'/],
    ['{a: 1, a: 2}', 7, /duplicate key 'a'/],
    ['{[x]: 1}', 1, /expected a key/],
    ['1 2', 2, /unexpected '2'/],
    ['body.qty *', 10, /expected an expression/],
    ["'abc", 0, /unterminated string/],
    ['"a\\qb"', 2, /unknown escape '\\q'/],
    ["'\\u12'", 1, /malformed '\\u' escape/],
    ['12abc', 0, /malformed number/],
    ['a @ b', 2, /unexpected character '@'/],
    ['x ? 1', 5, /expected ':'/],
    ['', 0, /expected an expression/],
  ])('%s', (source, offset, message) => {
    const error = compileError(source)
    expect(error.details.offset).toBe(offset)
    expect(error.message).toMatch(message)
  })

  it.each([
    ['a === b', 2, "use '=='"], ['a !== b', 2, "use '!='"], ['body?.x', 4, 'already null-safe'],
    ['a = 1', 2, "use '=='"], ['a & b', 2, "use '&&'"], ['a | b', 2, "use '||'"],
  ])('JavaScript habit %s gets a hint', (source, offset, hint) => {
    const error = compileError(source)
    expect(error.details.offset).toBe(offset)
    expect(error.details.hint).toContain(hint)
  })

  it('nesting is bounded, so a pathological expression cannot overflow the stack', () => {
    expect(compileError(`${'('.repeat(200)}1${')'.repeat(200)}`).message).toMatch(/nested too deeply/)
    expect(compileError(`${'-'.repeat(200)}1`).message).toMatch(/nested too deeply/)
  })
})

describe('names', () => {
  it.each([
    ['bdy.qty', "unknown variable 'bdy'", "did you mean 'body'?", 0],
    ['1 + stpes.order', "unknown variable 'stpes'", "did you mean 'steps'?", 4],
    ['header.host', "unknown variable 'header'", "did you mean 'headers'?", 0],
    ['zebra', "unknown variable 'zebra'", 'the variables are input, meta, locals, steps, body, params, query, headers, request', 0],
    ['undefined', "unknown variable 'undefined'", 'use null', 0],
    ['uper(body.name)', "unknown function 'uper'", "did you mean 'upper'?", 0],
    ['uppercase(body.name)', "unknown function 'uppercase'", "did you mean 'upper'?", 0],
    ['frobnicate(1)', "unknown function 'frobnicate'", 'the functions are now, uuid,', 0],
    ['now', "'now' is a function", 'call it: now(…)', 0],
    ['request.body', "request has no 'body'", "use 'body' on its own", 8],
    ['request.methd', "request has no 'methd'", "did you mean 'method'?", 8],
  ])('%s', (source, message, hint, offset) => {
    const error = compileError(source)
    expect(error.message).toContain(message)
    expect(error.details.hint).toContain(hint)
    expect(error.details.offset).toBe(offset)
  })
})

describe('calls', () => {
  it.each([
    ['body.name.toUpperCase()', 'use upper(x)', 10],
    ['body.name.toLowerCase()', 'use lower(x)', 10],
    ['body.tags.includes("a")', 'use contains(x)', 10],
    ['body.x.trim()', 'use trim(x)', 7],
    ['JSON.stringify(body)', 'use json(x)', 5],
    ['body.items.map(x)', 'use map(x)', 11],
    ['body.items.frobnicate(x)', 'call one of the functions instead', 11],
  ])('method call %s is refused with a hint', (source, hint, offset) => {
    const error = compileError(source)
    expect(error.message).toBe('methods cannot be called')
    expect(error.details.hint).toContain(hint)
    expect(error.details.offset).toBe(offset)
  })

  it.each([
    ['now(1)', 'now() takes 0 arguments, got 1'],
    ['upper()', 'upper() takes 1 argument, got 0'],
    ['round(1, 2, 3)', 'round() takes 1 to 2 arguments, got 3'],
    ['default(1)', 'default() takes 2 arguments, got 1'],
  ])('%s has the wrong number of arguments', (source, message) => {
    expect(compileError(source).message).toBe(message)
  })

  it('only named functions can be called', () => {
    expect(compileError('body(1)').message).toBe("'body' is a variable, not a function")
    expect(compileError('upper(1)(2)').message).toBe('only functions can be called')
    expect(compileError("'x'()").message).toBe('only functions can be called')
  })
})
