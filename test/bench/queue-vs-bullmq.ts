// Benchmark §17a: Islet's durable queue against BullMQ on Redis, the queue people use with Node, side by side in one
// run, rounds interleaved (each round rotates which system goes first).
// - Islet: a real `islet run` (its own process group) of QUEUE_APP: queue.sqlite modules c1 and c8 (consumer
//   concurrency 1 and 8) whose consumer pipeline is one `log` step (at warn, so the engine's own info lines stay off)
//   — the job's start, read from the log line's time. Jobs are enqueued as a user's client would: POST /jobs/c1 or
//   /jobs/c8, a route whose pipeline is an `enqueue` step answering 202 once the job is committed. Completion is read
//   from <data dir>/queues.db (state done; updated_at is when the completion was written).
// - BullMQ: redis-server (Debian's) started here in a temp dir on loopback, twice: appendonly yes + appendfsync
//   everysec, and memory only; Workers with concurrency 1 and 8 in a process of their own (bullmq-worker.ts) doing
//   the same job (one JSON log line); the producer is a Queue in this process (`queue.add`, as an app adds jobs).
//   Completion: the job's finishedOn. Redis is reached through resp-client.ts (BullMQ 6 ships no Redis driver).
// Per system and concurrency, per round: a burst of BENCH_QUEUE_JOBS jobs, BENCH_QUEUE_INFLIGHT enqueues in flight:
// jobs/s end to end (first enqueue sent → last completion), CPU per job of the server side (the islet process tree;
// redis-server + the worker process), enqueue→start p50/p99 under the burst (mostly backlog); then
// BENCH_QUEUE_PACED jobs at BENCH_QUEUE_RATE per second, below every system's capacity: enqueue→start p50/p99 of a
// queue that keeps up; then the consumer alone: a backlog of BENCH_QUEUE_JOBS jobs that falls due at one time,
// drained: jobs/s from that time to the last completion (Islet: enqueued with a delay ending
// BENCH_QUEUE_DRAIN_LEAD_MS after the first is sent; BullMQ: added to a paused queue, then resumed). Times are Date.now() in each process (ms). Medians over BENCH_ROUNDS; each figure with the
// cores other work took meanwhile. No redis-server: `redisMissing()` says so and the comparison is not run.
// Alone: `node test/bench/queue-vs-bullmq.ts`.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { createBunRedisClient, Queue } from 'bullmq'
import { writeFiles } from '../support/files.ts'
import { until } from '../support/until.ts'
import { post, startCli } from './cli-server.ts'
import { onExit } from './exit-cleanup.ts'
import { loadNote, meter } from './proc.ts'
import { redisVersion, startRedis, type RedisMode, type RedisServer } from './redis-server.ts'
import { RespClient } from './resp-client.ts'
import { median, quantile, round, sleep } from './stats.ts'

const ISLET_PORT = Number(process.env.BENCH_QUEUE_PORT ?? 19310)
const REDIS_PORTS: Record<RedisMode, number> = { aof: ISLET_PORT + 1, memory: ISLET_PORT + 2 }
export const QUEUES = ['c1', 'c8'] as const
type QueueName = (typeof QUEUES)[number]

export const QUEUE_APP = `apiVersion: islet/v1
modules:
  - name: c1
    type: queue.sqlite
    config: { consumer: { pipeline: work, concurrency: 1 } }
  - name: c8
    type: queue.sqlite
    config: { consumer: { pipeline: work, concurrency: 8 } }
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /jobs/c1, pipeline: put-c1 }
        - { method: POST, path: /jobs/c8, pipeline: put-c8 }
  - name: web
    type: http.server
    config:
      port: \${PORT:-0}
      routers: [api]
pipelines:
  put-c1:
    steps:
      - { name: job, type: enqueue, config: { queue: c1, payload: '\${{ body }}', delay: '\${{ body.delayMs }}' } }
      - { type: respond, config: { status: 202, body: '\${{ steps.job }}' } }
  put-c8:
    steps:
      - { name: job, type: enqueue, config: { queue: c8, payload: '\${{ body }}', delay: '\${{ body.delayMs }}' } }
      - { type: respond, config: { status: 202, body: '\${{ steps.job }}' } }
  work:
    steps:
      - type: log
        config: { level: warn, message: job-start, fields: { q: '\${{ job.queue }}', i: '\${{ input.i }}' } }
`

