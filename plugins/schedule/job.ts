// One schedule job at run time: its timer, its claim of each scheduled time, its overlap policy and its counts.
import { messageOf, type Logger, type Pipeline } from '@islet/sdk'
import type { Clock } from './clock.ts'
import type { Schedule } from './cron.ts'
import type { ScheduleStore } from './store.ts'

export interface JobConfig {
  readonly name: string
  readonly cron: string
  readonly timezone?: string
  readonly pipeline: string
  readonly overlap: 'skip' | 'queue' | 'allow'
  readonly maxQueued: number
  readonly missed: 'skip' | 'runOnce'
  readonly jitterMs: number
  readonly input?: unknown
}

export interface JobDeps {
  /** `<module>/<job>`: the job's key in schedules.db. */
  key: string
  module: string
  config: JobConfig
  timezone: string
  schedule: Schedule
  pipeline: Pipeline
  store: ScheduleStore
  clock: Clock
  random: () => number
  owner: string
  logger: Logger
  signal: AbortSignal
}

interface Fire { scheduledAt: number; missed?: number }

export interface JobStatus {
  name: string
  cron: string
  timezone: string
  overlap: JobConfig['overlap']
  missed: JobConfig['missed']
  /** The next three scheduled times (ISO), from now. */
  next: string[]
  lastScheduledAt: string | null
  running: number
  queued: number
  /** Times this process claimed and ran (or queued). */
  fired: number
  completed: number
  failed: number
  /** Times claimed here but not run: overlap skip (or queue full). */
  skipped: number
  /** Times another process (or generation) claimed first. */
  claimedElsewhere: number
}

export interface Job {
  /** Runs a missed time if the policy says so, then arms the timer. */
  begin(): void
  status(): JobStatus
  /** Cancels the timer and drops queued fires; resolves once runs in flight settled. */
  end(): Promise<void>
}

export function createJob(d: JobDeps): Job {
  const c = d.config
  const running = new Set<Promise<void>>()
  const queued: Fire[] = []
  const counts = { fired: 0, completed: 0, failed: 0, skipped: 0, claimedElsewhere: 0 }
  let cancel: (() => void) | undefined

  const iso = (t: number) => new Date(t).toISOString()

  function arm(after: number): void {
    const next = d.schedule.next(after)
    if (next === undefined || d.signal.aborted) return
    // Jitter delays the firing, not the scheduled time: every process claims the same (job, scheduledAt) row.
    const jitter = c.jitterMs > 0 ? Math.floor(d.random() * c.jitterMs) : 0
    cancel = d.clock.at(next + jitter, () => {
      cancel = undefined
      fire({ scheduledAt: next })
      // The next time after now, not after this one: a timer that fired late (a suspended machine) runs once, not
      // once per time it slept through.
      arm(Math.max(next, d.clock.now()))
    })
  }

  function fire(f: Fire): void {
    let mine: boolean
    try {
      mine = d.store.claim(d.key, f.scheduledAt, d.owner, d.clock.now())
    } catch (error) {
      d.logger.error({ err: error, scheduledAt: iso(f.scheduledAt) }, `could not claim ${iso(f.scheduledAt)} in schedules.db: not run`)
      counts.skipped++
      return
    }
    if (!mine) {
      counts.claimedElsewhere++
      return
    }
    if (running.size > 0 && c.overlap !== 'allow') {
      if (c.overlap === 'queue' && queued.length < c.maxQueued) {
        queued.push(f)
        return
      }
      counts.skipped++
      d.logger.warn({ scheduledAt: iso(f.scheduledAt), overlap: c.overlap },
        c.overlap === 'skip' ? `skipped ${iso(f.scheduledAt)}: the previous run is still going (overlap: skip)`
          : `skipped ${iso(f.scheduledAt)}: ${c.maxQueued} runs already wait (overlap: queue, maxQueued)`)
      return
    }
    run(f)
  }

  function run(f: Fire): void {
    counts.fired++
    const firedAt = d.clock.now()
    const p = d.pipeline.run({
      trigger: 'schedule', id: `${d.key}@${iso(f.scheduledAt)}`, input: c.input ?? {},
      meta: { job: c.name, module: d.module, scheduledAt: iso(f.scheduledAt), firedAt: iso(firedAt), ...(f.missed ? { missed: f.missed } : {}) },
    }, { logger: d.logger.child({ scheduledAt: iso(f.scheduledAt) }), signal: d.signal }).then(() => {
      counts.completed++
    }, (error: unknown) => {
      counts.failed++
      d.logger.error({ err: error, scheduledAt: iso(f.scheduledAt) }, `run of ${iso(f.scheduledAt)} failed: ${messageOf(error)}`)
    }).finally(() => {
      running.delete(p)
      const next = queued.shift()
      if (next && !d.signal.aborted) run(next)
    })
    running.add(p)
  }

  return {
    begin() {
      const now = d.clock.now()
      const row = d.store.row(d.key)
      const since = row?.lastScheduledAt ?? row?.since ?? now
      const first = d.schedule.next(since)
      if (first !== undefined && first <= now) {
        const latest = d.schedule.latest(now) ?? first
        let missed = 0
        for (let t: number | undefined = first; t !== undefined && t <= now && missed < 1000; t = d.schedule.next(t)) missed++
        const count = missed >= 1000 ? '1000 or more' : String(missed)
        if (c.missed === 'runOnce') {
          d.logger.info({ missed: count, since: iso(since) }, `${count} scheduled time(s) passed while no engine ran; running once for ${iso(latest)} (missed: runOnce)`)
          fire({ scheduledAt: latest, missed })
        } else {
          d.logger.info({ missed: count, since: iso(since) }, `${count} scheduled time(s) passed while no engine ran; skipped (missed: skip)`)
        }
      }
      arm(now)
    },
    status: () => {
      const next: string[] = []
      for (let t = d.schedule.next(d.clock.now()); t !== undefined && next.length < 3; t = d.schedule.next(t)) next.push(iso(t))
      const last = d.store.row(d.key)?.lastScheduledAt
      return {
        name: c.name, cron: c.cron, timezone: d.timezone, overlap: c.overlap, missed: c.missed, next,
        lastScheduledAt: last ? iso(last) : null, running: running.size, queued: queued.length, ...counts,
      }
    },
    async end() {
      cancel?.()
      cancel = undefined
      queued.length = 0
      while (running.size > 0) await Promise.allSettled([...running])
    },
  }
}
