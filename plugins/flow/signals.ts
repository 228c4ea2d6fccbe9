// Abort plumbing every flow step shares: a child signal per block run, waits that end when a signal aborts, and
// promises raced against one, so a cancelled run stops its loops, branches, delays and retries at once.
import { setMaxListeners } from 'node:events'
import type { AbortSignalLike } from '@islet/sdk'

/** A controller whose signal also aborts when `parent` does; `release()` unhooks it from the parent. */
export interface ChildSignal {
  readonly signal: AbortSignal
  abort(reason: unknown): void
  release(): void
}

export function childSignal(parent: AbortSignalLike): ChildSignal {
  const controller = new AbortController()
  // Every item or branch running under it listens (a delay, a nested block): 64 at once is a design, not a leak.
  setMaxListeners(0, controller.signal)
  const onAbort = () => controller.abort(parent.reason)
  if (parent.aborted) controller.abort(parent.reason)
  else parent.addEventListener('abort', onAbort, { once: true })
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    release: () => parent.removeEventListener('abort', onAbort),
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts (the work itself goes on unawaited). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignalLike): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {})
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value) },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error) })
  })
}

/** Waits `ms`; rejects with the signal's reason the moment it aborts (the timer is cleared). */
export function sleep(ms: number, signal: AbortSignalLike): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
