// Benchmark §17a: Islet's durable queue against BullMQ on Redis, the queue people use with Node, side by side in one
// run, rounds interleaved (each round rotates which system goes first). The systems: queue-islet.ts (a real
// `islet run`, jobs enqueued by POST to an `enqueue` step) and queue-bullmq.ts (redis-server with AOF everysec, and
// memory-only; a BullMQ worker process; `queue.add` from here). Both consumers do the same job: one JSON log line.
// Per system and concurrency (1 and 8), per round: a burst of BENCH_QUEUE_JOBS jobs, BENCH_QUEUE_INFLIGHT enqueues
// in flight: jobs/s end to end (first enqueue sent → last completion), CPU per job of the server side (the islet
// process tree; redis-server + the worker process), enqueue→start p50/p99 under the burst (mostly backlog); then
// BENCH_QUEUE_PACED jobs at BENCH_QUEUE_RATE per second, below every system's capacity: enqueue→start p50/p99 of a
// queue that keeps up; then the consumer alone: a backlog of BENCH_QUEUE_JOBS jobs that falls due at one time,
// drained: jobs/s from that time to the last completion (Islet: enqueued with a delay ending
// BENCH_QUEUE_DRAIN_LEAD_MS after the first is sent; BullMQ: added to a paused queue, then resumed). Times are
// Date.now() in each process (ms). Medians over BENCH_ROUNDS; each figure with the cores other work took meanwhile.
// No redis-server: `redisMissing()` says so and the comparison is not run. Alone: `node test/bench/queue-vs-bullmq.ts`.
import { fileURLToPath } from 'node:url'
import { loadNote, meter } from './proc.ts'
import { startBull } from './queue-bullmq.ts'
import { startIslet } from './queue-islet.ts'
import { burst, nextJob, QUEUES, startedAll, type QueueName, type Target } from './queue-target.ts'
import { redisVersion } from './redis-server.ts'
import { median, quantile, round, sleep } from './stats.ts'

interface Sample {
  jobsPerS: number
  /** Jobs/s the producer got in (first sent → last acknowledged): jobs/s near it means the producer was the limit. */
  enqueuePerS: number
  cpuMsPerJob: number
  burstP50Ms: number; burstP99Ms: number
  pacedP50Ms: number; pacedP99Ms: number
  /** Mean of the paced ones: both ends are whole milliseconds, so the mean (unbiased) says more than a 1 ms p50. */
  pacedMeanMs: number
  /** Jobs/s from a backlog: BENCH_QUEUE_JOBS jobs all falling due at one time, that time → the last completion. */
  drainPerS: number
  /** The backlog was still being enqueued when it fell due (BENCH_QUEUE_DRAIN_LEAD_MS too short): drainPerS is low. */
  drainLeadShort: boolean
  /** This process's CPU per job in the burst: the producer (HTTP client, or queue.add) and the completion watch. */
  producerCpuMsPerJob: number
  otherCores: number
  failed: number
}

/** Enqueues `count` jobs at `rate` per second, each when its time comes (open loop: a slow answer delays none). */
async function paced(target: Target, queue: QueueName, count: number, rate: number, sent: Map<number, number>): Promise<number> {
  let failed = 0
  const t0 = performance.now()
  const pending: Promise<void>[] = []
  for (let k = 0; k < count; k++) {
    const wait = t0 + (k * 1000) / rate - performance.now()
    if (wait > 0) await sleep(wait)
    const i = nextJob()
    sent.set(i, Date.now())
    pending.push(target.enqueue(queue, i).catch(() => { failed++ }))
  }
  await Promise.all(pending)
  return failed
}

export interface QueueBenchOptions { rounds: number; jobs: number; inFlight: number; pacedJobs: number; rate: number; drainLeadMs: number }

async function measure(target: Target, queue: QueueName, o: QueueBenchOptions): Promise<Sample> {
  const sent = new Map<number, number>()
  const wait = await target.expect(queue, o.jobs)
  const m = meter(target.roots)
  const own = process.cpuUsage()
  const b = await burst(target, queue, o.jobs, o.inFlight, sent)
  let failed = b.failed
  const last = await wait()
  const used = m.stop()
  const producer = process.cpuUsage(own)
  const first = Math.min(...sent.values())
  const burstLatency = await startedAll(target, sent)

  const pacedSent = new Map<number, number>()
  const pacedWait = await target.expect(queue, o.pacedJobs)
  failed += await paced(target, queue, o.pacedJobs, o.rate, pacedSent)
  await pacedWait()
  const pacedLatency = await startedAll(target, pacedSent)

  // The consumer alone: a backlog that falls due all at once, then drained.
  const drainSent = new Map<number, number>()
  const drainWait = await target.expect(queue, o.jobs)
  const d = await target.backlog(queue, o.jobs, o.inFlight, drainSent, o.drainLeadMs)
  const dueAt = d.dueAt
  failed += d.failed
  const drained = await drainWait()
  await startedAll(target, drainSent)
  for (const i of [...sent.keys(), ...pacedSent.keys(), ...drainSent.keys()]) target.starts.delete(i)
  return {
    drainPerS: o.jobs / (Math.max(1, drained - dueAt) / 1000), drainLeadShort: d.late,
    jobsPerS: o.jobs / (Math.max(1, last - first) / 1000), enqueuePerS: o.jobs / (Math.max(1, b.lastAck - first) / 1000), cpuMsPerJob: (used.serverCpuS * 1000) / o.jobs,
    burstP50Ms: median(burstLatency), burstP99Ms: quantile(burstLatency, 0.99),
    pacedP50Ms: median(pacedLatency), pacedP99Ms: quantile(pacedLatency, 0.99),
    pacedMeanMs: pacedLatency.reduce((a, b) => a + b, 0) / pacedLatency.length,
    producerCpuMsPerJob: (producer.user + producer.system) / 1000 / o.jobs,
    otherCores: used.otherCores, failed,
  }
}

