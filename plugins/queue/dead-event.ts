// `queue.<name>.dead`: each job that goes dead is published on the bus, so an app reacts to a dead letter (tell the
// customer, page someone, put it on another queue through a durable subscription) in YAML, instead of every consumer
// pipeline spotting its own last attempt — and also when no step of the run got the chance (connection refused on
// every attempt, a crash in the last one). Published once the dead state is committed, from the process that saw it:
// at most once, like every in-memory event; the dead-letter queue itself stays the record.
import type { EventsService, Logger } from '@islet/sdk'
import type { DeadJob } from './store.ts'

/** The topic a queue's dead jobs are published under: the module's name, lower-cased (topics are lower case). */
export function deadTopic(queue: string): string {
  return `queue.${queue.toLowerCase()}.dead`
}

/** What the consumer calls for each job gone dead: publishes it, never throws. */
export function deadLetters(events: EventsService, queue: string, logger: Logger): (job: DeadJob) => void {
  const topic = deadTopic(queue)
  return (job) => {
    let payload: unknown
    try {
      payload = JSON.parse(job.payload)
    } catch {
      payload = job.payload
    }
    try {
      events.publish(topic, { queue, job: { id: String(job.id), key: job.key, attempts: job.attempts }, error: job.error, payload })
    } catch (error) {
      logger.warn({ err: error, queue, job: String(job.id) }, `the dead job could not be published on ${topic}`)
    }
  }
}
