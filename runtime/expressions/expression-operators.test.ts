// Operators and whitelisted functions of the expression language, including the type errors they raise.
import { describe, expect, it } from 'vitest'
import { evalError, evaluate } from './test-scope.ts'

const body = { qty: 3, price: 2.5, name: 'Ann', zero: 0, empty: '', none: null, list: [1, 2, 3], tags: ['a', 'b'] }

describe('operators', () => {
  it.each([
    ['!true', false], ['!body.missing', true], ['!!body.name', true], ['!0', true],
    ['-body.qty', -3], ['+body.qty', 3], ['- -2', 2],
    ['body.qty * body.price', 7.5], ['7 / 2', 3.5], ['7 % 4', 3], ['-7 % 4', -3],
    ['body.qty + 1', 4], ['body.qty - 5', -2],
    ["'a' + 'b'", 'ab'], ["'n=' + body.qty", 'n=3'], ["body.qty + '!'", '3!'], ["'x' + body.none + body.missing", 'x'],
    ["'l=' + body.tags", 'l=["a","b"]'], ["'o=' + {a: 1}", 'o={"a":1}'], ["'t=' + true", 't=true'],
    ['1 < 2', true], ['2 <= 2', true], ['3 > 4', false], ['4 >= 5', false], ["'abc' < 'abd'", true], ["'b' >= 'a'", true],
    ['1 == 1', true], ["1 == '1'", false], ['0 == false', false], ["'' == 0", false], ['body.list == body.list', true],
    ['[1] == [1]', false], ['{} != {}', true], ['1 != 2', true], ["'a' != 'a'", false],
    ['body.missing == null', true], ['body.none == null', true], ['body.zero == null', false], ['body.missing != null', false],
    ['body.name && body.qty', 3], ['body.empty && body.qty', ''], ['body.zero || 9', 9], ["body.name || 'x'", 'Ann'],
    ['body.none ?? 5', 5], ['body.missing ?? 5', 5], ['body.zero ?? 5', 0], ["body.empty ?? 'x'", ''],
    ['body.qty > 2 ? "big" : "small"', 'big'], ['body.qty > 5 ? 1 : body.qty > 2 ? 2 : 3', 2],
    ['true ? false ? 1 : 2 : 3', 2],
  ])('%s', (source, value) => {
    expect(evaluate(source, { body })).toEqual(value)
  })

  it.each([
    ['1 + 2 * 3', 7], ['(1 + 2) * 3', 9], ['10 - 4 - 3', 3], ['2 * 3 % 4', 2], ['-2 * 3', -6], ['!1 == false', true],
    ['1 < 2 == true', true], ['1 + 1 == 2 && 3 > 2', true], ['false && true || true', true], ['true || false && false', true],
    ['null || false ?? 1', false], ['null ?? 1 + 1', 2], ['1 > 0 ? 2 + 3 : 4', 5],
  ])('precedence: %s', (source, value) => {
    expect(evaluate(source)).toEqual(value)
  })

  it('&&, || and ?? short-circuit: the right side is not evaluated', () => {
    expect(evaluate('false && 1 / 0')).toBe(false)
    expect(evaluate('true || 1 / 0')).toBe(true)
    expect(evaluate('1 ?? 1 / 0')).toBe(1)
    expect(evaluate('true ? 1 : 1 / 0')).toBe(1)
  })

  it.each([
    ['body.name * 2', '*', ['string', 'number']], ['body.qty - body.name', '-', ['number', 'string']],
    ['body.none + 1', '+', ['null', 'number']], ['body.missing + 1', '+', ['undefined', 'number']],
    ['body.list + 1', '+', ['array', 'number']], ['true + 1', '+', ['boolean', 'number']],
    ["body.qty < '5'", '<', ['number', 'string']], ['body.none >= 0', '>=', ['null', 'number']],
    ['body.list / 2', '/', ['array', 'number']], ['-body.name', '-', ['string']], ["+'3'", '+', ['string']],
    ['body.missing % 2', '%', ['undefined', 'number']],
  ])('%s is a type error, never NaN', (source, operator, types) => {
    const error = evalError(source, { body })
    expect(error.details).toMatchObject({ expression: source, operator, types })
    expect(error.message).toContain(source)
    expect(error.message).toContain(types[0])
  })

  it('division and remainder by zero are errors, not Infinity or NaN', () => {
    expect(evalError('body.qty / body.zero', { body }).message).toMatch(/division by zero in \$\{\{ body\.qty \/ body\.zero }}/)
    expect(evalError('1 % 0').details.operator).toBe('%')
  })

  it('the error offset points at the failing operator inside the expression', () => {
    expect(evalError('1 + 2 * body.name', { body }).details.offset).toBe(6)
  })
})

