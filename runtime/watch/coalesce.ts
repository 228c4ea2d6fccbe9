// Turns a stream of file events into runs of one job: debounced (a burst of writes is one run), never two at once
// (events during a run mark it dirty: exactly one more run follows, reading whatever is there by then), and an
// after-check for the events chokidar drops. The config watcher (engine/watch-config.ts) has one; the component
// watcher (components/watch.ts) one per component.

/**
 * chokidar emits one `change` per path per 50 ms and drops the rest of that window without a trailing event: a write
 * landing after a run has read the files but inside the window would go unseen. After such a run the coalescer asks
 * the run's snapshot, once the window has closed, whether the files moved, and runs again if they did.
 */
export const CHOKIDAR_CHANGE_WINDOW_MS = 50
const AFTER_CHECK_MS = CHOKIDAR_CHANGE_WINDOW_MS + 10

/** What a run read, as it started (sizes, mtimes…): asked once more after the change window. */
export interface Snapshot {
  moved(): boolean | Promise<boolean>
}

export interface CoalescerOptions {
  /** Quiet time after the latest event before the run starts. */
  debounceMs: number
  /** The job. Runs one at a time; anything it throws goes to onError. */
  run: () => Promise<void>
  /** Taken as a run starts, before `run`; without it there is no after-check. */
  snapshot?: () => Snapshot | Promise<Snapshot>
  /**
   * Started at an event while no run is in flight (one at a time): work the run after the debounce can take over
   * (a component built ahead, swapped by the run only if its files did not move since). idle() waits for it.
   */
  ahead?: () => Promise<void>
  onError?: (error: unknown) => void
}

export interface Coalescer {
  /** A file event: a run after the quiet time; during a run, exactly one more after it. */
  touch(): void
  /** No run waiting, running, working ahead or due for its after-check. */
  isIdle(): boolean
  /** Resolves once isIdle(). */
  idle(): Promise<void>
  /** No more runs or checks; resolves once the run and the work ahead in flight have finished. Idempotent. */
  close(): Promise<void>
}

export function coalesce(options: CoalescerOptions): Coalescer {
  const { debounceMs } = options
  const onError = options.onError ?? (() => {})
  let timer: NodeJS.Timeout | undefined
  let after: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let ahead: Promise<void> | undefined
  let isDirty = false
  let closing: Promise<void> | undefined
  /** performance.now() of the latest event, and of the latest run's start. */
  let touchedAt = 0
  let ranAt = 0
  let waiters: (() => void)[] = []

  const isIdle = () => !timer && !after && !running && !ahead
  const settle = () => {
    if (!isIdle()) return
    const resolved = waiters
    waiters = []
    for (const resolve of resolved) resolve()
  }

  function touch(): void {
    touchedAt = performance.now()
    if (closing) return
    if (running) {
      isDirty = true
      return
    }
    clearTimeout(timer)
    clearTimeout(after)
    after = undefined
    timer = setTimeout(start, debounceMs)
    if (options.ahead) {
      ahead ??= options.ahead().catch(onError).finally(() => {
        ahead = undefined
        settle()
      })
    }
  }

  function start(): void {
    timer = undefined
    running = once()
  }

  async function once(): Promise<void> {
    isDirty = false
    ranAt = performance.now()
    let snapshot: Snapshot | undefined
    try {
      snapshot = await options.snapshot?.()
      await options.run()
    } catch (error) {
      onError(error)
    }
    running = undefined
    if (closing) return settle()
    if (isDirty) {
      isDirty = false
      timer = setTimeout(start, debounceMs)
    } else if (snapshot && ranAt < touchedAt + CHOKIDAR_CHANGE_WINDOW_MS) {
      const taken = snapshot
      after = setTimeout(() => void afterCheck(taken), Math.max(0, touchedAt + AFTER_CHECK_MS - performance.now()))
    }
    settle()
  }

  async function afterCheck(snapshot: Snapshot): Promise<void> {
    let moved = false
    try {
      moved = await snapshot.moved()
    } catch (error) {
      onError(error)
    }
    after = undefined
    if (!closing && !timer && !running && moved) touch()
    settle()
  }

  return {
    touch,
    isIdle,
    idle() {
      if (isIdle()) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
    close() {
      closing ??= (async () => {
        clearTimeout(timer)
        clearTimeout(after)
        timer = after = undefined
        await Promise.allSettled([running, ahead])
        settle()
      })()
      return closing
    },
  }
}
