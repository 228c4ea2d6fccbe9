// What §17's queue benchmark (queue-vs-bullmq.ts) needs of a system under test, and what every system shares: the
// job numbers, reading a consumer's start line, and a burst of enqueues.
import { until } from '../support/until.ts'

/** The first of the benchmark's three ports: Islet's; Redis AOF and memory-only on the next two. */
export const QUEUE_PORT = Number(process.env.BENCH_QUEUE_PORT ?? 19310)
export const QUEUES = ['c1', 'c8'] as const
export type QueueName = (typeof QUEUES)[number]

/** One system under test, as the measuring loop sees it. */
export interface Target {
  label: string
  /** Pids whose process trees are the server side (their CPU is what a job costs). */
  roots: number[]
  /** `delayMs`: due that much later (the drain phase's backlog); none: due at once. */
  enqueue(queue: QueueName, i: number, delayMs?: number): Promise<void>
  /** Job number → start time (epoch ms), from the consumer's log lines. */
  starts: Map<number, number>
  /**
   * Enqueues `count` jobs (as `burst` does) that none may start before the time it answers, when all of them are
   * due: Islet enqueues them with a delay ending at one time; BullMQ pauses the queue and resumes it (its own way).
   * `late`: the backlog was not all in when it fell due.
   */
  backlog(queue: QueueName, count: number, inFlight: number, sent: Map<number, number>, leadMs: number): Promise<{ dueAt: number; late: boolean; failed: number }>
  /** Arms completion detection for the next `count` jobs of `queue`; the promise gives the last completion's time. */
  expect(queue: QueueName, count: number): Promise<() => Promise<number>>
  close(): Promise<void>
}

let jobNumber = 0
/** Job numbers are unique across systems and rounds: a start line names exactly one job. */
export const nextJob = () => ++jobNumber

/** A line handler filling `starts` from the consumer's `job-start` log lines (JSON: i, time as ISO or epoch ms). */
export function startLine(starts: Map<number, number>) {
  return (line: string) => {
    if (!line.includes('job-start')) return
    try {
      const r = JSON.parse(line) as { msg?: string; i?: number; time?: string | number }
      if (r.msg === 'job-start' && typeof r.i === 'number') starts.set(r.i, typeof r.time === 'number' ? r.time : Date.parse(String(r.time)))
    } catch { /* not a log line of ours */ }
  }
}

/** Enqueues `count` jobs, `inFlight` at a time; the send time (epoch ms) of each job number goes into `sent`. */
export async function burst(target: Target, queue: QueueName, count: number, inFlight: number, sent: Map<number, number>, dueAt?: number): Promise<{ failed: number; lastAck: number }> {
  let next = 0
  let failed = 0
  let lastAck = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) {
      next++
      const i = nextJob()
      sent.set(i, Date.now())
      await target.enqueue(queue, i, dueAt === undefined ? undefined : Math.max(0, dueAt - Date.now())).catch(() => { failed++ })
      lastAck = Date.now()
    }
  }))
  return { failed, lastAck }
}

/** Waits for every start line of `sent`; enqueue → start of each, in ms. */
export async function startedAll(target: Target, sent: Map<number, number>): Promise<number[]> {
  await until(() => [...sent.keys()].every((i) => target.starts.has(i)), { ms: 30_000, explain: () => `${target.label}: start lines missing` })
  return [...sent].map(([i, at]) => target.starts.get(i)! - at)
}
