// The schedule plugin's error catalogue: stable codes for what schedule.cron raises.
import { CodedError } from '@islet/sdk'

/** Stable codes and what each means; tests and operators match codes, never message text. */
export const SCHEDULE_ERROR_CODES = {
  ERR_SCHEDULE_STORE: '<dataDir>/schedules.db could not be opened or set up (permissions, disk, not a database)',
} as const

export type ScheduleErrorCode = keyof typeof SCHEDULE_ERROR_CODES

export class ScheduleError extends CodedError<ScheduleErrorCode> {}
