// Array transforms with lambdas, their cost budget, and loud errors on bad input.
import { describe, expect, it } from 'vitest'
import { EXPRESSION_BUDGET } from './expression-budget.ts'
import { compileExpression } from './expression.ts'
import { compileError, evalError, evaluate, scopeOf, HTTP_LANGUAGE } from './test-scope.ts'

const rows = [
  { id: 3, name: 'c', data: '{"tags":["x"],"qty":2}' },
  { id: 1, name: 'a', data: '{"tags":[],"qty":5}' },
  { id: 2, name: 'b', data: null },
]
const steps = { q: { rows } }

describe('array transforms', () => {
  it.each([
    ['map(steps.q.rows, r => r.id)', [3, 1, 2]],
    ['map(steps.q.rows, (r) => r.name + "!")', ['c!', 'a!', 'b!']],
    ['map(steps.q.rows, (r, i) => i * 10 + r.id)', [3, 11, 22]],
    ['map(steps.q.rows, r => parseJson(r.data))', [{ tags: ['x'], qty: 2 }, { tags: [], qty: 5 }, null]],
    ['map(filter(steps.q.rows, r => r.data != null), r => parseJson(r.data).qty)', [2, 5]],
    ['filter(steps.q.rows, r => r.id > 1)', [rows[0], rows[2]]],
    ["find(steps.q.rows, r => r.name == 'a')", rows[1]],
    ["find(steps.q.rows, r => r.name == 'z')", null],
    ['some(steps.q.rows, r => r.id == 2)', true],
    ['every(steps.q.rows, r => r.id > 0)', true],
    ['every([], r => false)', true],
    ['map(sortBy(steps.q.rows, r => r.id), r => r.name)', ['a', 'b', 'c']],
    ["map(sortBy(steps.q.rows, r => r.name, 'desc'), r => r.id)", [3, 2, 1]],
    ['sortBy([{k: 2}, {k: null}, {k: 1}], x => x.k)', [{ k: 1 }, { k: 2 }, { k: null }]],
    ["join(map(steps.q.rows, r => r.name), '-')", 'c-a-b'],
    ['join([1, null, true])', '1,,true'],
    ['slice(steps.q.rows, 1)', rows.slice(1)],
    ['slice([1, 2, 3, 4], -2)', [3, 4]],
    ["slice('abcdef', 1, 3)", 'bc'],
    ['flatten([[1, 2], 3, [[4]]])', [1, 2, 3, [4]]],
    ['flatten(map(steps.q.rows, r => [r.id, r.id]))', [3, 3, 1, 1, 2, 2]],
    ['values({b: 1, a: [2]})', [1, [2]]],
    ['map(body.missing, x => x)', []],
    // Nested lambdas see the outer parameter.
    ['map([1, 2], x => map([10, 20], y => x + y))', [[11, 21], [12, 22]]],
  ])('%s', (source, value) => {
    expect(evaluate(source, { steps, body: {} })).toEqual(value)
  })

  it("the README's examples", () => {
    const sql = [{ id: 2, data: '{"qty":12}' }, { id: 1, data: '{"qty":3}' }]
    const at = (source: string) => evaluate(source, { steps: { rows: sql } })
    expect(at('map(steps.rows, r => r.id)')).toEqual([2, 1])
    expect(at('map(steps.rows, r => parseJson(r.data))')).toEqual([{ qty: 12 }, { qty: 3 }])
    expect(at('filter(map(steps.rows, r => parseJson(r.data)), o => o.qty >= 10)')).toEqual([{ qty: 12 }])
    expect(at("join(map(sortBy(steps.rows, r => r.id), r => 'order ' + r.id), ', ')")).toBe('order 1, order 2')
  })

  it('a compiled lambda is evaluated afresh per run: no element of one run leaks into the next', () => {
    const f = compileExpression('map(body.xs, x => x * 2)', HTTP_LANGUAGE)
    expect(f(scopeOf({ body: { xs: [1, 2] } }))).toEqual([2, 4])
    expect(f(scopeOf({ body: { xs: [5] } }))).toEqual([10])
  })
})

