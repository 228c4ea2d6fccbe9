// retry, timeout, delay and call as a YAML author meets them, and every one of them stopping when its run is cancelled.
import { describe, expect, it } from 'vitest'
import { flowApps, resetSeen, seen } from './support/flow.ts'
import { until } from './support/until.ts'

const { open } = flowApps()

describe('retry', () => {
  const pipeline = (failUntil: number, status: number, extra = '') => `  flaky:
    steps:
      - name: flaky
        type: retry
        config: { attempts: 4, backoff: { initial: 1, max: 2 }${extra} }
        do:
          - type: flowtest.count
            config: { counter: runs }
          - if: \${{ attempt < ${failUntil} }}
            then: [ { type: fail, config: { status: ${status}, code: ERR_NOT_YET, message: 'attempt \${{ attempt }}' } } ]
          - type: set
            config: { value: 'done on attempt \${{ attempt }}' }
`

  it('runs the block again until it succeeds, and outputs that attempt\'s result', async () => {
    const runner = await open(['flaky'], pipeline(3, 503))
    expect((await runner.run('flaky')).body).toBe('done on attempt 3')
    expect(seen.counts.get('runs')).toBe(3)
  })

  it('gives up after `attempts` runs with the last error', async () => {
    const runner = await open(['flaky'], pipeline(10, 503))
    await expect(runner.run('flaky')).rejects.toMatchObject({ code: 'ERR_NOT_YET', status: 503, message: 'attempt 4' })
    expect(seen.counts.get('runs')).toBe(4)
  })

  it('does not retry a caller\'s 4xx unless codes lists it', async () => {
    const runner = await open(['flaky'], pipeline(3, 409))
    await expect(runner.run('flaky')).rejects.toMatchObject({ code: 'ERR_NOT_YET', status: 409 })
    expect(seen.counts.get('runs')).toBe(1)
    resetSeen()
    const listed = await open(['flaky'], pipeline(3, 409, ', codes: [ERR_NOT_YET]'))
    expect((await listed.run('flaky')).body).toBe('done on attempt 3')
    expect(seen.counts.get('runs')).toBe(3)
  })

  it('wraps an unexpected error that outlasts every attempt as ERR_FLOW_RETRY_EXHAUSTED', async () => {
    const runner = await open(['broken'], `  broken:
    steps:
      - type: retry
        config: { attempts: 2, backoff: { initial: 1 } }
        do: [ { type: flowtest.boom, config: { message: 'still broken' } } ]
`)
    await expect(runner.run('broken')).rejects.toMatchObject({ cause: { code: 'ERR_FLOW_RETRY_EXHAUSTED', details: { attempts: 2 } } })
    await expect(runner.run('broken')).rejects.toThrow('the block failed on all 2 attempts; the last: ')
  })
})

describe('timeout', () => {
  it('aborts a hung block and fails with 504 ERR_FLOW_TIMEOUT naming the step', async () => {
    const runner = await open(['slow'], `  slow:
    steps:
      - name: guarded
        type: timeout
        config: { duration: 20ms }
        do: [ { type: flowtest.hang, config: { label: inner } } ]
`)
    await expect(runner.run('slow')).rejects.toMatchObject({
      code: 'ERR_FLOW_TIMEOUT', status: 504,
      message: "timeout step 'guarded' of pipeline 'slow': its block did not finish within 20 ms and was aborted",
    })
    expect(seen.aborted).toEqual(['inner'])
  })

  it('outputs the block\'s result when it finishes in time', async () => {
    const runner = await open(['quick'], `  quick:
    steps:
      - type: timeout
        config: { duration: 1h }
        do: [ { type: set, config: { value: '\${{ input + 1 }}' } } ]
`)
    expect((await runner.run('quick', 41)).body).toBe(42)
  })
})

