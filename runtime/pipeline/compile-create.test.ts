// Compiling a pipeline: what a step's create receives, and how a step that cannot be created is reported.
import { beforeEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import type { Logger } from '@islet/sdk'
import { isIsletError, type IsletError } from '../errors.ts'
import { silentLogger } from '../log/logger.ts'
import { branch, compile, context, rec, requestOf, resetSeen, run, step } from './test-pipeline.ts'
import { rejectionOf } from '../expressions/test-scope.ts'

beforeEach(resetSeen)

async function createFailure(promise: Promise<unknown>, code = 'ERR_PIPELINE_STEP_CREATE_FAILED'): Promise<IsletError> {
  const error = await rejectionOf(promise)
  if (!isIsletError(error) || error.code !== code) throw error
  return error
}

describe('a step that cannot be created', () => {
  it('names the pipeline, the step, its type and where it is declared, keeping the cause', async () => {
    const explode = step('test.explode', {}, 'charge')
    const error = await createFailure(compile([rec('a'), explode]))
    expect(error.message).toBe(
      `pipeline 'orders' step 'charge' (test.explode) at /x/app.yaml:${explode.source.line}:9 could not be created: no can do`)
    expect(error.details).toEqual({ pipeline: 'orders', step: 'charge', type: 'test.explode', file: '/x/app.yaml', line: explode.source.line, col: 9 })
    expect((error.cause as Error).message).toBe('no can do')
  })

  it('is found inside branches too', async () => {
    const error = await createFailure(compile([branch('${{ true }}', [], [step('test.explode', {}, 'deep')])]))
    expect(error.details.step).toBe('deep')
  })

  it('a broken expression in its config fails create with the expression error as cause', async () => {
    const error = await createFailure(compile([step('set', { value: { total: '${{ body.qty * prize }}' } }, 'quote')]))
    expect(error.message).toMatch(/step 'quote' \(set\) at \/x\/app\.yaml:\d+:9 could not be created: unknown variable 'prize'/)
    expect(isIsletError(error.cause, 'ERR_CONFIG_EXPRESSION')).toBe(true)
  })

  it('a broken branch condition is blamed on the branch', async () => {
    const bad = branch('${{ body.qty >> 1 }}', [rec('x')])
    const error = await createFailure(compile([bad]))
    expect(error.details).toMatchObject({ step: bad.name, type: 'if', line: bad.source.line })
  })

  it('create must return a function', async () => {
    const error = await createFailure(compile([step('test.not-a-function', {}, 'odd')]))
    expect(error.message).toMatch(/create\(\) returned number, not a function/)
  })

  it('an unknown step type says so, with its location', async () => {
    const error = await createFailure(compile([step('sql.qeury', {}, 'rows')]), 'ERR_CONFIG_UNKNOWN_STEP_TYPE')
    expect(error.message).toMatch(/step 'rows' at \/x\/app\.yaml:\d+:9 has type 'sql.qeury'/)
  })
})

describe('the step context', () => {
  it('reaches the modules the step config references, and only those', async () => {
    const pipeline = await compile([step('test.module', { use: 'db' }, 'uses-db', ['db'])])
    expect((await pipeline.run(requestOf(), { logger: silentLogger() })).body).toEqual({ kind: 'db' })

    const error = await createFailure(compile([step('test.module', { use: 'cache' }, 'sneaky', ['db'])]))
    const cause = error.cause as IsletError
    expect(cause.code).toBe('ERR_MODULE_NOT_ACCESSIBLE')
    expect(cause.message).toBe("step 'sneaky' of pipeline 'orders' may not use module 'cache': its config does not reference it (it references 'db')")
    expect(cause.details).toEqual({ pipeline: 'orders', step: 'sneaky', module: 'cache', refs: ['db'] })
  })

  it('resolves paths against the folder of the file that declares the pipeline, and names itself', async () => {
    const body = (await run([step('test.context', {}, 'ctx')])).body
    expect(body).toMatchObject({ path: '/x/data/x.db', pipeline: 'orders', step: 'ctx', dataDir: '/var/islet' })
  })

  it("logs through a child logger carrying the pipeline and the step's name", async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line)) } }) as unknown as Logger
    const pipeline = await compile([step('test.context', {}, 'ctx')], { ...context(), logger })
    const stepLogger = (await pipeline.run(requestOf(), { logger: silentLogger() })).body as { logger: Logger }
    stepLogger.logger.info('hello')
    expect(lines).toEqual([expect.objectContaining({ pipeline: 'orders', step: 'ctx', msg: 'hello' })])
  })

  it('compile is the template compiler: constants once, expressions per run', async () => {
    const pipeline = await compile([rec('echo', { fixed: [1], id: '${{ request.id }}' })])
    const one = (await pipeline.run(requestOf(), { logger: silentLogger() })).body as { fixed: unknown; id: string }
    const two = (await pipeline.run(requestOf(undefined, 'r2'), { logger: silentLogger() })).body as { fixed: unknown; id: string }
    expect([one.id, two.id]).toEqual(['r1', 'r2'])
    expect(one.fixed).toBe(two.fixed)
  })
})