/** One system under test, as the measuring loop sees it. */
interface Target {
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

function startLine(starts: Map<number, number>) {
  return (line: string) => {
    if (!line.includes('job-start')) return
    try {
      const r = JSON.parse(line) as { msg?: string; i?: number; time?: string | number }
      if (r.msg === 'job-start' && typeof r.i === 'number') starts.set(r.i, typeof r.time === 'number' ? r.time : Date.parse(String(r.time)))
    } catch { /* not a log line of ours */ }
  }
}

async function startIslet(): Promise<Target> {
  const { dir, cleanup } = writeFiles({ 'app.yaml': QUEUE_APP })
  const dataDir = mkdtempSync(join(tmpdir(), 'islet-bench-queue-'))
  const starts = new Map<number, number>()
  const server = startCli('run', join(dir, 'app.yaml'), ISLET_PORT, { dataDir, logLevel: 'warn', stdout: startLine(starts) })
  const forget = onExit(() => { try { process.kill(-server.pid, 'SIGKILL') } catch { /* gone */ } rmSync(dataDir, { recursive: true, force: true }); cleanup() })
  await until(async () => {
    if (server.child.exitCode !== null) throw new Error(`islet run exited with ${server.child.exitCode}: ${server.stderr()}`)
    return post(`${server.url}/jobs/c1`, '{"i":-1}', 2000).then(async (r) => { await r.arrayBuffer(); return r.status === 202 }, () => false)
  }, { ms: 60_000, everyMs: 20, explain: () => server.stderr() })
  const db = new Database(join(dataDir, 'queues.db'), { readonly: true, fileMustExist: true })
  const maxId = db.prepare('SELECT COALESCE(MAX(id), 0) FROM jobs WHERE queue = ?').pluck()
  // This run's rows only, by id: left to choose, SQLite counts every done job of the queue at each poll, and the
  // polling (this process, sharing the machine's 2 cores with the server) grows with every round.
  const done = db.prepare(`SELECT COUNT(*) AS n, MAX(updated_at) AS last FROM jobs NOT INDEXED WHERE id > ? AND queue = ? AND state = 'done'`)
  const target: Target = {
    label: 'islet queue.sqlite', roots: [server.pid], starts,
    async enqueue(queue, i, delayMs) {
      const res = await post(`${server.url}/jobs/${queue}`, JSON.stringify({ i, delayMs }), 10_000)
      await res.arrayBuffer()
      if (res.status !== 202) throw new Error(`POST /jobs/${queue} answered ${res.status}`)
    },
    async backlog(queue, count, inFlight, sent, leadMs) {
      const dueAt = Date.now() + leadMs
      const b = await burst(target, queue, count, inFlight, sent, dueAt)
      return { dueAt, late: b.lastAck > dueAt, failed: b.failed }
    },
    async expect(queue, count) {
      const after = maxId.get(queue) as number
      return async () => {
        let last = 0
        await until(() => {
          const r = done.get(after, queue) as { n: number; last: number | null }
          last = r.last ?? 0
          return r.n >= count
        }, { ms: 120_000, everyMs: 20, explain: () => server.stderr() })
        return last
      }
    },
    async close() {
      db.close()
      await server.stop()
      forget()
      rmSync(dataDir, { recursive: true, force: true })
      cleanup()
    },
  }
  return target
}

async function startBull(mode: RedisMode): Promise<Target> {
  const redis: RedisServer = await startRedis(mode, REDIS_PORTS[mode])
  const starts = new Map<number, number>()
  const worker = fork(fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url)), [String(redis.port)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  const forgetWorker = onExit(() => worker.kill('SIGKILL'))
  createInterface({ input: worker.stdout! }).on('line', startLine(starts))
  const message = <T>(pick: (m: Record<string, unknown>) => T | undefined, ms = 120_000) => new Promise<T>((resolve, reject) => {
    const settle = (error?: Error, value?: T) => {
      clearTimeout(timer)
      worker.off('message', on)
      worker.off('exit', exit)
      if (error) reject(error)
      else resolve(value as T)
    }
    const timer = setTimeout(() => settle(new Error('the BullMQ worker did not answer')), ms)
    const on = (m: Record<string, unknown>) => { const v = pick(m); if (v !== undefined) settle(undefined, v) }
    const exit = (code: number | null) => settle(new Error(`the BullMQ worker exited with ${code}`))
    worker.on('message', on)
    worker.once('exit', exit)
  })
  await message((m) => m.ready as true | undefined, 30_000)
  // BullMQ leaves a client it was handed open on close: these are closed here, or they would keep this process alive.
  const clients = QUEUES.map(() => new RespClient({ host: '127.0.0.1', port: redis.port }))
  const queues = new Map(QUEUES.map((q, k) => [q, new Queue(q, { connection: createBunRedisClient(clients[k] as never) })]))
  const target: Target = {
    label: `BullMQ ${mode === 'aof' ? 'Redis AOF everysec' : 'Redis memory-only'}`, roots: [redis.pid, worker.pid!], starts,
    async enqueue(queue, i) { await queues.get(queue)!.add('job', { i }) },
    async backlog(queue, count, inFlight, sent) {
      const q = queues.get(queue)!
      await q.pause()
      const b = await burst(target, queue, count, inFlight, sent)
      const dueAt = Date.now()
      await q.resume()
      return { dueAt, late: false, failed: b.failed }
    },
    async expect(queue, count) {
      const acked = message((m) => (m.expecting === queue ? true : undefined))
      worker.send({ expect: { queue, count } })
      await acked
      const done = message((m) => (m.done === queue ? m.lastFinishedOn as number : undefined))
      return () => done
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()))
      for (const c of clients) c.close()
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      worker.kill('SIGTERM')
      await Promise.race([exited, sleep(5000)])
      worker.kill('SIGKILL')
      forgetWorker()
      await redis.stop()
    },
  }
  return target
}

