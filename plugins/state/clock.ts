// Time as the state plugin sees it: injectable, so tests move time by hand instead of waiting for it.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `fire` in about `ms`; the returned function cancels it. The timer must not keep the process alive. */
  setTimer(fire: () => void, ms: number): () => void
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimer(fire, ms) {
    const timer = setTimeout(fire, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
}
