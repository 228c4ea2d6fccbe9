// The executions service over a real executions.db, with pipelines made by hand: a restart in the same pid (a
// container's pid 1) still finds the previous boot's executions orphaned, while another engine of this process keeps
// its own; one pruning pass deletes everything retention no longer keeps however much that is; and an execution
// past the step event cap still records the end of every step whose start it recorded.
import { hostname } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Pipeline, PipelineRunOptions, RunInput } from '@islet/sdk'
import { createEventBus } from '../runtime/events/bus.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { createExecutions, MAX_STEP_EVENTS, type Executions, type ExecutionsOptions } from '../runtime/executions/service.ts'
import { openExecutionStore, type ExecutionStore } from '../runtime/executions/store.ts'
import { writeFiles } from './support/files.ts'

const DAY = 86_400_000
const RUN: RunInput = { trigger: 'test', id: 'run-1', input: null, meta: {} }

const opened: Executions[] = []
const stores: ExecutionStore[] = []
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const e of opened.splice(0)) e.close()
  for (const s of stores.splice(0)) s.close()
  for (const c of cleanups.splice(0)) c()
  vi.restoreAllMocks()
})

function dataDir(): string {
  const { dir, cleanup } = writeFiles({})
  cleanups.push(cleanup)
  return dir
}

function store(dir: string): ExecutionStore {
  const s = openExecutionStore(dir)
  stores.push(s)
  return s
}

function executions(dir: string, pipelines: Record<string, Pipeline> = {}, more: Partial<ExecutionsOptions> = {}): Executions {
  const e = createExecutions({
    dataDir: dir, logger: silentLogger(), bus: createEventBus(),
    pipeline: (name) => (pipelines[name] ? Promise.resolve(pipelines[name]) : undefined), ...more,
  })
  opened.push(e)
  return e
}

/** Runs until its signal aborts. */
const hang: Pipeline = {
  name: 'hang',
  run: (_run, options) => new Promise((_resolve, reject) => options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true })),
}

describe('orphaned executions', () => {
  it('an execution owned by an earlier boot under this very pid is marked interrupted at start', () => {
    const dir = dataDir()
    const s = store(dir)
    s.insert({ id: 'ex_before', pipeline: 'p', trigger: 'http', runId: 'r', startedAt: Date.now() - 1000, inputBytes: 0,
      owner: `${hostname()}:${process.pid}:0123456789ab` })
    executions(dir).start()
    expect(s.get('ex_before')).toMatchObject({ status: 'interrupted', error: { code: 'ERR_EXECUTION_INTERRUPTED' } })
  })

  it('an execution another engine of this process runs is left running', async () => {
    const dir = dataDir()
    const first = executions(dir, { hang })
    const { id } = first.service.start('hang', RUN)
    const second = executions(dir)
    second.start()
    expect(second.service.get(id).status).toBe('running')
    first.service.cancel(id)
    expect(second.service.get(id).status).toBe('cancelled')
  })
})

describe('retention', () => {
  it('one pass deletes every expired execution, also far more than a batch, and keeps the rest', async () => {
    const dir = dataDir()
    const s = store(dir)
    const now = Date.now()
    const add = (id: string, startedAt: number) => {
      s.insert({ id, pipeline: 'p', trigger: 'http', runId: id, startedAt, inputBytes: 0, owner: 'elsewhere:1:b' })
      s.finish(id, { status: 'completed', endedAt: startedAt + 1, output: null, outputBytes: null, truncated: false })
    }
    for (let i = 0; i < 2600; i++) add(`ex_old${i}`, now - 10 * DAY - i)
    for (let i = 0; i < 3; i++) add(`ex_new${i}`, now - i)
    const e = executions(dir)
    e.start()
    await e.prune()
    expect(s.list({ limit: 5000 }).map((x) => x.id).sort()).toEqual(['ex_new0', 'ex_new1', 'ex_new2'])
  })

  it('never asks a timer for more than Node can wait: a longer prune period is not turned into 1 ms', () => {
    const intervals = vi.spyOn(globalThis, 'setInterval')
    const dir = dataDir()
    const e = executions(dir, {}, { retention: { pruneEveryMs: 30 * DAY } })
    store(dir)
    e.start()
    const delays = intervals.mock.calls.map((call) => call[1])
    expect(delays.length).toBeGreaterThan(0)
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(2 ** 31 - 1)
  })
})

describe('the step event cap', () => {
  it('caps the starts recorded, but a step whose start was recorded gets its end: none looks running once the execution ended', async () => {
    // An outer step around a loop of more steps than the cap: its end comes after the cap was reached.
    const loop: Pipeline = {
      name: 'loop',
      async run(_run, options: PipelineRunOptions) {
        const observer = options.observer!
        const t = Date.now()
        observer.stepStarted({ step: 'outer', at: t })
        for (let i = 1; i <= MAX_STEP_EVENTS; i++) {
          observer.stepStarted({ step: 'inner', at: t + i })
          observer.stepEnded({ step: 'inner', startedAt: t + i, endedAt: t + i, durationMs: 0 })
        }
        observer.stepEnded({ step: 'outer', startedAt: t, endedAt: t + MAX_STEP_EVENTS, durationMs: MAX_STEP_EVENTS })
        return { status: 200, headers: {}, body: null }
      },
    }
    const e = executions(dataDir(), { loop })
    const { id, done } = e.service.start('loop', RUN)
    await done
    const steps = e.service.get(id).steps
    expect(steps.length).toBe(MAX_STEP_EVENTS)
    expect(steps[0]).toMatchObject({ name: 'outer', status: 'completed', durationMs: MAX_STEP_EVENTS })
    expect(steps.filter((step) => step.status !== 'completed')).toEqual([])
  })
})
