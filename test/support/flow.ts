// Test support for the flow steps: a `job` trigger and a runner module that runs any pipeline it lists, plus step
// types that stand in for work which hangs until aborted, throws, or counts how often it ran.
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import {
  defineModuleType, definePlugin, defineStepType, defineTrigger, pipelineRef, type PipelineResponse, type RunScope,
} from '@islet/sdk'
import { silentLogger } from '../../runtime/log/logger.ts'
import { openTestApp, type OpenedApp } from './app.ts'

export interface Runner {
  /** Runs `pipeline` for one job with `input`; `signal` cancels the run. */
  run(pipeline: string, input?: unknown, signal?: AbortSignal): Promise<PipelineResponse>
}

/** What the test steps saw: runs per counter name, and hung steps that noticed their abort. */
export const seen = { counts: new Map<string, number>(), aborted: [] as string[], started: [] as string[] }

export function resetSeen(): void {
  seen.counts.clear()
  seen.aborted = []
  seen.started = []
}

/** Waits on the run's signal forever: only an abort ends it (and is recorded). */
function hang(scope: RunScope, label: string): Promise<never> {
  seen.started.push(label)
  return new Promise((_, reject) => {
    const onAbort = () => { seen.aborted.push(label); reject(scope.signal.reason) }
    if (scope.signal.aborted) onAbort()
    else scope.signal.addEventListener('abort', onAbort, { once: true })
  })
}

export const flowTestPlugin = definePlugin({
  name: 'flowtest', version: '1.0.0',
  triggers: [defineTrigger({ name: 'job' })],
  moduleTypes: [defineModuleType<{ pipelines: string[] }, Runner>({
    type: 'flowtest.runner',
    configSchema: {
      type: 'object', additionalProperties: false, required: ['pipelines'],
      properties: { pipelines: { type: 'array', items: pipelineRef('a pipeline the test runs', { trigger: 'job' }) } },
    },
    create(config, ctx) {
      const pipelines = new Map(config.pipelines.map((name) => [name, ctx.pipeline(name)]))
      let n = 0
      return {
        run: (name, input, signal) => pipelines.get(name)!.run(
          { trigger: 'job', id: `job-${++n}`, input, meta: {}, locals: { who: 'tester' } }, { logger: silentLogger(), ...(signal ? { signal } : {}) }),
      }
    },
  })],
  stepTypes: [
    defineStepType<{ label?: unknown }>({
      type: 'flowtest.hang', configSchema: {},
      create: (config, ctx) => {
        const label = ctx.compile(config.label ?? ctx.step)
        return (scope) => hang(scope, String(label(scope)))
      },
    }),
    defineStepType<{ message?: unknown }>({
      type: 'flowtest.boom', configSchema: {},
      create: (config, ctx) => {
        const message = ctx.compile(config.message ?? 'boom')
        return async (scope) => { throw new TypeError(String(message(scope))) }
      },
    }),
    defineStepType<{ counter: string }>({
      type: 'flowtest.count', configSchema: { type: 'object', required: ['counter'], properties: { counter: { type: 'string' } } },
      create: (config) => () => {
        const count = (seen.counts.get(config.counter) ?? 0) + 1
        seen.counts.set(config.counter, count)
        return count
      },
    }),
  ],
})

/** Opens `pipelines` (YAML under `pipelines:`) with a runner listing `names`, plus `extra` top-level YAML. */
export async function openFlowApp(names: string[], pipelines: string, extra = '', files: Record<string, string> = {}): Promise<{ app: OpenedApp; runner: Runner }> {
  const app = await openTestApp({ ...files, 'app.yaml': `apiVersion: islet/v1
modules:
  - name: runner
    type: flowtest.runner
    config: { pipelines: [${names.join(', ')}] }
${extra}pipelines:
${pipelines}` }, { plugins: [flowTestPlugin] })
  await app.started
  return { app, runner: app.engine.module<Runner>('runner') }
}

export const dataFile = (app: OpenedApp, file: string) => join(app.dir, 'data', file)

/**
 * For a test file: resets `seen` before each test and closes the app a test opened after it. `open` opens one
 * (see openFlowApp); `app()` is the one open now.
 */
export function flowApps(): { open(names: string[], pipelines: string, extra?: string, files?: Record<string, string>): Promise<Runner>; app(): OpenedApp } {
  let opened: OpenedApp | undefined
  beforeEach(resetSeen)
  afterEach(async () => {
    await opened?.close()
    opened = undefined
  })
  return {
    async open(names, pipelines, extra, files) {
      await opened?.close()
      const { app, runner } = await openFlowApp(names, pipelines, extra, files)
      opened = app
      return runner
    },
    app: () => opened!,
  }
}
