// The clock a schedule.cron module reads time from and arms its timers on. The engine registers the module type with
// the system clock; tests build one with a manual clock (createSchedulePlugin({ clock })) and move time themselves,
// so no test waits for wall time to pass.
import { MAX_TIMER_MS } from '@islet/sdk'

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `fn` once, at or after `when` (epoch ms); returns what cancels it. */
  at(when: number, fn: () => void): () => void
}


/**
 * Wall time, with timers that re-check it when they fire: a timer runs on the monotonic clock, so after the wall clock
 * was set back (NTP, a VM resumed) it would fire early; it waits again instead.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  at(when, fn) {
    let timer: ReturnType<typeof setTimeout> | undefined
    // A wait longer than a timer holds is armed in steps.
    const arm = () => {
      const wait = when - Date.now()
      if (wait <= 0) return fn()
      timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS))
    }
    timer = setTimeout(arm, Math.max(0, Math.min(when - Date.now(), MAX_TIMER_MS)))
    return () => clearTimeout(timer)
  },
}

export interface ManualClock extends Clock {
  /** Moves time forward to `when`, calling every timer due on the way in time order (time set to each one's due time). */
  set(when: number): void
  /** `set(now() + ms)`. */
  advance(ms: number): void
  /** Timers armed and not yet due. */
  pending(): number
}

/** A clock that moves only when told: for tests of schedules (and anything else taking a Clock). */
export function createManualClock(start: number | string | Date): ManualClock {
  let current = new Date(start).getTime()
  let seq = 0
  const timers = new Map<number, { when: number; fn: () => void }>()
  const clock: ManualClock = {
    now: () => current,
    at(when, fn) {
      const id = seq++
      timers.set(id, { when, fn })
      return () => { timers.delete(id) }
    },
    set(when) {
      for (;;) {
        let due: [number, { when: number; fn: () => void }] | undefined
        for (const entry of timers) if (entry[1].when <= when && (!due || entry[1].when < due[1].when)) due = entry
        if (!due) break
        timers.delete(due[0])
        current = Math.max(current, due[1].when)
        due[1].fn()
      }
      current = Math.max(current, when)
    },
    advance: (ms) => clock.set(current + ms),
    pending: () => timers.size,
  }
  return clock
}
