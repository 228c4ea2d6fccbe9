// The examples worker (the sandbox process that runs a component's examples on throwaway isolates) holds nothing
// between a start or reload and the next: it stops once idle, so a served app keeps one sandbox worker process, not
// two. The next reload starts it again and still runs the examples first; watch mode keeps it for every save.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { ComponentDecl } from '../runtime/config/types.ts'
import { createComponentHost, EXAMPLES_WORKER_IDLE_MS, type ComponentHost } from '../runtime/components/host.ts'
import { createEventBus } from '../runtime/events/bus.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { writeFiles } from './support/files.ts'
import { until } from './support/until.ts'

const { dir, cleanup } = writeFiles({})
afterAll(cleanup)
const hosts: ComponentHost[] = []
afterEach(async () => { await Promise.all(hosts.splice(0).map((h) => h.stop())) })

const quote = (factor: number) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'quote',
  examples: [{ input: { qty: 2 }, output: { total: ${2 * factor} } }],
  execute(input: { qty: number }) { return { total: input.qty * ${factor} } },
})
`

/** Sandbox worker processes this test process spawned (real children, read from /proc). */
function sandboxWorkers(): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === process.pid && /sandbox\/worker\.ts|islet\/worker\/worker-/.test(readFileSync(`/proc/${entry}/cmdline`, 'utf8'))) pids.push(Number(entry))
    } catch { /* gone meanwhile */ }
  }
  return pids
}

async function start(): Promise<{ host: ComponentHost; file: string }> {
  const file = join(dir, 'quote.ts')
  writeFileSync(file, quote(12))
  const at = { file: join(dir, 'app.yaml'), line: 1, col: 1 }
  const decl: ComponentDecl = { name: 'quote', file, limits: {}, grants: { kv: false, emit: [], secrets: [] }, config: {}, source: at, configSource: at }
  const host = createComponentHost({
    components: [decl], logger: silentLogger(), dataDir: join(dir, 'data'), bus: createEventBus(),
    sandbox: { workers: 1, limits: { timeoutMs: 2000, cpuMs: 500 }, quarantine: { breaches: 100, windowMs: 1000, baseMs: 1000, maxMs: 1000 } },
  })
  hosts.push(host)
  await host.start()
  return { host, file }
}

describe.skipIf(process.platform !== 'linux')('the examples worker', () => {
  it('stops once the start-up examples ran, and a reload starts it again and still runs the examples first', async () => {
    const { host, file } = await start()
    // The serving worker and the examples worker, until the latter has been idle long enough.
    await until(() => sandboxWorkers().length === 1, { ms: EXAMPLES_WORKER_IDLE_MS + 15_000, explain: () => `workers: ${sandboxWorkers().join(', ')}` })
    expect(await host.invoke('quote', { qty: 3 })).toEqual({ total: 36 })

    // A change that breaks its own example is refused: the examples did run, in a new examples worker.
    writeFileSync(file, quote(12).replace('input.qty * 12', 'input.qty * 13'))
    const refused = await host.reload('quote')
    expect(refused.ok).toBe(false)
    expect(refused.error?.code).toBe('ERR_COMPONENT_EXAMPLE_FAILED')
    writeFileSync(file, quote(10))
    expect((await host.reload('quote')).ok).toBe(true)
    expect(await host.invoke('quote', { qty: 3 })).toEqual({ total: 30 })
    await until(() => sandboxWorkers().length === 1, { ms: EXAMPLES_WORKER_IDLE_MS + 15_000, explain: () => `workers: ${sandboxWorkers().join(', ')}` })
  })

  it('stays up while watch mode keeps it, and stops after it is released', async () => {
    const { host, file } = await start()
    const release = host.keepExamplesWorker()
    writeFileSync(file, quote(11))
    expect((await host.reload('quote')).ok).toBe(true)
    const both = sandboxWorkers()
    expect(both).toHaveLength(2)
    // Kept: the next reload's examples run in the very same process.
    writeFileSync(file, quote(9))
    expect((await host.reload('quote')).ok).toBe(true)
    expect(sandboxWorkers().sort()).toEqual(both.sort())
    release()
    await until(() => sandboxWorkers().length === 1, { ms: EXAMPLES_WORKER_IDLE_MS + 15_000, explain: () => `workers: ${sandboxWorkers().join(', ')}` })
  })
})
