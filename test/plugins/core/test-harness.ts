// Test-only: runs core steps the way the engine does, config checked by the loader's schema validation (defaults
// filled, frozen) and compiled by the real pipeline compiler.
import { pino } from 'pino'
import { definePlugin, type Logger, type Pipeline, type PipelineResponse, type RunInput } from '@islet/sdk'
import type { StepCall } from '../../../runtime/config/types.ts'
import { check } from '../../../runtime/config/validate.ts'
import { silentLogger } from '../../../runtime/log/logger.ts'
import { compilePipeline } from '../../../runtime/pipeline/compile.ts'
import { createRegistry } from '../../../runtime/plugins/registry.ts'
import core from '../../../plugins/core/index.ts'
import httpTrigger from '../../../plugins/http/trigger.ts'

export { silentLogger }

export interface StepInput {
  type: string
  config?: unknown
  name?: string
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** `config` as the loader hands it to a step type: validated against its schema, defaults filled, deep-frozen. */
export function loadConfig(type: string, config: unknown = {}): unknown {
  const stepType = core.stepTypes.find((s) => s.type === type)
  if (!stepType) throw new Error(`no core step type '${type}'`)
  const data = structuredClone(config)
  const result = check(stepType.configSchema, data)
  if (!result.isValid) {
    throw new Error(`invalid ${type} config: ${result.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`)
  }
  return deepFreeze(data)
}

export async function pipelineOf(steps: StepInput[], logger: Logger = silentLogger()): Promise<Pipeline> {
  const registry = createRegistry()
  registry.register(core)
  registry.register(definePlugin({ name: 'http-trigger', version: '1.0.0', triggers: [httpTrigger] }))
  const decls: StepCall[] = steps.map((s, i) => ({
    kind: 'step', name: s.name ?? `${s.type}-${i + 1}`, type: s.type, config: loadConfig(s.type, s.config),
    refs: { modules: [], pipelines: [] }, source: { file: '/x/app.yaml', line: 10 + i, col: 9 },
  }))
  return compilePipeline({ name: 'test', steps: decls, source: { file: '/x/app.yaml', line: 1, col: 3 } },
    { registry, logger, dataDir: '/tmp', module: () => { throw new Error('no modules here') } })
}

/** What an HTTP request hands a pipeline; the fields below are the ones tests vary. */
export interface RequestInput {
  id?: string
  method?: string
  path?: string
  params?: Record<string, string>
  query?: Record<string, string | string[]>
  headers?: Record<string, string>
  body?: unknown
  locals?: Record<string, unknown>
}

/** An HTTP run, as plugins/http/dispatch.ts makes one. */
export function requestOf(input: RequestInput = {}): RunInput {
  const { id = 'req-1', method = 'POST', path = '/things', params = {}, query = {}, headers = {}, body, locals } = input
  return {
    trigger: 'http', id, input: body, meta: { method, path }, ...(locals ? { locals } : {}),
    view: { body, params, query, headers, request: { id, method, path } },
  }
}

export async function run(steps: StepInput[], request: RequestInput = {}, logger?: Logger): Promise<PipelineResponse> {
  return (await pipelineOf(steps)).run(requestOf(request), { logger: logger ?? silentLogger() })
}

/** What running `steps` rejects with; fails when it resolves. */
export async function failureOf(steps: StepInput[], request: RequestInput = {}): Promise<Error & Record<string, unknown>> {
  try {
    await run(steps, request)
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('expected the pipeline to fail')
}

/** A real pino logger whose JSON lines are collected, to assert what an operator would read. */
export function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level: 'trace' }, { write: (line: string) => { lines.push(JSON.parse(line)) } })
  return { logger: logger as unknown as Logger, lines }
}