let jobNumber = 0

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

/** Enqueues `count` jobs, `inFlight` at a time; the send time (epoch ms) of each job number goes into `sent`. */
async function burst(target: Target, queue: QueueName, count: number, inFlight: number, sent: Map<number, number>, dueAt?: number): Promise<{ failed: number; lastAck: number }> {
  let next = 0
  let failed = 0
  let lastAck = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) {
      next++
      const i = ++jobNumber
      sent.set(i, Date.now())
      await target.enqueue(queue, i, dueAt === undefined ? undefined : Math.max(0, dueAt - Date.now())).catch(() => { failed++ })
      lastAck = Date.now()
    }
  }))
  return { failed, lastAck }
}

/** Enqueues `count` jobs at `rate` per second, each when its time comes (open loop: a slow answer delays none). */
async function paced(target: Target, queue: QueueName, count: number, rate: number, sent: Map<number, number>): Promise<number> {
  let failed = 0
  const t0 = performance.now()
  const pending: Promise<void>[] = []
  for (let k = 0; k < count; k++) {
    const wait = t0 + (k * 1000) / rate - performance.now()
    if (wait > 0) await sleep(wait)
    const i = ++jobNumber
    sent.set(i, Date.now())
    pending.push(target.enqueue(queue, i).catch(() => { failed++ }))
  }
  await Promise.all(pending)
  return failed
}

async function startedAll(target: Target, sent: Map<number, number>): Promise<number[]> {
  await until(() => [...sent.keys()].every((i) => target.starts.has(i)), { ms: 30_000, explain: () => `${target.label}: start lines missing` })
  return [...sent].map(([i, at]) => target.starts.get(i)! - at)
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
