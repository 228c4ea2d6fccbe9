// Expressions run on the engine's event loop over request data. The budget charges each element a function visits,
// but text functions called once per element of a large array must pay for the text they scan or build: else one
// short expression does (elements × text length) work for a few units, e.g. upper() of a 500 kB field per element
// of a 250 000-element array (both fit in a 1 MB body) is 125 GB of case conversion.
import { describe, expect, it } from 'vitest'
import { EXPRESSION_BUDGET } from '../../runtime/expressions/expression-budget.ts'
import { evalError, evaluate } from '../../runtime/expressions/test-scope.ts'

// Sized so the work is a few hundred MB (it finishes quickly if the budget does not stop it), while the units the
// elements alone cost stay far below the budget.
const xs = Array.from({ length: 2_000 }, (_, i) => i)
const big = 'a'.repeat(200_000)
const body = { xs, big, same: 'a'.repeat(200_000) }

describe('text work inside a lambda is charged', () => {
  it.each([
    ['map(body.xs, x => length(upper(body.big)))', 'upper()'],
    ['map(body.xs, x => length(lower(body.big)))', 'lower()'],
    ['map(body.xs, x => length(trim(body.big)))', 'trim()'],
    ["some(body.xs, x => contains(body.big, 'b'))", 'contains()'],
    ['map(body.xs, x => number(body.big))', 'number()'],
    ['some(body.xs, x => body.big != body.same)', "'!='"],
    ['every(body.xs, x => body.big == body.same)', "'=='"],
    ['some(body.xs, x => body.big < body.same)', "'<'"],
  ])('%s', (source, fn) => {
    // The per-element work alone (2 000 elements) is well within the budget: the text is what must be charged.
    expect(evaluate('length(map(body.xs, x => x))', { body })).toBe(xs.length)
    const error = fn === 'number()' ? errorWithout(source) : evalError(source, { body })
    expect(error.details).toMatchObject({ budget: EXPRESSION_BUDGET })
    expect(error.message).toContain(fn)
  })

  it('short text costs what it did: a filter over many rows by a short field still fits', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ name: i % 2 ? 'odd' : 'even' }))
    expect(evaluate("length(filter(body.rows, r => upper(r.name) == 'ODD'))", { body: { rows } })).toBe(100_000)
  })
})

/** number() of 200 000 'a's is refused as not numeric: this one is numeric text (leading zeros), parsed each time. */
function errorWithout(source: string) {
  return evalError(source, { body: { ...body, big: `${'0'.repeat(199_999)}1` } })
}

// map returns references: `map(xs, x => body.xs)` is n elements for n units, but the value is n × n once written
// out, by json() inside the expression or by whatever serialises the step's output (a response, a component's input).
// With 20 000 small numbers (40 kB of body) that is 400 million numbers: seconds of the event loop and gigabytes.
// map is the only way an expression multiplies shared data (the other functions return elements they were given),
// so charging what each lambda result weighs written out bounds every value an expression can make.
describe('values that share parts are charged at their written-out size', () => {
  const shared = { xs: Array.from({ length: 5_000 }, (_, i) => i), big: 'b'.repeat(100_000) }

  it.each([
    ['json(map(body.xs, x => body.xs))', 'map()'],
    ['length(map(body.xs, x => { line: x, order: body }))', 'map()'],
    ["length(map(body.xs, x => body.big))", 'map()'],
  ])('%s', (source, fn) => {
    const error = evalError(source, { body: shared })
    expect(error.details).toMatchObject({ budget: EXPRESSION_BUDGET, function: fn })
  })

  it('reshaping rows still fits: a small object per row of 100 000 rows', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: i, name: `n${i}`, data: '{"qty":1}' }))
    expect(evaluate('length(map(body.rows, r => { id: r.id, name: r.name, row: r }))', { body: { rows } })).toBe(100_000)
  })
})

// A JSON body deeper than 256 levels is refused by the HTTP server (ERR_HTTP_BODY_TOO_DEEP), but a string field holds
// any nesting: parseJson of it made a value 200 000 levels deep, which a component's input, string() or a response
// then failed on with a stack overflow (ERR_INTERNAL). parseJson holds text to the same depth as bodies.
describe('parseJson nesting', () => {
  it('text nesting deeper than 256 levels is a loud ERR_EXPRESSION_EVAL, not a value that overflows the stack later', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000)
    const error = evalError('parseJson(body.s)', { body: { s: deep } })
    expect(error.message).toContain('parseJson() got text nesting arrays and objects deeper than 256 levels')
    expect(evaluate('length(parseJson(body.s))', { body: { s: `${'['.repeat(256)}${']'.repeat(256)}` } })).toBe(1)
    // Brackets inside strings are text, not nesting.
    expect(evaluate('parseJson(body.s)', { body: { s: JSON.stringify({ a: '['.repeat(1000) }) } })).toEqual({ a: '['.repeat(1000) })
  })
})
