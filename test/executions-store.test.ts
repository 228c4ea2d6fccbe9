// The execution store on a real SQLite file: retention by age and by count deletes ended executions with their
// events and never a running one; a step's record is folded from its events.
import { afterEach, describe, expect, it } from 'vitest'
import { writeFiles } from './support/files.ts'
import { openExecutionStore, type ExecutionStore } from '../runtime/executions/store.ts'

const DAY = 86_400_000
const NOW = Date.parse('2026-12-01T12:00:00Z')

let store: ExecutionStore | undefined
let cleanup: (() => void) | undefined
afterEach(() => {
  store?.close()
  cleanup?.()
  store = cleanup = undefined
})

function open(): ExecutionStore {
  const dir = writeFiles({})
  cleanup = dir.cleanup
  return (store = openExecutionStore(dir.dir))
}

function add(s: ExecutionStore, id: string, startedAt: number, ended: boolean): void {
  s.insert({ id, pipeline: 'p', trigger: 'http', runId: `req-${id}`, startedAt, inputBytes: 2, owner: 'h:1:b' })
  s.appendEvent({ seq: 1, type: 'pipeline.started', execution: id, pipeline: 'p', at: new Date(startedAt).toISOString() })
  if (ended) s.finish(id, { status: 'completed', endedAt: startedAt + 5, output: '{"status":204}', outputBytes: 14, truncated: false })
}

describe('execution retention', () => {
  it('deletes ended executions older than the age, with their events; a running one stays however old', () => {
    const s = open()
    add(s, 'ex_old', NOW - 10 * DAY, true)
    add(s, 'ex_oldrunning', NOW - 10 * DAY, false)
    add(s, 'ex_recent', NOW - DAY, true)
    expect(s.prune(NOW, 7 * DAY, 1000)).toEqual({ pruned: 1, more: false })
    expect(s.get('ex_old')).toBeUndefined()
    expect(s.events('ex_old', 0)).toEqual([])
    expect(s.list({}).map((e) => e.id).sort()).toEqual(['ex_oldrunning', 'ex_recent'])
  })

  it('keeps the newest ended executions up to the count, running ones not counted', () => {
    const s = open()
    for (let i = 0; i < 5; i++) add(s, `ex_${i}`, NOW - (5 - i) * 1000, true)
    add(s, 'ex_running', NOW - 99_000, false)
    expect(s.prune(NOW, 7 * DAY, 2)).toEqual({ pruned: 3, more: false })
    expect(s.list({}).map((e) => e.id)).toEqual(['ex_4', 'ex_3', 'ex_running'])
  })

  it('folds each step record from its events, a step run twice (a loop) closed in order', () => {
    const s = open()
    add(s, 'ex_s', NOW, false)
    const at = (ms: number) => new Date(NOW + ms).toISOString()
    const base = { execution: 'ex_s', pipeline: 'p' }
    s.appendEvent({ ...base, seq: 2, type: 'step.started', step: 'a', at: at(1) })
    s.appendEvent({ ...base, seq: 3, type: 'step.completed', step: 'a', at: at(2), durationMs: 1, outputBytes: 4 })
    s.appendEvent({ ...base, seq: 4, type: 'step.started', step: 'a', at: at(3) })
    s.appendEvent({ ...base, seq: 5, type: 'step.failed', step: 'a', at: at(5), durationMs: 2, error: { code: 'ERR_X', message: 'x' } })
    s.appendEvent({ ...base, seq: 6, type: 'step.started', step: 'b', at: at(6) })
    expect(s.get('ex_s')!.steps).toEqual([
      { name: 'a', status: 'completed', startedAt: at(1), endedAt: at(2), durationMs: 1, outputBytes: 4 },
      { name: 'a', status: 'failed', startedAt: at(3), endedAt: at(5), durationMs: 2, error: { code: 'ERR_X', message: 'x' } },
      { name: 'b', status: 'running', startedAt: at(6) },
    ])
  })
})