describe('a cancelled run', () => {
  const cancelled = new Error('client went away')

  it('stops a delay, a foreach, a parallel and a retry at once', async () => {
    const runner = await open(['waits', 'loops', 'branches', 'retries'], `  waits:
    steps:
      - type: delay
        config: { duration: 1h }
  loops:
    steps:
      - type: foreach
        config: { items: [1, 2, 3] }
        do:
          - type: flowtest.count
            config: { counter: loop }
          - type: delay
            config: { duration: 1h }
  branches:
    steps:
      - type: parallel
        branches:
          a: [ { type: delay, config: { duration: 1h } } ]
          b: [ { type: flowtest.hang, config: { label: b } } ]
  retries:
    steps:
      - type: retry
        config: { attempts: 5, backoff: { initial: 1h } }
        do:
          - type: flowtest.count
            config: { counter: retry }
          - type: flowtest.boom
`)
    for (const name of ['waits', 'loops', 'branches', 'retries']) {
      const controller = new AbortController()
      const run = runner.run(name, undefined, controller.signal)
      if (name === 'retries') await until(() => seen.counts.get('retry') === 1)
      if (name === 'branches') await until(() => seen.started.includes('b'))
      controller.abort(cancelled)
      await expect(run, name).rejects.toBe(cancelled)
    }
    expect(seen.counts.get('loop')).toBe(1)
    expect(seen.counts.get('retry')).toBe(1)
    expect(seen.aborted).toEqual(['b'])
  })
})

describe('call', () => {
  const priced = (callConfig: string) => `  order:
    steps:
      - name: priced
        type: call
        config: { pipeline: price, ${callConfig} }
      - type: set
        config: { value: { total: '\${{ steps.priced.total }}', depth: '\${{ steps.priced.depth }}', who: '\${{ steps.priced.who }}' } }
  price:
    steps:
      - type: set
        config: { value: { total: '\${{ input.qty * 3 }}', depth: '\${{ meta.depth }}', who: '\${{ locals.who }}' } }
`

  it('runs another pipeline with the input and the caller\'s locals, and outputs its output', async () => {
    const runner = await open(['order'], priced(`input: '\${{ input.line }}', inputSchema: { type: object, required: [qty] }`))
    expect((await runner.run('order', { line: { qty: 4 } })).body).toEqual({ total: 12, depth: 1, who: 'tester' })
  })

  it('refuses an input that does not match inputSchema with 400 naming the called pipeline', async () => {
    const runner = await open(['order'], priced(`input: '\${{ input.line }}', inputSchema: { type: object, required: [qty], properties: { qty: { type: integer } } }`))
    await expect(runner.run('order', { line: { qty: 'four' } })).rejects.toMatchObject({
      code: 'ERR_FLOW_CALL_INPUT', status: 400,
      message: "the input of pipeline 'price' (called by call step 'priced' of pipeline 'order') does not match its inputSchema",
      details: [{ path: '/qty', message: 'must be integer' }],
    })
  })

  it('fails when the output does not match outputSchema, naming the called pipeline', async () => {
    const runner = await open(['order'], priced(`outputSchema: { type: object, required: [currency] }`))
    await expect(runner.run('order', { qty: 1 })).rejects.toMatchObject({ cause: {
      code: 'ERR_FLOW_CALL_OUTPUT',
      message: "the output of pipeline 'price' (called by call step 'priced' of pipeline 'order') does not match its outputSchema: /currency is required",
    } })
  })

  it('recurses while a condition holds, and stops an endless recursion at maxDepth with the chain', async () => {
    const runner = await open(['factorial', 'forever'], `  factorial:
    steps:
      - if: \${{ input <= 1 }}
        then: [ { type: respond, config: { body: 1 } } ]
      - name: rest
        type: call
        config: { pipeline: factorial, input: '\${{ input - 1 }}' }
      - type: set
        config: { value: '\${{ input * steps.rest }}' }
  forever:
    steps:
      - type: call
        config: { pipeline: forever, maxDepth: 3 }
`)
    expect((await runner.run('factorial', 6)).body).toBe(720)
    await expect(runner.run('forever')).rejects.toMatchObject({ cause: {
      code: 'ERR_FLOW_CALL_DEPTH', details: { chain: ['forever', 'forever', 'forever', 'forever', 'forever'], maxDepth: 3 },
    } })
    await expect(runner.run('forever')).rejects.toThrow('would nest calls 4 deep, more than maxDepth 3 (forever → forever → forever → forever → forever)')
  })
})
