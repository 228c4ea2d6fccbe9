// The BullMQ side of §17's queue benchmark: redis-server (Debian's) started on loopback in a temp dir, with AOF
// (everysec) or memory only; the Workers in a process of their own (bullmq-worker.ts); the producer a Queue in the
// benchmark's process (`queue.add`, as an app adds jobs). Completion: the job's finishedOn, which the worker
// process reports. Redis is reached through ioredis, BullMQ's usual driver (a devDependency: BullMQ 6 lists it as an
// optional peer).
import { fork } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Queue } from 'bullmq'
import { onExit } from './exit-cleanup.ts'
import { burst, QUEUE_PORT, QUEUES, startLine, type Target } from './queue-target.ts'
import { startRedis, type RedisMode, type RedisServer } from './redis-server.ts'
import { sleep } from './stats.ts'

const REDIS_PORTS: Record<RedisMode, number> = { aof: QUEUE_PORT + 1, memory: QUEUE_PORT + 2 }

export async function startBull(mode: RedisMode): Promise<Target> {
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
  const queues = new Map(QUEUES.map((q) => [q, new Queue(q, { connection: { host: '127.0.0.1', port: redis.port } })]))
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
