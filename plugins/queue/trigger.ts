// The `queue` trigger type: a job a queue.sqlite consumer claimed. The run's `input` is the job's payload; `job` (and
// `meta`) say which job and which attempt, so a pipeline can make its effect idempotent (`${{ job.id }}` as a key).
import { defineTrigger } from '@islet/sdk'

export const QUEUE_TRIGGER = 'queue'
const JOB_FIELDS = ['queue', 'id', 'attempt', 'maxAttempts', 'key', 'priority', 'enqueuedAt'] as const

export default defineTrigger({
  name: QUEUE_TRIGGER,
  description: 'A job claimed from a queue.sqlite queue by its consumer; the payload is the run\'s input.',
  variables: ['job'],
  fields: { job: JOB_FIELDS },
  meta: {
    type: 'object',
    properties: {
      queue: { type: 'string', description: 'the queue (its module\'s name)' },
      id: { type: 'string', description: 'the job\'s id, unique in the queue\'s file' },
      attempt: { type: 'integer', description: '1 on the first run, 2 on the first retry, …' },
      maxAttempts: { type: 'integer', description: 'the consumer\'s maxAttempts: the last attempt is attempt = maxAttempts' },
      key: { type: ['string', 'null'], description: 'the idempotency key it was enqueued with, if any' },
      priority: { type: 'integer' },
      enqueuedAt: { type: 'string', description: 'ISO time it was enqueued' },
    },
  },
})
