// The supervisor's backup deadline runs from when a call was sent; the worker's own deadline from when the call
// began. A call queued behind another component's long, legal slice begins late, and may then wait on a host call
// within its own deadline while the backup deadline passes: the worker is turning its event loop (no slice runs), so
// it is not killed (that lost every call on it, charged to no one).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileComponent } from '../../runtime/components/compile.ts'
import { createLogger } from '../../runtime/log/logger.ts'
import { createSandbox, type LoadSpec, type Sandbox } from '../../runtime/sandbox/supervisor.ts'
import { until } from '../support/until.ts'
import { component } from './support.ts'

const GRACE_MS = 1000
const WAITER = { timeoutMs: 2000, cpuMs: 2000, hostCalls: 10, outputBytes: 65_536 }
const HOG = { timeoutMs: 20_000, cpuMs: 20_000, hostCalls: 10, outputBytes: 65_536 }

let dir: string
let sandbox: Sandbox
/** When the waiter's call was sent: its host call is answered only once its backup deadline (from then) has passed. */
let sentAt = 0

async function spec(name: string, members: string): Promise<LoadSpec> {
  const file = join(dir, name, 'index.ts')
  mkdirSync(join(dir, name), { recursive: true })
  writeFileSync(file, component(members, '', name))
  const { code } = await compileComponent(file)
  return { key: `${name}@1`, name, generation: 1, code, memoryMb: 32, loadTimeoutMs: 10_000, config: {} }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'islet-overdue-'))
  sandbox = createSandbox({
    workers: 1, graceMs: GRACE_MS, logger: createLogger({ level: 'fatal', pretty: false }),
    async onHostCall() {
      await until(() => Date.now() > sentAt + WAITER.timeoutMs + GRACE_MS + 200, { ms: 30_000 })
      return 'answer'
    },
    onLog() {},
  })
  await sandbox.load(await spec('hog', '  execute(input: any) { const end = Date.now() + input.ms; while (Date.now() < end) {} return { done: true } },'))
  await sandbox.load(await spec('waiter', "  async execute(_input: unknown, ctx: any) { return { got: await ctx.secrets.get('slow') } },"))
})
afterAll(async () => {
  await sandbox?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('a call that began late and waits on a host call', () => {
  it('is answered within its own deadline: its worker is not killed when the backup deadline from sending passes', async () => {
    const [before] = await sandbox.stats()
    // The hog's 2.5 s slice holds the worker; the waiter's call, sent meanwhile, begins after it.
    const hog = sandbox.invoke('hog@1', 'execute', JSON.stringify({ ms: 2500 }), HOG)
    sentAt = Date.now()
    const waiter = sandbox.invoke('waiter@1', 'execute', '{}', WAITER)
    expect(await waiter).toBe(JSON.stringify({ got: 'answer' }))
    expect(await hog).toBe(JSON.stringify({ done: true }))
    expect((await sandbox.stats())[0]!.pid).toBe(before!.pid)
  })
})
