// Leases in one engine: a run that lasts many visibility timeouts keeps its job (the lease is renewed, so no other
// claim runs it meanwhile), and a module that stops with a run still going gives the job back undone, its attempt
// not counted. A step plugin holds the run until the test lets it go.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { definePlugin, defineStepType } from '@islet/sdk'
import { describe, expect, it } from 'vitest'
import type { QueueModule } from '../plugins/queue/module.ts'
import { openTestApp } from './support/app.ts'
import { until } from './support/until.ts'

function holdPlugin() {
  const gate = { starts: 0, release: () => {} }
  const plugin = definePlugin({
    name: 'hold', version: '1.0.0',
    stepTypes: [defineStepType({
      type: 'hold.wait', configSchema: { type: 'object' },
      create: () => async (scope) => {
        gate.starts++
        await new Promise<void>((resolve) => { gate.release = resolve; scope.signal.addEventListener('abort', () => resolve()) })
      },
    })],
  })
  return { gate, plugin }
}

const APP = `apiVersion: islet/v1
modules:
  - name: work
    type: queue.sqlite
    config:
      pollInterval: 20
      consumer: { pipeline: process, visibilityTimeout: 100, stopGrace: 0 }
pipelines:
  process:
    steps:
      - type: hold.wait
        config: {}
`

describe('queue leases', () => {
  it('a run longer than many visibility timeouts keeps its lease and runs once; a stop gives a held job back uncounted', async () => {
    const { gate, plugin } = holdPlugin()
    const t = await openTestApp({ 'app.yaml': APP }, { plugins: [plugin] })
    await t.started
    const db = new Database(join(t.dir, 'data', 'queues.db'), { readonly: true })
    const row = (id: string) => db.prepare('SELECT state, attempts, run_at AS leaseEnd FROM jobs WHERE id = ?').get(id) as { state: string; attempts: number; leaseEnd: number }
    try {
      const queue = t.engine.module<QueueModule>('work')
      const { id } = await queue.enqueue({ n: 1 })
      await until(() => gate.starts === 1)
      const firstLeaseEnd = row(id).leaseEnd
      // The lease moves on while the run lasts: five lease lengths past the first one, still one run, still attempt 1.
      await until(() => row(id).leaseEnd > firstLeaseEnd + 500, { explain: () => JSON.stringify(row(id)) })
      expect(gate.starts).toBe(1)
      expect(row(id)).toMatchObject({ state: 'running', attempts: 1 })
      gate.release()
      await until(() => row(id).state === 'done')

      const second = await queue.enqueue({ n: 2 })
      await until(() => gate.starts === 2)
      await t.engine.stop()
      expect(row(second.id)).toMatchObject({ state: 'waiting', attempts: 0 })
      expect(gate.starts).toBe(2)
    } finally {
      db.close()
      await t.close()
    }
  })
})
