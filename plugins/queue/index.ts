// The queue plugin: durable job queues in SQLite (queue.sqlite), the `enqueue` step and the `queue` trigger, declared
// through the public sdk only. Its admin routes (/admin/queues/…) go through the engine's `admin` service; jobs that
// go dead are published as `queue.<name>.dead` through the `events` service.
import { definePlugin } from '@islet/sdk'
import queueModule from './module.ts'
import enqueue from './enqueue-step.ts'
import trigger from './trigger.ts'

export { jobQueue, type JobQueue, type EnqueueOptions, type EnqueueResult } from './contract.ts'
export type { QueueModule, QueueConfig } from './module.ts'
export { QUEUE_ERROR_CODES, QueueError, isQueueError, type QueueErrorCode } from './errors.ts'

export default definePlugin({
  name: 'queue',
  version: '0.1.0',
  description: 'Durable at-least-once job queues in SQLite: enqueue step, consumer pipelines with leases, retries and a dead-letter queue.',
  islet: '^0.1.0',
  moduleTypes: [queueModule],
  stepTypes: [enqueue],
  triggers: [trigger],
  services: ['admin', 'events'],
})
