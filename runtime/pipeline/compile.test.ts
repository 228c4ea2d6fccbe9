// The pipeline compiler and executor: step order, outputs, branches, early responses, errors, aborts, module access.
import { beforeEach, describe, expect, it } from 'vitest'
import { StepError, type RunScope } from '@islet/sdk'
import { isIsletError } from '../errors.ts'
import { silentLogger } from '../log/logger.ts'
import { branch, compile, rec, requestOf, resetSeen, run, seen, step } from './test-pipeline.ts'
import { rejectionOf } from '../expressions/test-scope.ts'

beforeEach(resetSeen)

describe('running steps', () => {
  it('runs steps in order; later steps read earlier outputs by name', async () => {
    const response = await run([rec('a', 1), step('test.async', { value: 2 }, 'b'), rec('c', '${{ steps.a + steps.b }}')])
    expect(seen.trace).toEqual(['a', 'b', 'c'])
    expect(response).toEqual({ status: 200, headers: {}, body: 3 })
  })

  it('answers 200 with the last output, or 204 when the last step outputs nothing', async () => {
    expect(await run([rec('a', { ok: true })])).toEqual({ status: 200, headers: {}, body: { ok: true } })
    expect(await run([rec('a', 1), step('log', { level: 'info', message: 'done' })])).toEqual({ status: 204, headers: {}, body: undefined })
    expect(await run([])).toMatchObject({ status: 204 })
  })

  it('creates each step once, however many runs', async () => {
    const pipeline = await compile([rec('a'), rec('b')])
    for (let i = 0; i < 3; i++) await pipeline.run(requestOf(), { logger: silentLogger() })
    expect(seen.creates).toBe(2)
  })

  it('gives every run a fresh, null-prototype steps object', async () => {
    const pipeline = await compile([rec('a', '${{ body }}'), step('test.peek', {}, 'peek')])
    const first = (await pipeline.run(requestOf(1), { logger: silentLogger() })).body as RunScope
    const second = (await pipeline.run(requestOf(2), { logger: silentLogger() })).body as RunScope
    expect(first.steps).not.toBe(second.steps)
    expect(Object.getPrototypeOf(first.steps)).toBeNull()
    expect(first.steps.a).toBe(1)
    expect(second.steps.a).toBe(2)
  })

  it('sync steps do not wait on the microtask queue between them', async () => {
    const pipeline = await compile([rec('a', 1), rec('b', 2), rec('c', 3), rec('d', 4)])
    const order: string[] = []
    const done = pipeline.run(requestOf(), { logger: silentLogger() }).then(() => order.push('run'))
    await Promise.resolve().then(() => order.push('tick'))
    await done
    expect(order).toEqual(['run', 'tick'])
  })
})

describe('branches', () => {
  const pipeline = () => [
    branch('${{ body.qty > 10 }}', [rec('bulk', 'bulk')], [rec('single', 'single')]),
    rec('after', '${{ steps.bulk ?? steps.single }}'),
  ]

  it('runs then when the condition is truthy, else otherwise', async () => {
    expect((await run(pipeline(), { qty: 50 })).body).toBe('bulk')
    expect(seen.trace).toEqual(['bulk', 'after'])
    seen.trace = []
    expect((await run(pipeline(), { qty: 1 })).body).toBe('single')
    expect(seen.trace).toEqual(['single', 'after'])
  })

  it('a branch without else skips straight past its then block', async () => {
    await run([branch('${{ body.go }}', [rec('inside')]), rec('after')], { go: false })
    expect(seen.trace).toEqual(['after'])
  })

  it('nests', async () => {
    const steps = [
      branch('${{ body.a }}', [
        rec('a1'),
        branch('${{ body.b }}', [rec('ab')], [branch('${{ body.c }}', [rec('ac')], [rec('a-none')])]),
        rec('a2'),
      ], [rec('not-a')]),
      rec('end'),
    ]
    const cases: [object, string[]][] = [
      [{ a: true, b: true }, ['a1', 'ab', 'a2', 'end']],
      [{ a: true, c: true }, ['a1', 'ac', 'a2', 'end']],
      [{ a: true }, ['a1', 'a-none', 'a2', 'end']],
      [{}, ['not-a', 'end']],
    ]
    const compiled = await compile(steps)
    for (const [body, expected] of cases) {
      seen.trace = []
      await compiled.run(requestOf(body), { logger: silentLogger() })
      expect(seen.trace).toEqual(expected)
    }
  })

  it('a respond inside a branch ends the pipeline there', async () => {
    const steps = [branch('${{ body.early }}', [step('respond', { status: 202, body: 'early' })]), rec('late', 'late')]
    expect(await run(steps, { early: true })).toEqual({ status: 202, headers: {}, body: 'early' })
    expect(seen.trace).toEqual([])
    expect((await run(steps, { early: false })).body).toBe('late')
  })
})

describe('errors', () => {
  it('a StepError passes through unchanged', async () => {
    const error = await rejectionOf(run([step('fail', { status: 409, code: 'ERR_TAKEN', message: 'taken' }), rec('never')]))
    expect(error).toBeInstanceOf(StepError)
    expect(error).toMatchObject({ status: 409, code: 'ERR_TAKEN', message: 'taken' })
    expect(seen.trace).toEqual([])
  })

  it.each([false, true])('any other error is ERR_STEP_FAILED naming the step (async: %s)', async (async) => {
    const error = await rejectionOf(run([rec('a'), step('test.throw', { async }, 'charge')]))
    expect(isIsletError(error, 'ERR_STEP_FAILED')).toBe(true)
    const e = error as Error & { details: unknown }
    expect(e.message).toBe(`step 'charge' of pipeline 'orders' failed: ${async ? 'async boom' : 'boom'}`)
    expect(e.details).toEqual({ pipeline: 'orders', step: 'charge' })
    expect(e.cause).toBeInstanceOf(TypeError)
  })

  it('an expression error passes through, marked with the step that evaluated it', async () => {
    const error = await rejectionOf(run([rec('total', '${{ body.qty * 2 }}')], { qty: 'two' }))
    expect(isIsletError(error, 'ERR_EXPRESSION_EVAL')).toBe(true)
    expect((error as { details: unknown }).details).toMatchObject({ expression: 'body.qty * 2', pipeline: 'orders', step: 'total' })
  })

  it('a branch condition that fails is blamed on the branch', async () => {
    const error = await rejectionOf(run([branch('${{ body.n > 1 }}', [rec('x')])], { n: 'many' }))
    expect((error as { details: { step: string } }).details.step).toMatch(/^if-/)
  })
})

describe('aborting', () => {
  it('stops between steps and rejects with the signal reason', async () => {
    const steps = [rec('a'), step('test.abort', {}, 'abort'), rec('never')]
    expect(await rejectionOf(run(steps, undefined, seen.controller.signal))).toBe(seen.reason)
    expect(seen.trace).toEqual(['a'])
  })

  it('an abort during an async step stops before the next one', async () => {
    const pending = run([step('test.async', { abort: true }, 'slow'), rec('never')], undefined, seen.controller.signal)
    expect(await rejectionOf(pending)).toBe(seen.reason)
    expect(seen.trace).toEqual(['slow'])
  })

  it('an already-aborted signal runs nothing', async () => {
    expect(await rejectionOf(run([rec('a')], undefined, AbortSignal.abort('gone')))).toBe('gone')
    expect(seen.trace).toEqual([])
  })
})
