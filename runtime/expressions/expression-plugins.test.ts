// The calling convention of plugin expression functions: copies in, a checked copy out, sizes charged to the budget.
import { defineFunction, type ExpressionFunction } from '@islet/sdk'
import { describe, expect, it } from 'vitest'
import { compileError, evalError, evaluate } from './test-scope.ts'

const table = (...fns: ExpressionFunction[]) => new Map(fns.map((f) => [f.name, f]))
const identity = defineFunction({ name: 't.id', minArgs: 1, call: (x) => x })
const odd = defineFunction({ name: 't.odd', minArgs: 1, call: (kind) => (kind === 'map' ? new Map() : kind === 'nan' ? NaN : undefined) })

describe('plugin function calls', () => {
  it('return a frozen copy; undefined reads as null', () => {
    const out = evaluate('t.id(body)', { body: { a: [1, { b: 'x' }] } }, table(identity)) as { a: unknown[] }
    expect(out).toEqual({ a: [1, { b: 'x' }] })
    expect(Object.isFrozen(out.a)).toBe(true)
    expect(evaluate("t.odd('none')", {}, table(odd))).toBeNull()
  })

  it('refuse results that are not JSON data', () => {
    expect(evalError("t.odd('map')", {}, table(odd)).message).toMatch(/its result holds a Map object, which is not JSON data/)
    expect(evalError("t.odd('nan')", {}, table(odd)).message).toMatch(/its result holds NaN/)
  })

  it('charge the size of their arguments to the budget', () => {
    const xs = Array.from({ length: 2_000 }, (_, i) => i)
    expect(evalError('map(body.xs, x => t.id(body.xs))', { body: { xs } }, table(identity)).details).toMatchObject({ function: 't.id()' })
  })

  it('take no lambda, and keep their arity', () => {
    expect(compileError('t.id(x => x)', table(identity)).message).toContain('t.id() is a plugin function: it takes data, not a lambda')
    expect(compileError('t.id(1, 2)', table(identity)).message).toBe('t.id() takes 1 argument, got 2')
  })
})
