// The `queue.jobs` contract: a durable queue other modules and steps put jobs on (`enqueue`, an events subscription
// marked durable). queue.sqlite provides it; a queue on another store (Redis, NATS JetStream) would provide it too.
import { defineContract } from '@islet/sdk'

export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number
  /** Higher runs first among jobs that are due; default 0. */
  priority?: number
  /**
   * Idempotency key: while a job with this key exists (waiting, running, done or dead), enqueueing again adds
   * nothing and answers that job's id with `deduped: true`.
   */
  key?: string
}

export interface EnqueueResult {
  /** The job's id (unique in its queue). */
  id: string
  /** True when `key` matched an existing job and nothing was added. */
  deduped: boolean
}

export interface JobQueue {
  /** The queue's name (its module's name). */
  readonly name: string
  /** Stores the job durably before it resolves: once it has, a crash does not lose the job. */
  enqueue(payload: unknown, options?: EnqueueOptions): Promise<EnqueueResult>
}

export const jobQueue = defineContract<JobQueue>('queue.jobs',
  { name: 'string', enqueue: 'function' },
  'a durable job queue: what the enqueue step and durable event subscriptions put jobs on')
