// `islet queue …` on the data directory of a running app (its queues.db, shared the way engine processes share it):
// list the queues, read the dead letters, retry one (the engine runs it at its next poll) and purge the rest.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isletAsync } from './support/cli.ts'
import { startQueueApp } from './support/queue-app.ts'
import { until } from './support/until.ts'

describe('islet queue', () => {
  it('lists queues and dead jobs, retries one into the running engine, purges the rest; usage errors exit 2', async () => {
    const t = await startQueueApp({ pollInterval: '50ms' })
    const cli = (...args: string[]) => isletAsync(['queue', ...args, '--data-dir', join(t.dir, 'data')])
    try {
      for (const name of ['a', 'b', 'c']) t.broken(name, true)
      const [a] = [await t.post({ name: 'a' }), await t.post({ name: 'b' }), await t.post({ name: 'c' })]
      await until(() => t.queue.counts().dead === 3)

      const list = await cli('list', '--format', 'json')
      expect(list.status).toBe(0)
      expect(JSON.parse(list.stdout)).toEqual({ queues: [{ name: 'work', waiting: 0, delayed: 0, running: 0, dead: 3, done: 0 }] })
      const text = await cli('dead', 'work')
      expect(text.stdout.split('\n')[0]).toMatch(/^id\s+attempts\s+died\s+error\s+payload$/)
      expect(text.stdout).toContain('ERR_FLAKY: attempt 3 of a fails')
      const one = JSON.parse((await cli('dead', 'work', a!.id)).stdout)
      expect(one).toMatchObject({ id: a!.id, attempts: 3, payload: { name: 'a' }, error: { code: 'ERR_FLAKY' } })

      const [usage, unknown, missing] = await Promise.all([cli('retry', 'work'), cli('retry', 'wrok', '--all'), cli('purge', 'work', '999')])
      expect(usage.status).toBe(2)
      expect(usage.stderr).toContain('--all')
      expect(unknown.status).toBe(1)
      expect(unknown.stderr).toContain("ERR_QUEUE_UNKNOWN: ")
      expect(unknown.stderr).toContain('queues: work')
      expect(missing.status).toBe(1)
      expect(missing.stderr).toContain('ERR_QUEUE_JOB_UNKNOWN')

      t.broken('a', false)
      const retried = await cli('retry', 'work', a!.id)
      expect(retried.status).toBe(0)
      expect(retried.stdout).toContain('1 dead job(s)')
      // The engine was not told: it finds the job at its next poll.
      await until(() => t.queue.counts().done === 1)
      expect(t.runs('a')).toEqual([1, 2, 3, 1])
      const purged = await cli('purge', 'work', '--all', '--format', 'json')
      expect(JSON.parse(purged.stdout)).toEqual({ queue: 'work', purged: 2 })
      expect(t.queue.counts()).toMatchObject({ dead: 0, done: 1 })
    } finally { await t.close() }
  }, 60_000)
})
