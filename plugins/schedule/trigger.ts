// The `schedule` trigger type: the runs a schedule.cron job starts, one per scheduled time.
import { defineTrigger } from '@islet/sdk'

export default defineTrigger({
  name: 'schedule',
  description: "A pipeline run for one scheduled time of a schedule.cron job: input is the job's `input`.",
  meta: {
    type: 'object',
    properties: {
      job: { type: 'string', description: 'the job\'s name' },
      module: { type: 'string', description: 'the schedule.cron module' },
      scheduledAt: { type: 'string', description: 'the time the cron expression gave (ISO, UTC)' },
      firedAt: { type: 'string', description: 'when the run started (later by jitter, a queue wait or a missed run)' },
      missed: { type: 'integer', description: 'set on a missed: runOnce catch-up: how many times passed while no engine ran' },
    },
  },
})
