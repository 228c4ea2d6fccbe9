// foreach and parallel: outputs a YAML author reads as steps.<name>, per-item errors, and fail-fast cancelling.
import { describe, expect, it } from 'vitest'
import { flowApps, seen } from './support/flow.ts'
import { until } from './support/until.ts'

const { open } = flowApps()

describe('foreach', () => {
  it('outputs the block result of every item, in order, with item, index and earlier steps visible', async () => {
    const runner = await open(['lines'], `  lines:
    steps:
      - name: rate
        type: set
        config: { value: 10 }
      - name: each
        type: foreach
        config: { items: '\${{ input.lines }}', concurrency: 3 }
        do:
          - name: total
            type: set
            config: { value: '\${{ item.qty * steps.rate }}' }
          - type: set
            config: { value: { sku: '\${{ item.sku }}', at: '\${{ index }}', total: '\${{ steps.total }}' } }
      - type: set
        config: { value: { each: '\${{ steps.each }}', inner: '\${{ steps.total }}' } }
`)
    const response = await runner.run('lines', { lines: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'c', qty: 3 }] })
    expect(response.body).toEqual({
      each: [{ sku: 'a', at: 0, total: 10 }, { sku: 'b', at: 1, total: 20 }, { sku: 'c', at: 2, total: 30 }],
      // A block's steps stay inside it.
      inner: undefined,
    })
  })

  it('with errors: collect, runs every item and lists each failure beside the results', async () => {
    const runner = await open(['each'], `  each:
    steps:
      - name: each
        type: foreach
        config: { items: '\${{ input }}', errors: collect }
        do:
          - if: \${{ item % 2 == 1 }}
            then:
              - type: fail
                config: { status: 422, code: ERR_ODD, message: 'odd \${{ item }}' }
          - type: set
            config: { value: '\${{ item * 100 }}' }
`)
    const response = await runner.run('each', [0, 1, 2, 3])
    expect(response.body).toEqual({
      results: [0, null, 200, null],
      errors: [
        { index: 1, code: 'ERR_ODD', message: 'odd 1', status: 422 },
        { index: 3, code: 'ERR_ODD', message: 'odd 3', status: 422 },
      ],
    })
  })

  it('fails fast: the first failing item fails the step and aborts the items still running; later ones never start', async () => {
    const runner = await open(['each'], `  each:
    steps:
      - type: foreach
        config: { items: '\${{ input }}', concurrency: 2 }
        do:
          - if: \${{ item == 'bad' }}
            then: [ { type: flowtest.boom, config: { message: 'bad item' } } ]
            else: [ { type: flowtest.hang, config: { label: '\${{ item }}' } } ]
`)
    const failure = runner.run('each', ['slow', 'bad', 'never'])
    // A plugin's error reaches the run's caller wrapped as ERR_STEP_FAILED naming the step, its own code as the cause.
    await expect(failure).rejects.toMatchObject({ code: 'ERR_STEP_FAILED', cause: { code: 'ERR_FLOW_ITEM_FAILED', details: { index: 1 } } })
    await expect(failure).rejects.toThrow("foreach step 'foreach#1' of pipeline 'each': item 1 failed: step 'flowtest.boom#1' of pipeline 'each' failed: bad item")
    await until(() => seen.aborted.includes('slow'))
    expect(seen.started).toEqual(['slow'])
  })

  it('refuses items that are not an array', async () => {
    const runner = await open(['each'], `  each:
    steps:
      - type: foreach
        config: { items: '\${{ input }}' }
        do: [ { type: set, config: { value: 1 } } ]
`)
    await expect(runner.run('each', { not: 'a list' })).rejects.toMatchObject({ cause: { code: 'ERR_FLOW_NOT_ARRAY' } })
    expect((await runner.run('each', null)).body).toEqual([])
  })
})

describe('parallel', () => {
  it('wait: all outputs every branch keyed by name', async () => {
    const runner = await open(['both'], `  both:
    steps:
      - name: both
        type: parallel
        branches:
          double:
            - type: set
              config: { value: '\${{ input * 2 }}' }
          square:
            - name: sq
              type: set
              config: { value: '\${{ input * input }}' }
            - type: set
              config: { value: '\${{ steps.sq + 1 }}' }
`)
    expect((await runner.run('both', 5)).body).toEqual({ double: 10, square: 26 })
  })

  it('wait: all fails with the first failing branch and aborts the others', async () => {
    const runner = await open(['both'], `  both:
    steps:
      - type: parallel
        branches:
          slow: [ { type: flowtest.hang, config: { label: slow } } ]
          broken: [ { type: fail, config: { status: 409, code: ERR_TAKEN, message: taken } } ]
`)
    await expect(runner.run('both')).rejects.toMatchObject({ code: 'ERR_TAKEN', status: 409 })
    await until(() => seen.aborted.includes('slow'))
  })

  it('wait: first outputs the first branch to succeed and aborts the rest', async () => {
    const runner = await open(['race'], `  race:
    steps:
      - type: parallel
        config: { wait: first }
        branches:
          slow: [ { type: flowtest.hang, config: { label: slow } } ]
          failing: [ { type: flowtest.boom } ]
          quick: [ { type: set, config: { value: fast answer } } ]
`)
    expect((await runner.run('race')).body).toEqual({ quick: 'fast answer' })
    await until(() => seen.aborted.includes('slow'))
  })

  it('wait: first fails only when every branch fails, listing each branch\'s error', async () => {
    const runner = await open(['race'], `  race:
    steps:
      - type: parallel
        config: { wait: first }
        branches:
          one: [ { type: flowtest.boom, config: { message: first down } } ]
          two: [ { type: fail, config: { status: 404, code: ERR_NONE, message: nothing here } } ]
`)
    await expect(runner.run('race')).rejects.toMatchObject({ cause: {
      code: 'ERR_FLOW_BRANCHES_FAILED',
      details: { branches: { one: { code: 'ERR_STEP_FAILED' }, two: { code: 'ERR_NONE', status: 404, message: 'nothing here' } } },
    } })
  })
})
