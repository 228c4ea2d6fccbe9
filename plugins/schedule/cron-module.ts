// schedule.cron: runs pipelines on cron schedules. Every process sharing the data dir arms every job; claims in
// <dataDir>/schedules.db (store.ts) make each scheduled time run once. The module type is made by a factory taking
// the clock, so tests drive time by hand; the engine registers the one on the system clock.
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { defineModuleType, pipelineRef, type ConfigProblem, type ModuleInstance, type ModuleType } from '@islet/sdk'
import { systemClock, type Clock } from './clock.ts'
import { compileSchedule, cronProblems, timezoneProblem } from './cron.ts'
import { createJob, type Job, type JobConfig, type JobStatus } from './job.ts'
import { openScheduleStore, type ScheduleStore } from './store.ts'
import { ScheduleError } from './errors.ts'

export interface CronModuleConfig {
  /** Default time zone of the jobs; default UTC. */
  readonly timezone: string
  readonly jobs: readonly JobConfig[]
}

export interface CronModule extends ModuleInstance {
  status(): { jobs: JobStatus[] }
}

export interface ScheduleTypeOptions {
  /** Where time comes from; default the system clock. */
  clock?: Clock
  /** The jitter's randomness in [0, 1); default Math.random. */
  random?: () => number
}

export function createScheduleType(options: ScheduleTypeOptions = {}): ModuleType<CronModuleConfig, CronModule> {
  const clock = options.clock ?? systemClock
  const random = options.random ?? Math.random
  return defineModuleType<CronModuleConfig, CronModule>({
    type: 'schedule.cron',
    description: 'Runs pipelines on cron schedules (seconds, time zones), with overlap and missed-run policies; once per scheduled time across every engine process sharing the data dir.',
    configSchema: {
      type: 'object', additionalProperties: false, required: ['jobs'],
      properties: {
        timezone: { type: 'string', minLength: 1, default: 'UTC', description: 'IANA time zone of the jobs that set none' },
        jobs: {
          type: 'array', minItems: 1,
          items: {
            type: 'object', additionalProperties: false, required: ['name', 'cron', 'pipeline'],
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$', description: 'unique in the module; keys its last run in schedules.db' },
              cron: { type: 'string', minLength: 1, description: "'min hour dom month dow', seconds first with 6 fields, or @daily, @hourly…" },
              timezone: { type: 'string', minLength: 1, description: 'IANA time zone (Europe/Berlin); default the module\'s' },
              pipeline: pipelineRef('the pipeline each scheduled time runs', { trigger: 'schedule' }),
              overlap: { enum: ['skip', 'queue', 'allow'], default: 'skip', description: 'when the previous run still goes: skip this time, run it after, or run both' },
              maxQueued: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'overlap: queue: times waiting at most; more are skipped' },
              missed: { enum: ['skip', 'runOnce'], default: 'skip', description: 'times that passed while no engine ran: skip them, or run once (for the latest)' },
              jitterMs: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 0, description: 'fire up to this many ms late, at random (spreads load)' },
              input: { description: "the run's input (JSON, taken as written); default {}" },
            },
          },
        },
      },
    },
    check: (config) => checkJobs(config, clock.now()),
    create(config, ctx) {
      const abort = new AbortController()
      const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
      let store: ScheduleStore | undefined
      let jobs: Job[] = []
      return {
        start() {
          try {
            store = openScheduleStore(join(ctx.dataDir, 'schedules.db'))
          } catch (error) {
            throw new ScheduleError('ERR_SCHEDULE_STORE', `schedule.cron '${ctx.name}': cannot open ${join(ctx.dataDir, 'schedules.db')}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
          }
          const now = clock.now()
          jobs = config.jobs.map((job) => {
            const timezone = job.timezone ?? config.timezone
            const key = `${ctx.name}/${job.name}`
            store!.arm(key, job.cron.trim(), timezone, now)
            return createJob({
              key, module: ctx.name, config: job, timezone, schedule: compileSchedule(job.cron.trim(), timezone),
              pipeline: ctx.pipeline(job.pipeline), store: store!, clock, random, owner, signal: abort.signal,
              logger: ctx.logger.child({ job: job.name }),
            })
          })
        },
        // Armed at commit: a generation rolled back never fires; during a reload both generations may be armed for a
        // moment, and the claim rows keep each time to one run.
        commit() {
          for (const job of jobs) {
            try {
              job.begin()
            } catch (error) {
              ctx.logger.error({ err: error }, 'could not arm a schedule job')
            }
          }
        },
        async stop() {
          abort.abort(new Error(`module ${ctx.name} is stopping`))
          await Promise.all(jobs.map((job) => job.end()))
          store?.close()
          store = undefined
        },
        status: () => ({ jobs: jobs.map((job) => job.status()) }),
      }
    },
  })
}

/** What the schema cannot say: cron syntax, time zones, names unique in the module. */
function checkJobs(config: CronModuleConfig, now: number): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const zone = timezoneProblem(config.timezone)
  if (zone) problems.push({ path: ['timezone'], ...zone })
  const seen = new Set<string>()
  config.jobs.forEach((job, i) => {
    if (seen.has(job.name)) {
      problems.push({ path: ['jobs', i, 'name'], message: `job name '${job.name}' is used twice in this module`,
        hint: 'give each job its own name: it keys the job\'s last run in schedules.db' })
    }
    seen.add(job.name)
    const jobZone = job.timezone === undefined ? undefined : timezoneProblem(job.timezone)
    if (jobZone) problems.push({ path: ['jobs', i, 'timezone'], ...jobZone })
    if (zone || jobZone) return
    problems.push(...cronProblems(job.cron, job.timezone ?? config.timezone, ['jobs', i], now))
  })
  return problems
}
