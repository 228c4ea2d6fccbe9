// The BullMQ side of §17, in a process of its own as a user runs it (the producer is the benchmark): a Worker with
// concurrency 1 on queue `c1` and one with concurrency 8 on `c8`, defaults otherwise (completed jobs kept, as
// queue.sqlite keeps done ones). The job does what the Islet consumer does: writes one JSON log line, whose time is
// the job's start. The benchmark sends { expect: { queue, count } } before a run; the worker answers
// { expecting } at once and { done, lastFinishedOn } once that many more jobs of the queue completed.
// Usage: node test/bench/bullmq-worker.ts <redis port>
import { Worker } from 'bullmq'

const port = Number(process.argv[2])
// ioredis, BullMQ's usual driver (an optional peer dependency since BullMQ 6), as its docs set it up for a Worker.
const connection = () => ({ host: '127.0.0.1', port, maxRetriesPerRequest: null })

const waits = new Map<string, { left: number; lastFinishedOn: number }>()
const workers = [['c1', 1], ['c8', 8]].map(([queue, concurrency]) => {
  const worker = new Worker(queue as string, async (job) => {
    process.stdout.write(`${JSON.stringify({ msg: 'job-start', q: queue, i: (job.data as { i: number }).i, time: Date.now() })}\n`)
  }, { connection: connection(), concurrency: concurrency as number })
  worker.on('completed', (job) => {
    const w = waits.get(queue as string)
    if (!w) return
    w.lastFinishedOn = Math.max(w.lastFinishedOn, job.finishedOn ?? 0)
    if (--w.left === 0) {
      waits.delete(queue as string)
      process.send!({ done: queue, lastFinishedOn: w.lastFinishedOn })
    }
  })
  worker.on('error', (error) => process.stderr.write(`bullmq worker ${queue}: ${error.message}\n`))
  return worker
})

process.on('message', (m: { expect?: { queue: string; count: number } }) => {
  if (!m.expect) return
  waits.set(m.expect.queue, { left: m.expect.count, lastFinishedOn: 0 })
  process.send!({ expecting: m.expect.queue }) // acknowledged before the first job is sent: none is missed
})
process.on('SIGTERM', () => { void Promise.all(workers.map((w) => w.close(true))).finally(() => process.exit(0)) })
await Promise.all(workers.map((w) => w.waitUntilReady()))
process.send!({ ready: true })
