// The schedule plugin: cron-scheduled pipeline runs (schedule.cron, trigger `schedule`), declared through the public
// sdk only. createSchedulePlugin({ clock }) builds the same plugin on another clock, for tests.
import { definePlugin, type Plugin } from '@islet/sdk'
import { createScheduleType, type ScheduleTypeOptions } from './cron-module.ts'
import trigger from './trigger.ts'

export type { CronModuleConfig, CronModule, ScheduleTypeOptions } from './cron-module.ts'
export type { JobConfig, JobStatus } from './job.ts'
export { createScheduleType } from './cron-module.ts'
export { createManualClock, systemClock, type Clock, type ManualClock } from './clock.ts'
export { SCHEDULE_ERROR_CODES, ScheduleError, type ScheduleErrorCode } from './errors.ts'

export function createSchedulePlugin(options: ScheduleTypeOptions = {}): Plugin {
  return definePlugin({
    name: 'schedule',
    version: '0.1.0',
    islet: '^0.1.0',
    description: 'Pipelines run on cron schedules (schedule.cron, trigger `schedule`), once across the processes sharing a data dir.',
    moduleTypes: [createScheduleType(options)],
    triggers: [trigger],
  })
}

export default createSchedulePlugin()
