// State timeouts: each instance row carries the due time of its state's timeout; one timer per machine is armed for
// the earliest, re-armed from the file at start (a restart keeps every timeout) and at least every POLL_MS (so a due
// time another process wrote is seen even if that process died). A due timeout is claimed before it fires (its due
// time moved LEASE_MS ahead, by one process only); if the transition then fails or the process dies, it is due again
// after the lease: at-least-once. A refusal (the event is not valid from the state, a guard said no) drops it.
import { isStepError, messageOf, type Logger } from '@islet/sdk'
import type { Clock } from './clock.ts'
import type { Machine } from './machine.ts'
import type { InstanceRow, StateStore } from './store.ts'

export const POLL_MS = 30_000
export const LEASE_MS = 60_000
const BATCH = 100
const CONCURRENCY = 8
/** What dropping a timeout answers: it would be refused the same way every time it fired. */
const REFUSALS = new Set(['ERR_STATE_TRANSITION_INVALID', 'ERR_STATE_GUARD_REJECTED'])

export interface Timeouts {
  /** Arms the timer for the earliest due time in the store (called at start and after each commit that sets one). */
  arm(at?: number): void
  /** Stops firing; resolves once the timeouts being fired have finished (their runs aborted). */
  stop(): Promise<void>
  /** The earliest due time this process knows of, for status. */
  next(): number | undefined
}

export function createTimeouts(machine: Machine, store: () => StateStore, clock: Clock, logger: Logger): Timeouts {
  const aborter = new AbortController()
  let cancel: (() => void) | undefined
  let armedFor: number | undefined
  let firing: Promise<void> | undefined
  let stopped = false

  function arm(at?: number): void {
    if (stopped) return
    // A new due time later than the armed one changes nothing.
    if (at !== undefined && armedFor !== undefined && at >= armedFor) return
    const next = store().nextDue(machine.name)
    const now = clock.now()
    const fireAt = Math.min(next ?? Infinity, now + POLL_MS)
    cancel?.()
    armedFor = fireAt
    cancel = clock.setTimer(() => { armedFor = undefined; void fire() }, Math.max(0, fireAt - now))
  }

  async function fireOne(row: InstanceRow, now: number): Promise<void> {
    if (!store().claim(machine.name, row.id, row.version, row.due_at!, now + LEASE_MS)) return
    // Aborted when the module stops, or when the lease runs out (another process may then take the timeout over).
    const signal = AbortSignal.any([aborter.signal, AbortSignal.timeout(LEASE_MS)])
    await machine.fireTimeout(row.id, row.due_event!, row.version, signal).catch((error: unknown) => {
      if (isStepError(error) && REFUSALS.has(error.code)) {
        logger.warn({ machine: machine.name, instance: row.id, event: row.due_event, code: error.code }, `timeout of '${row.state}' refused: ${error.message}`)
        store().dropDue(machine.name, row.id, row.version)
        return
      }
      logger.error({ machine: machine.name, instance: row.id, event: row.due_event, err: messageOf(error) },
        `timeout of '${row.state}' failed; it fires again in ${LEASE_MS / 1000} s`)
    })
  }

  async function fire(): Promise<void> {
    if (firing || stopped) return
    firing = (async () => {
      try {
        for (;;) {
          const now = clock.now()
          const due = store().due(machine.name, now, BATCH)
          // A few at once, each under a deadline: one hung action must not hold the others (nor the instance) back.
          let next = 0
          const worker = async () => {
            while (next < due.length && !stopped) await fireOne(due[next++]!, now)
          }
          await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker))
          if (stopped) return
          if (due.length < BATCH) return
        }
      } catch (error) {
        logger.error({ machine: machine.name, err: messageOf(error) }, 'firing state timeouts failed')
      }
    })()
    await firing
    firing = undefined
    arm()
  }

  return {
    arm,
    async stop() {
      stopped = true
      cancel?.()
      aborter.abort(new Error(`state machine '${machine.name}' is stopping`))
      await firing
    },
    next: () => armedFor,
  }
}
