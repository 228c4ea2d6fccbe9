// What the engine records when a module or a step factory fails in ways plugin authors do not plan for: values
// that are not Errors, foreign (non ERR_*) codes, and a step type's create that never finishes.
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defineModuleType, definePlugin, defineStepType, pipelineRef } from '@islet/sdk'
import { DEFAULT_SANDBOX } from '../config/component-schema.ts'
import type { AppConfig, ModuleDecl, PipelineDecl } from '../config/types.ts'
import { createRegistry } from '../plugins/registry.ts'
import { silentLogger } from '../log/logger.ts'
import { isIsletError, type IsletError } from '../errors.ts'
import { createEngine, type Engine } from './engine.ts'

/** What the module's create, start or stop throws. */
type Thrown = 'undefined' | 'null' | 'string' | 'enoent'
interface Behaviour { create?: Thrown; start?: Thrown; stop?: Thrown; pipeline?: string }

function thrown(kind: Thrown): unknown {
  switch (kind) {
    case 'undefined': return undefined
    case 'null': return null
    case 'string': return 'x'
    case 'enoent': try { readFileSync(join(tmpdir(), 'islet-no-such-file.json')) } catch (error) { return error }
  }
  return undefined
}

const throwing = defineModuleType<Behaviour>({
  type: 'test.throwing',
  configSchema: { type: 'object', properties: { pipeline: pipelineRef() } },
  create(config) {
    if (config.create) throw thrown(config.create)
    return {
      start() { if (config.start) throw thrown(config.start) },
      async stop() { if (config.stop) throw thrown(config.stop) },
    }
  },
})

const neverCreated = defineStepType({ type: 'test.never-created', configSchema: {}, create: () => new Promise<never>(() => {}) })

function setup(modules: { name: string; behave?: Behaviour }[], pipelines: Record<string, PipelineDecl> = {}): Engine {
  const registry = createRegistry()
  registry.register(definePlugin({ name: 'test', version: '1.0.0', moduleTypes: [throwing], stepTypes: [neverCreated] }))
  const decls: ModuleDecl[] = modules.map((m, i) => ({
    name: m.name, type: 'test.throwing', config: m.behave ?? {}, dependsOn: [],
    refs: { modules: [], pipelines: m.behave?.pipeline ? [m.behave.pipeline] : [] }, source: { file: '/app/app.yaml', line: 3 + i * 4, col: 5 },
  }))
  const config: AppConfig = { apiVersion: 'islet/v1', file: '/app/app.yaml', files: ['/app/app.yaml'], modules: decls, pipelines,
    components: [], sandbox: DEFAULT_SANDBOX, hash: 'test' }
  return createEngine({ config, registry, logger: silentLogger(), dataDir: tmpdir(), timeouts: { createMs: 100, startMs: 1000, stopMs: 1000 } })
}

async function startFailure(engine: Engine): Promise<IsletError> {
  const error = await engine.start().then(() => undefined, (e: unknown) => e)
  if (!isIsletError(error, 'ERR_ENGINE_START_FAILED')) throw error
  return error
}

describe('a module that throws something other than an Error', () => {
  for (const [kind, described] of [['undefined', 'threw undefined'], ['null', 'threw null'], ['string', 'threw "x"']] as const) {
    it(`create throwing ${kind} is recorded as a create failure describing the value`, async () => {
      const engine = setup([{ name: 'a', behave: { create: kind } }, { name: 'b' }])
      const error = await startFailure(engine)
      expect(error.message).toContain(`a (test.throwing): failed to create: ${described} (not an Error)`)
      expect(engine.status().modules[0]).toMatchObject({
        state: 'failed', phase: 'create', error: { code: 'ERR_MODULE_CREATE_FAILED', message: `${described} (not an Error)` },
      })
      expect(engine.status().modules[1].state).toBe('stopped')
      expect(engine.state).toBe('failed')
    })
  }

  it('start throwing undefined is a start failure; the module still gets its stop', async () => {
    const engine = setup([{ name: 'a', behave: { start: 'undefined' } }])
    await startFailure(engine)
    expect(engine.status().modules[0]).toMatchObject({ state: 'failed', phase: 'start', error: { code: 'ERR_MODULE_START_FAILED' } })
  })

  it('stop throwing null: shutdown finishes and rejects with a coded error', async () => {
    const engine = setup([{ name: 'a' }, { name: 'b', behave: { stop: 'null' } }])
    await engine.start()
    const error = await engine.stop().then(() => undefined, (e: unknown) => e)
    expect(isIsletError(error, 'ERR_MODULE_STOP_FAILED')).toBe(true)
    expect((error as Error).message).toBe("module 'b' (test.throwing) failed to stop: threw null (not an Error)")
    expect(engine.status().modules.map((m) => m.state)).toEqual(['stopped', 'failed'])
  })
})

describe('a module failing with a foreign error code', () => {
  it('reports ERR_MODULE_CREATE_FAILED, not ENOENT, keeping the original as the cause', async () => {
    const engine = setup([{ name: 'files', behave: { create: 'enoent' } }])
    const error = await startFailure(engine)
    const status = engine.status().modules[0]
    expect(status.error?.code).toBe('ERR_MODULE_CREATE_FAILED')
    expect(status.error?.message).toMatch(/^ENOENT: no such file or directory/)
    expect(isIsletError(error.cause, 'ERR_MODULE_CREATE_FAILED')).toBe(true)
    expect(((error.cause as Error).cause as NodeJS.ErrnoException).code).toBe('ENOENT')
  })
})

describe('a step type whose create never finishes', () => {
  it('fails startup within the create deadline, naming the pipeline, the step and where it is declared', async () => {
    const pipeline: PipelineDecl = {
      name: 'orders', source: { file: '/app/app.yaml', line: 20, col: 3 },
      steps: [{ kind: 'step', name: 'stuck', type: 'test.never-created', config: {}, refs: { modules: [], pipelines: [] }, source: { file: '/app/app.yaml', line: 22, col: 9 } }],
    }
    const engine = setup([{ name: 'api', behave: { pipeline: 'orders' } }], { orders: pipeline })
    const error = await startFailure(engine)
    expect(engine.status().modules[0]).toMatchObject({ state: 'failed', phase: 'create', error: { code: 'ERR_PIPELINE_STEP_CREATE_TIMEOUT' } })
    expect(error.message).toContain("pipeline 'orders' step 'stuck' (test.never-created) at /app/app.yaml:22:9 was not created within 100 ms")
    expect((error.cause as IsletError).details).toMatchObject({ pipeline: 'orders', step: 'stuck', file: '/app/app.yaml', line: 22, col: 9 })
  })
})
