// The file-event coalescer both watchers use: on a fake clock, so every step is the one the test says.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { coalesce, type CoalescerOptions } from './coalesce.ts'

beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }) })
afterEach(() => { vi.useRealTimers() })

/** A run that stays in flight until released; counts runs and how many ever overlapped. */
function job() {
  const state = { runs: 0, active: 0, maxActive: 0, release: () => {} }
  const run = async () => {
    state.runs++
    state.active++
    state.maxActive = Math.max(state.maxActive, state.active)
    await new Promise<void>((resolve) => { state.release = resolve })
    state.active--
  }
  return { state, run }
}

const DEBOUNCE = 10

function make(options: Partial<CoalescerOptions> & Pick<CoalescerOptions, 'run'>) {
  return coalesce({ debounceMs: DEBOUNCE, ...options })
}

describe('coalesce', () => {
  it('a burst of events is one run, after the quiet time', async () => {
    const { state, run } = job()
    const c = make({ run })
    for (let i = 0; i < 5; i++) {
      c.touch()
      await vi.advanceTimersByTimeAsync(DEBOUNCE - 1)
    }
    expect(state.runs).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(state.runs).toBe(1)
    state.release()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(state.runs).toBe(1)
    expect(c.isIdle()).toBe(true)
  })

  it('events during a run: exactly one more run after it, never two at once', async () => {
    const { state, run } = job()
    const c = make({ run })
    c.touch()
    await vi.advanceTimersByTimeAsync(DEBOUNCE)
    expect(state.runs).toBe(1)
    for (let i = 0; i < 3; i++) {
      c.touch()
      await vi.advanceTimersByTimeAsync(DEBOUNCE * 2)
    }
    expect(state.runs).toBe(1)
    state.release()
    await vi.advanceTimersByTimeAsync(DEBOUNCE)
    expect(state.runs).toBe(2)
    state.release()
    await vi.advanceTimersByTimeAsync(1_000)
    expect([state.runs, state.maxActive]).toEqual([2, 1])
  })

  it('after a run that began inside the change window, one more run only if the snapshot says the files moved', async () => {
    for (const moved of [true, false]) {
      let runs = 0
      const c = make({ run: async () => { runs++ }, snapshot: () => ({ moved: () => moved && runs === 1 }) })
      c.touch()
      await vi.advanceTimersByTimeAsync(1_000)
      expect(runs).toBe(moved ? 2 : 1)
      expect(c.isIdle()).toBe(true)
    }
  })

  it('no after-check for a run that began once the change window had closed', async () => {
    let checked = 0
    const c = coalesce({ debounceMs: 80, run: async () => {}, snapshot: () => ({ moved: () => { checked++; return true } }) })
    c.touch()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(checked).toBe(0)
  })

  it('work ahead starts at the first event of a burst, once, and idle() waits for it', async () => {
    let aheads = 0
    let finishAhead = () => {}
    const c = make({
      run: async () => {},
      ahead: () => { aheads++; return new Promise<void>((resolve) => { finishAhead = resolve }) },
    })
    c.touch()
    c.touch()
    expect(aheads).toBe(1)
    let isIdle = false
    void c.idle().then(() => { isIdle = true })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(isIdle).toBe(false)
    finishAhead()
    await vi.advanceTimersByTimeAsync(0)
    expect(isIdle).toBe(true)
  })

  it('a run that throws is reported, and the next event runs again', async () => {
    const errors: unknown[] = []
    let runs = 0
    const c = make({ run: async () => { if (++runs === 1) throw new Error('boom') }, onError: (e) => errors.push(e) })
    c.touch()
    await vi.advanceTimersByTimeAsync(DEBOUNCE)
    c.touch()
    await vi.advanceTimersByTimeAsync(DEBOUNCE)
    expect([runs, errors.map((e) => (e as Error).message)]).toEqual([2, ['boom']])
  })

  it('close(): no further runs, and it resolves once the run in flight has finished', async () => {
    const { state, run } = job()
    const c = make({ run })
    c.touch()
    await vi.advanceTimersByTimeAsync(DEBOUNCE)
    c.touch()
    let closed = false
    void c.close().then(() => { closed = true })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(closed).toBe(false)
    state.release()
    await vi.advanceTimersByTimeAsync(1_000)
    expect([closed, state.runs]).toEqual([true, 1])
    c.touch()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(state.runs).toBe(1)
  })
})
