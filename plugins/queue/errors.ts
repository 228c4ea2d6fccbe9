// The queue plugin's error catalogue: stable codes for everything queue.sqlite, its consumer, the enqueue step and
// the queue admin routes raise.
import { CodedError } from '@islet/sdk'

/** Stable codes and what each means; tests and operators match codes, never message text. */
export const QUEUE_ERROR_CODES = {
  ERR_QUEUE_NOT_STARTED: 'the queue was used before its module started or after it stopped',
  ERR_QUEUE_OPEN_FAILED: 'queues.db could not be opened or its tables created (permissions, not a database, a newer schema)',
  ERR_QUEUE_PAYLOAD: 'a job payload is not JSON (a function, a cycle, undefined) or is larger than the queue\'s maxPayloadBytes',
  ERR_QUEUE_OPTIONS: 'enqueue options out of range (delay not a non-negative number or duration, priority not an integer, key not 1-200 characters), or a bad query parameter of a queue admin route (400)',
  ERR_QUEUE_UNKNOWN: 'an admin request or CLI command names a queue this engine or data directory does not have (404)',
  ERR_QUEUE_JOB_UNKNOWN: 'no dead job of that id in the queue (404): it was retried, purged, or never died',
  ERR_QUEUE_LEASE_EXPIRED: 'a job\'s lease expired while its consumer was gone (crash, kill -9) during its last allowed attempt',
  ERR_QUEUE_LEASE_LOST: 'a run\'s lease ran out while it went on (a stalled event loop) and its job was taken back (to run again, or dead): the run was aborted, its outcome dropped',
  ERR_QUEUE_BUSY: 'queues.db stayed locked by another process for longer than busyTimeoutMs: the writes batched together (enqueues, claims, outcomes) were not made',
  ERR_QUEUE_JOB_TIMEOUT: 'a job\'s run took longer than the consumer\'s timeout: it was aborted and counts as a failed attempt',
  ERR_QUEUE_JOB_FAILED: 'the consumer pipeline answered an error status without throwing (kept as the job\'s last error)',
  ERR_QUEUE_NO_CONSUMER: 'config warning: jobs are put on a queue module that has no consumer: in this app (islet validate)',
} as const

export type QueueErrorCode = keyof typeof QUEUE_ERROR_CODES

export class QueueError extends CodedError<QueueErrorCode> {}

/** True for a `QueueError`, optionally with the given code. */
export function isQueueError(error: unknown, code?: QueueErrorCode): error is QueueError {
  return error instanceof QueueError && (code === undefined || error.code === code)
}