/** Why the comparison cannot run here, or undefined when it can. */
export function redisMissing(): string | undefined {
  return redisVersion() ? undefined : 'redis-server is not installed (as root: apt-get install -y redis-server): the queue comparison with BullMQ is skipped'
}

export async function benchQueueVsBullmq(o: QueueBenchOptions) {
  const redis = redisVersion()
  if (!redis) throw new Error(redisMissing())
  const targets: Target[] = []
  try {
    targets.push(await startIslet(), await startBull('aof'), await startBull('memory'))
    // Warm-up, not counted: JIT, SQLite pages, Redis scripts loaded.
    for (const t of targets) for (const q of QUEUES) await measure(t, q, { ...o, jobs: Math.min(300, o.jobs), pacedJobs: 20, drainLeadMs: 1000 })
    const samples = new Map<string, Sample[]>()
    for (let round = 0; round < o.rounds; round++) {
      for (const q of QUEUES) {
        for (let k = 0; k < targets.length; k++) {
          const t = targets[(k + round) % targets.length]
          const key = `${t.label}|${q}`
          samples.set(key, [...(samples.get(key) ?? []), await measure(t, q, o)])
        }
      }
    }
    const rows = [...samples].map(([key, s]) => {
      const [label, queue] = key.split('|')
      const med = (f: (x: Sample) => number, digits = 2) => round(median(s.map(f)), digits)
      return {
        label, queue, concurrency: queue === 'c1' ? 1 : 8,
        jobsPerS: med((x) => x.jobsPerS, 0), jobsPerSRounds: s.map((x) => round(x.jobsPerS, 0)), enqueuePerS: med((x) => x.enqueuePerS, 0),
        drainPerS: med((x) => x.drainPerS, 0), drainLeadShort: s.filter((x) => x.drainLeadShort).length,
        cpuMsPerJob: med((x) => x.cpuMsPerJob, 3), producerCpuMsPerJob: med((x) => x.producerCpuMsPerJob, 3),
        pacedMeanMs: med((x) => x.pacedMeanMs, 2),
        pacedP50Ms: med((x) => x.pacedP50Ms, 1), pacedP99Ms: med((x) => x.pacedP99Ms, 1),
        burstP50Ms: med((x) => x.burstP50Ms, 0), burstP99Ms: med((x) => x.burstP99Ms, 0),
        failed: s.reduce((n, x) => n + x.failed, 0), machine: loadNote(s.map((x) => x.otherCores)),
      }
    })
    return {
      name: 'queue vs BullMQ: jobs/s end to end, enqueue→start, CPU per job (islet run vs redis-server + BullMQ worker)',
      options: o, redis, rows,
    }
  } finally {
    for (const t of targets) await t.close().catch(() => undefined)
  }
}

export function printQueueVsBullmq(r: Awaited<ReturnType<typeof benchQueueVsBullmq>>): void {
  const o = r.options
  console.log(`   ${o.jobs} jobs per burst (${o.inFlight} enqueues in flight), then ${o.pacedJobs} at ${o.rate}/s; Islet enqueues through POST → enqueue step, BullMQ through queue.add; redis-server ${r.redis}`)
  for (const c of [1, 8]) {
    console.log(`   concurrency ${c}:`)
    for (const row of r.rows.filter((x) => x.concurrency === c)) {
      console.log(`      ${row.label.padEnd(30)} ${String(row.jobsPerS).padStart(6)} jobs/s (rounds ${row.jobsPerSRounds.join(', ')}; enqueued at ${row.enqueuePerS}/s); ` +
        `drain of a due backlog ${row.drainPerS} jobs/s${row.drainLeadShort ? ` (backlog late in ${row.drainLeadShort} rounds: raise BENCH_QUEUE_DRAIN_LEAD_MS)` : ''}; ` +
        `enqueue→start p50 ${row.pacedP50Ms} ms, p99 ${row.pacedP99Ms} ms, mean ${row.pacedMeanMs} ms at ${o.rate}/s (in the burst p50 ${row.burstP50Ms}, p99 ${row.burstP99Ms} ms); ` +
        `server CPU ${row.cpuMsPerJob} ms/job (producer ${row.producerCpuMsPerJob})${row.failed ? `; ${row.failed} enqueues FAILED` : ''}; ${row.machine}`)
    }
  }
}

export function queueOptionsFromEnv(rounds: number): QueueBenchOptions {
  return {
    rounds, jobs: Number(process.env.BENCH_QUEUE_JOBS ?? 2000), inFlight: Number(process.env.BENCH_QUEUE_INFLIGHT ?? 16),
    pacedJobs: Number(process.env.BENCH_QUEUE_PACED ?? 300), rate: Number(process.env.BENCH_QUEUE_RATE ?? 200),
    drainLeadMs: Number(process.env.BENCH_QUEUE_DRAIN_LEAD_MS ?? 3000),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = redisMissing()
  if (missing) {
    console.log(missing)
    process.exit(0)
  }
  const result = await benchQueueVsBullmq(queueOptionsFromEnv(Number(process.env.BENCH_ROUNDS ?? 3)))
  printQueueVsBullmq(result)
  console.log(JSON.stringify({ bench: 'queue-vs-bullmq', ...result }))
  process.exit(0)
}
