// Test-only: a registry with the core plugin and misbehaving test step types, and builders for hand-made pipelines.
import { defineContract, defineStepType, definePlugin, type RunInput, type RunScope } from '@islet/sdk'
import core from '../../plugins/core/index.ts'
import httpTrigger from '../../plugins/http/trigger.ts'
import type { StepBranch, StepCall, StepDecl } from '../config/types.ts'
import { silentLogger } from '../log/logger.ts'
import { createRegistry } from '../plugins/registry.ts'
import { compilePipeline, type PipelineCompileContext } from './compile.ts'

/** What the test steps observed; reset it in beforeEach. */
export const seen = { trace: [] as string[], creates: 0, controller: new AbortController(), reason: undefined as unknown }

export function resetSeen(): void {
  seen.trace = []
  seen.creates = 0
  seen.controller = new AbortController()
  seen.reason = new Error('client went away')
}

const modules: Record<string, object> = { db: { kind: 'db' }, cache: { kind: 'cache' } }
/** What the test modules provide (the engine's contract checks are tested with the engine). */
export const kindContract = defineContract<{ kind: string }>('test.kind', { kind: 'string' })

// Step types that record what ran, stand in for async work, or misbehave on purpose; and the HTTP trigger's variables.
export const testPlugin = definePlugin({
  name: 'test', version: '1.0.0',
  triggers: [httpTrigger],
  stepTypes: [
    defineStepType<{ value?: unknown }>({
      type: 'test.record', configSchema: {},
      create(config, ctx) {
        seen.creates++
        const value = ctx.compile(config.value)
        return (scope) => { seen.trace.push(ctx.step); return value(scope) }
      },
    }),
    defineStepType<{ value?: unknown; abort?: boolean }>({
      type: 'test.async', configSchema: {},
      create: (config, ctx) => async () => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        seen.trace.push(ctx.step)
        if (config.abort) seen.controller.abort(seen.reason)
        return config.value
      },
    }),
    defineStepType<{ async?: boolean }>({
      type: 'test.throw', configSchema: {},
      create: (config) => config.async ? async () => { throw new TypeError('async boom') } : () => { throw new TypeError('boom') },
    }),
    defineStepType({ type: 'test.abort', configSchema: {}, create: () => () => { seen.controller.abort(seen.reason) } }),
    defineStepType({ type: 'test.peek', configSchema: {}, create: () => (scope: RunScope) => scope }),
    defineStepType({ type: 'test.explode', configSchema: {}, create: () => { throw new Error('no can do') } }),
    defineStepType({ type: 'test.not-a-function', configSchema: {}, create: () => 42 as never }),
    defineStepType<{ use: string }>({ type: 'test.module', configSchema: {}, create: (config, ctx) => { const m = ctx.module(config.use, kindContract); return () => m } }),
    defineStepType({
      type: 'test.context', configSchema: {},
      create: (_, ctx) => () => ({ path: ctx.resolvePath('data/x.db'), pipeline: ctx.pipeline, step: ctx.step, dataDir: ctx.dataDir, logger: ctx.logger }),
    }),
  ],
})

let line = 1
export function step(type: string, config: unknown = {}, name = `${type}-${line}`, modules: string[] = []): StepCall {
  return { kind: 'step', name, type, config, refs: { modules, pipelines: [] }, source: { file: '/x/app.yaml', line: line++, col: 9 } }
}
export function branch(condition: string, then: StepDecl[], otherwise: StepDecl[] = []): StepBranch {
  return { kind: 'if', name: `if-${line}`, condition, then, else: otherwise, source: { file: '/x/app.yaml', line: line++, col: 7 } }
}
export const rec = (name: string, value?: unknown) => step('test.record', value === undefined ? {} : { value }, name)

export function context(): PipelineCompileContext {
  const registry = createRegistry()
  registry.register(core)
  registry.register(testPlugin)
  return { registry, logger: silentLogger(), dataDir: '/var/islet', module: <T extends object>(name: string) => modules[name]! as T }
}
export const compile = (steps: StepDecl[], ctx = context()) =>
  compilePipeline({ name: 'orders', steps, source: { file: '/x/app.yaml', line: 1, col: 3 } }, ctx)

/** An HTTP run, as plugins/http/dispatch.ts makes one. */
export function requestOf(body: unknown = undefined, id = 'r1'): RunInput {
  const request = { id, method: 'POST', path: '/orders' }
  return {
    trigger: 'http', id, input: body, meta: { method: request.method, path: request.path },
    view: { body, params: {}, query: {}, headers: {}, request },
  }
}
export const run = async (steps: StepDecl[], body?: unknown, signal?: AbortSignal) =>
  (await compile(steps)).run(requestOf(body), { logger: silentLogger(), signal })