describe('functions', () => {
  it.each([
    ['length(body.name)', 3], ['length(body.list)', 3], ['length({a: 1, b: 2})', 2], ['length(body.missing)', 0],
    ['lower(body.name)', 'ann'], ['upper(body.name)', 'ANN'], ["trim('  x ')", 'x'], ['upper(body.none)', null],
    ['lower(body.missing)', undefined],
    ["number('12.5')", 12.5], ["number(' 7 ')", 7], ['number(true)', 1], 
    ['number(body.missing)', null], ["int('12.9')", 12], ['int(-3.7)', -3], ['int(body.none)', null],
    ['string(12)', '12'], ['string(null)', ''], ['string({a: [1]})', '{"a":[1]}'], ['string(false)', 'false'],
    ['round(2.5)', 3], ['round(-2.5)', -3], ['round(1.005, 2)', 1.01], ['round(body.price * 3.333, 1)', 8.3], ['round(7, 3)', 7],
    // Past 1e21 once scaled the value is already rounded, and below 1e-6 too it is rounded by its digits (both were
    // NaN: such numbers print with an exponent, '1e+22' and '5e-7', and the rounding went through that text).
    ['round(100000000000000, 8)', 1e14], ['round(12345678.5, 15)', 12345678.5], ['round(-12345.25, 15)', -12345.25],
    ['round(0.0000005, 6)', 0.000001], ['round(0.0000004, 6)', 0], ['round(0.0000000123, 9)', 1.2e-8],
    ['json({a: body.name})', '{"a":"Ann"}'], ['json(body.missing)', 'null'], ["parseJson('[1, {\"a\": 2}]')", [1, { a: 2 }]],
    ['parseJson(body.none)', null],
    ['default(body.missing, 5)', 5], ['default(body.none, 5)', 5], ['default(body.zero, 5)', 0],
    ['keys({b: 1, a: 2})', ['b', 'a']], ['keys(body.missing)', []],
    ["contains(body.name, 'nn')", true], ["contains(body.tags, 'b')", true], ['contains(body.list, 4)', false],
    ["contains(body.missing, 'x')", false],
    ['sum(body.list)', 6], ['sum([])', 0], ['sum(body.missing)', 0],
  ])('%s', (source, value) => {
    expect(evaluate(source, { body })).toEqual(value)
  })

  it('now() is the current ISO time and uuid() a fresh v4 UUID', () => {
    const before = Date.now()
    const now = evaluate('now()') as string
    expect(Date.parse(now)).toBeGreaterThanOrEqual(before - 1)
    expect(now).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const [a, b] = evaluate('[uuid(), uuid()]') as string[]
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a).not.toBe(b)
  })

  it.each([
    ['upper(5)', 'upper', 'number'], ['length(5)', 'length', 'number'], ['round(body.name)', 'round', 'string'],
    ['keys(body.list)', 'keys', 'array'], ['contains(5, 1)', 'contains', 'number'], ["contains('abc', 1)", 'contains', 'number'],
    ['sum(body.name)', 'sum', 'string'], ["sum([1, '2'])", 'sum', 'string'], ['parseJson(5)', 'parseJson', 'number'],
  ])('%s is a type error naming the function and the type', (source, fn, type) => {
    const error = evalError(source, { body })
    expect(error.details).toMatchObject({ function: fn, type })
    expect(error.message).toContain(source)
  })

  it('round() digits must be an integer from 0 to 15', () => {
    expect(evalError('round(1.5, 16)').message).toMatch(/0 to 15 digits, got number 16/)
    expect(evalError('round(1.5, 0.5)').details.function).toBe('round')
  })

  it('parseJson() of text that is not JSON is an evaluation error', () => {
    expect(evalError("parseJson('{nope')").message).toMatch(/not JSON/)
  })
})
