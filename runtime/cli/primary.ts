// The primary of `islet run --processes <n>`: forks n engine processes (node:cluster), each of which loads the
// app and serves it; owns nothing of the app itself. Its jobs:
// - ports (`--balance cluster`, the default): the cluster primary holds every listening socket and hands each new
//   connection to the next engine process (round-robin), so connections spread evenly, `port: 0` means one port for
//   all, and a process that dies loses only the connections it held. `--balance reuseport`: each engine process's
//   http.server listens itself with SO_REUSEPORT and the kernel spreads connections (no hop through this process;
//   README "More than one core" says when each wins);
// - crashes: a process that dies after it was serving is replaced (same index), with a back-off when it keeps dying,
//   while the others serve on; one that fails before its first start stops everything (exit 1), as a single-process
//   `islet run` would;
// - signals: the first SIGINT/SIGTERM asks every process to drain and stop (each does what a single `islet run`
//   does), the second makes them exit at once (130).
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from '@islet/sdk'
import { BALANCE_ENV, isMessage, PROCESS_COUNT_ENV, PROCESS_INDEX_ENV, type Balance, type EngineMessage, type PrimaryMessage } from './processes.ts'

/** Restart back-off: the first replacement at once (almost), doubling per crash in the window, capped. */
const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 30_000
/** Crashes older than this no longer lengthen the back-off: a process that served this long was healthy. */
const CRASH_WINDOW_MS = 60_000

interface Slot {
  index: number
  worker?: Worker
  /** Whether any process in this slot ever became ready; until then a death is a failed start. */
  served: boolean
  crashes: number[]
  restart?: NodeJS.Timeout
}

export function restartDelay(recentCrashes: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, recentCrashes - 1))
}

export function runPrimary(count: number, balance: Balance, logger: Logger): Promise<number> {
  // Round-robin is Node's default on Linux, not on Windows; said here so it is the same everywhere.
  cluster.schedulingPolicy = cluster.SCHED_RR
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, served: false, crashes: [] }))
  let stopping = false
  let failed = false
  let signals = 0
  let ready = 0
  let finish!: (code: number) => void
  const done = new Promise<number>((resolve) => { finish = resolve })

  const send = (slot: Slot, message: PrimaryMessage) => {
    const w = slot.worker
    if (w?.isConnected()) w.send(message)
    else if (w && message.type === 'islet:stop-now') w.process.kill('SIGKILL')
  }
  const live = () => slots.filter((s) => s.worker !== undefined)
  const stopAll = (message: PrimaryMessage) => {
    stopping = true
    for (const slot of slots) {
      clearTimeout(slot.restart)
      slot.restart = undefined
      send(slot, message)
    }
    if (live().length === 0) finish(failed ? 1 : 0)
  }

  const fork = (slot: Slot) => {
    slot.restart = undefined
    const worker = cluster.fork({ [PROCESS_INDEX_ENV]: String(slot.index), [PROCESS_COUNT_ENV]: String(count), [BALANCE_ENV]: balance })
    slot.worker = worker
    worker.on('message', (message: unknown) => {
      if (!isMessage<EngineMessage>(message, 'islet:ready')) return
      slot.served = true
      if (stopping) return send(slot, { type: 'islet:stop' }) // became ready after the stop went out
      if (++ready === count) logger.info({ processes: count }, `${count} engine processes serving`)
      else if (ready > count) logger.info({ index: slot.index, pid: worker.process.pid }, `engine process ${slot.index} replaced and serving`)
    })
  }

  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.find((s) => s.worker === worker)
    if (!slot) return
    slot.worker = undefined
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    if (stopping) {
      if (code !== 0 && signal === null && code !== 130) failed = true
      if (live().length === 0) finish(signals > 1 ? 130 : failed ? 1 : 0)
      return
    }
    if (!slot.served) {
      // The first start failed (its own output says why): the app cannot start here, so nothing serves it.
      logger.error({ index: slot.index, pid: worker.process.pid, code, signal }, `engine process ${slot.index} ${how} before it served; stopping the others`)
      failed = true
      return stopAll({ type: 'islet:stop' })
    }
    const now = Date.now()
    slot.crashes = slot.crashes.filter((t) => now - t < CRASH_WINDOW_MS)
    slot.crashes.push(now)
    const delay = restartDelay(slot.crashes.length)
    logger.error({ index: slot.index, pid: worker.process.pid, code, signal, restartInMs: delay, crashesInLastMinute: slot.crashes.length },
      `engine process ${slot.index} (pid ${worker.process.pid}) ${how}; the others serve on, a replacement starts in ${delay} ms`)
    slot.restart = setTimeout(() => fork(slot), delay)
  })

  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: every engine process exits without waiting')
      return stopAll({ type: 'islet:stop-now' })
    }
    logger.info({ signal, processes: live().length }, 'shutting down: every engine process drains its requests and stops (send the signal again to force)')
    stopAll({ type: 'islet:stop' })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  logger.info({ processes: count, balance, pid: process.pid }, `starting ${count} engine processes (${balance === 'cluster' ? 'the primary hands out connections' : 'each listens with SO_REUSEPORT'})`)
  for (const slot of slots) fork(slot)
  return done.finally(() => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  })
}
