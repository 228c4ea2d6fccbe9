// Runs a lifecycle phase under a deadline, so one hung module cannot hang startup or shutdown.
import { IsletError, type ErrorCode } from './errors.ts'

export interface Deadline {
  ms: number
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
  /** Called with the late result if the phase finishes after its deadline (e.g. to stop a late-created module). */
  onLate?: (value: unknown) => void
}

export async function withDeadline<T>(work: () => T | Promise<T>, deadline: Deadline): Promise<T> {
  const pending = Promise.resolve().then(work)
  let timer: NodeJS.Timeout | undefined
  let timedOut = false
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true
      reject(new IsletError(deadline.code, deadline.message, { details: { timeoutMs: deadline.ms, ...deadline.details } }))
    }, deadline.ms)
    timer.unref?.()
  })
  pending.then((value) => { if (timedOut) deadline.onLate?.(value) }, () => {})
  try {
    return await Promise.race([pending, timeout])
  } finally {
    clearTimeout(timer)
  }
}
