// The supervisor's backup deadline runs from when a call was sent; the worker's own deadline from when the call
// began. A call queued behind another component's long, legal slice begins late, and may then wait on a host call
// within its own deadline while the backup deadline passes: the worker is turning its event loop (no slice runs), so
// it is not killed (that lost every call on it, charged to no one). The worker also pushes a call's deadline back by
// what other components held it since the call began: a backup check that finds it idle but serving (slices ran
// since the previous check) extends again.
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
/** When the waiter's call was sent. */
let sentAt = 0
/** Its host call is answered once this time has passed (the first case: once its backup deadline has). */
let answerAt = 0
/** Its host call has arrived: the call has begun in the worker. */
let asked = false

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
      asked = true
      await until(() => Date.now() > answerAt, { ms: 30_000 })
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
    answerAt = sentAt + WAITER.timeoutMs + GRACE_MS + 200
    const waiter = sandbox.invoke('waiter@1', 'execute', '{}', WAITER)
    expect(await waiter).toBe(JSON.stringify({ got: 'answer' }))
    expect(await hog).toBe(JSON.stringify({ done: true }))
    expect((await sandbox.stats())[0]!.pid).toBe(before!.pid)
  })
})

describe('a call waiting on a host call while other components hold its worker', () => {
  it('keeps its worker past the backup deadline\'s first extension while the worker still runs slices', async () => {
    // The worker pushes the waiter's deadline back by what the hogs held (3.5 s + 2.5 s): it may wait until ~9 s.
    // The backup deadline (from sending: 4 s) finds the worker idle between the hogs and extends once (to 8 s); at
    // 8 s the worker is idle again, but it ran slices since: its event loop turns and enforces the deadline itself.
    const LONG = { ...WAITER, timeoutMs: 3000 }
    const [before] = await sandbox.stats()
    asked = false
    sentAt = Date.now()
    answerAt = sentAt + 8300
    const waiter = sandbox.invoke('waiter@1', 'execute', '{}', LONG)
    await until(() => asked, { ms: 10_000 })
    expect(await sandbox.invoke('hog@1', 'execute', JSON.stringify({ ms: 3500 }), HOG)).toBe(JSON.stringify({ done: true }))
    await until(() => Date.now() > sentAt + LONG.timeoutMs + GRACE_MS + 500, { ms: 30_000 })
    expect(await sandbox.invoke('hog@1', 'execute', JSON.stringify({ ms: 2500 }), HOG)).toBe(JSON.stringify({ done: true }))
    expect(await waiter).toBe(JSON.stringify({ got: 'answer' }))
    expect((await sandbox.stats())[0]!.pid).toBe(before!.pid)
  }, 30_000)
})
