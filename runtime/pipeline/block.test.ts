// Blocks handed to block step types: one run per call starting from the enclosing run, respond ending the pipeline,
// and runSync refusing a step that would yield.
import { beforeEach, describe, expect, it } from 'vitest'
import { defineStepType, definePlugin } from '@islet/sdk'
import type { StepCall, StepDecl } from '../config/types.ts'
import { silentLogger } from '../log/logger.ts'
import { compile, context, rec, requestOf, resetSeen, seen, step } from './test-pipeline.ts'

const blocks = definePlugin({
  name: 'blocks', version: '1.0.0',
  stepTypes: [
    defineStepType({ type: 'test.twice', configSchema: {}, block: 'steps', blockVariables: ['n'],
      create: (_, ctx) => async (scope) => [await ctx.block!.run(scope, { vars: { n: 1 } }), await ctx.block!.run(scope, { vars: { n: 2 } })] }),
    defineStepType({ type: 'test.sync', configSchema: {}, block: 'steps', create: (_, ctx) => (scope) => ctx.block!.runSync(scope) }),
  ],
})

function withBlock(type: string, name: string, block: StepDecl[]): StepCall {
  return { ...step(type, {}, name), block }
}

async function runSteps(steps: StepDecl[], body?: unknown) {
  const ctx = context()
  ctx.registry.register(blocks)
  return (await compile(steps, ctx)).run(requestOf(body), { logger: silentLogger() })
}

beforeEach(resetSeen)

describe('a block', () => {
  it('runs from the enclosing run each time, its variables and steps staying inside', async () => {
    const response = await runSteps([
      rec('before', '${{ body.base }}'),
      withBlock('test.twice', 'twice', [rec('inner', '${{ steps.before + n }}')]),
      rec('after', { twice: '${{ steps.twice }}', inner: '${{ steps.inner }}' }),
    ], { base: 10 })
    expect(response.body).toEqual({ twice: [11, 12], inner: undefined })
    expect(seen.trace).toEqual(['before', 'inner', 'inner', 'after'])
  })

  it('ends the pipeline with a respond inside it once the block step returns', async () => {
    const response = await runSteps([
      withBlock('test.sync', 'sync', [step('respond', { status: 202, body: 'from the block' }), rec('skipped')]),
      rec('never'),
    ])
    expect(response).toMatchObject({ status: 202, body: 'from the block' })
    expect(seen.trace).toEqual([])
  })

  it('run without yielding refuses a step that returns a promise', async () => {
    await expect(runSteps([withBlock('test.sync', 'sync', [step('test.async', {}, 'slow')])])).rejects.toMatchObject({
      code: 'ERR_PIPELINE_BLOCK_ASYNC', details: { step: 'slow' },
    })
  })
})