describe('lambdas are anonymous single expressions, only where a function takes one', () => {
  it.each([
    ['x => x', 'a lambda can only be an argument of map, filter, find, some, every, sortBy', 0],
    ['map(body.xs, body)', 'map() takes a lambda as its argument 2', 13],
    ['map(x => x, body.xs)', 'map() takes its lambda as argument 2', 4],
    ['filter(body.xs)', 'filter() takes 2 arguments, got 1', 0],
    ['join(body.xs, x => x)', 'a lambda can only be an argument of', 14],
    ['map(body.xs, body => body)', "the lambda parameter 'body' would hide the variable", 13],
    ['map(body.xs, x => map(x, x => x))', "the lambda parameter 'x' would hide the outer parameter", 25],
    ['map(body.xs, (a, b, c) => a)', 'one or two parameters', 20],
    ['map(body.xs, (a.b) => a)', 'a lambda parameter is a name', 16],
    ['map(body.xs, x => x(1))', "'x' is a lambda parameter, not a function", 18],
    ['map(body.xs, x =>)', "expected an expression, found ')'", 17],
    ['map(body.xs, () => 1)', 'expected an expression inside ()', 14],
    ['map(body.xs, => 1)', "'=>' needs a parameter before it", 13],
    ["sortBy(body.xs, x => x.n, 'up')", "sortBy() takes 'asc' or 'desc' as its argument 3, got \"up\"", 26],
  ])('%s', (source, message, offset) => {
    const error = compileError(source)
    expect(error.message).toContain(message)
    expect(error.details.offset).toBe(offset)
  })

  it('a parameter is visible only inside its lambda', () => {
    expect(compileError('[map(body.xs, x => x), x]').message).toContain("unknown variable 'x'")
  })
})

describe('the cost budget', () => {
  it('a quadratic expression over modest data stops with ERR_EXPRESSION_EVAL naming the budget and a fix', () => {
    const xs = Array.from({ length: 1100 }, (_, i) => i)
    const error = evalError('map(body.xs, x => map(body.xs, y => x * y))', { body: { xs } })
    expect(error.message).toContain(`budget of ${EXPRESSION_BUDGET.toLocaleString('en')} units`)
    expect(error.message).toContain('${{ map(body.xs, x => map(body.xs, y => x * y)) }}')
    expect(error.message).toMatch(/LIMIT them in SQL|component/)
    expect(error.details).toMatchObject({ budget: EXPRESSION_BUDGET, function: 'map()' })
  })

  it('text built per element counts too', () => {
    const big = 'x'.repeat(100_000)
    expect(evalError('join(map(body.xs, x => body.big + x))', { body: { xs: Array.from({ length: 200 }, (_, i) => i), big } }).details.budget)
      .toBe(EXPRESSION_BUDGET)
  })

  it('the budget is per evaluation: the same expression runs again after one that used most of it', () => {
    const f = compileExpression('length(map(body.xs, x => x))', HTTP_LANGUAGE)
    const xs = Array.from({ length: 900_000 }, () => 1)
    expect(f(scopeOf({ body: { xs } }))).toBe(900_000)
    expect(f(scopeOf({ body: { xs } }))).toBe(900_000)
  })
})

describe('bad input is a loud error naming the function, the expression and the value', () => {
  it.each([
    ["int('abc')", 'int() needs a number, numeric text or a boolean, got "abc"'],
    ["number('')", 'got ""'],
    ['number(body.obj)', 'got object {"a":1}'],
    ['int(body.long)', `got "${'y'.repeat(60)}"…`],
    ['map(body.obj, x => x)', 'map() needs an array, got object {"a":1}'],
    ['join([{a: 1}])', 'join() needs text, numbers or booleans (element 0'],
    ['sortBy([{k: 1}, {k: "a"}], x => x.k)', 'sortBy() needs keys that are all numbers or all strings, got numbers and string (element 1)'],
    ['sortBy([], x => x, body.long)', "'asc' or 'desc'"],
    ['slice([1], 0.5)', 'slice() needs an integer start'],
    ["parseJson('{nope')", 'parseJson() got text that is not JSON'],
    ['upper(body.obj)', 'upper() needs a string, got object {"a":1}'],
  ])('%s', (source, message) => {
    const error = evalError(source, { body: { obj: { a: 1 }, long: 'y'.repeat(500) } })
    expect(error.message).toContain(message)
    expect(error.message).toContain(`\${{ ${source} }}`)
    expect(error.details.expression).toBe(source)
  })
})
