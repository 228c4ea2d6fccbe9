// The second wall: what a sandbox worker process could do if guest code escaped its isolate. Real worker processes
// under Node's permission model; a forged worker (wall-worker.ts, through the supervisor's test-only
// `testWorkerScript`) stands for a worker taken over by its guest: it speaks for components it was never given,
// and allocates outside every isolate limit.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileComponent } from '../../runtime/components/compile.ts'
import type { IsletError } from '../../runtime/errors.ts'
import { createLogger } from '../../runtime/log/logger.ts'
import { createSandbox, type LoadSpec, type Sandbox } from '../../runtime/sandbox/supervisor.ts'
import { CEILING_BASE_BYTES, WORKER_FILE_BYTES, workerExecArgv, workerReadPaths } from '../../runtime/sandbox/worker-process.ts'
import { until } from '../support/until.ts'
import { component, rejection, startHostile, type HostileHost } from './support.ts'

const FORGED_WORKER = fileURLToPath(new URL('./wall-worker.ts', import.meta.url))
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const LIMITS = { timeoutMs: 20_000, cpuMs: 20_000, hostCalls: 100, outputBytes: 65_536 }

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true } catch { return false }
}

describe('worker processes run under the permission model', () => {
  let h: HostileHost
  let dir: string
  beforeAll(async () => {
    h = await startHostile({})
    dir = mkdtempSync(join(tmpdir(), 'islet-wall-'))
  })
  afterAll(async () => {
    await h?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('the real workers were started with --permission, addons, and reads of the worker modules only', async () => {
    const pids = await h.pids()
    expect(pids.length).toBeGreaterThan(0)
    for (const pid of pids) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
      expect(argv).toContain('--permission')
      expect(argv).toContain('--allow-addons')
      for (const refused of ['--allow-fs-write', '--allow-child-process', '--allow-worker', '--allow-wasi', '--allow-inspector']) {
        expect(argv.filter((a) => a.startsWith(refused))).toEqual([])
      }
      const reads = argv.filter((a) => a.startsWith('--allow-fs-read=')).map((a) => a.slice('--allow-fs-read='.length))
      expect(reads.sort()).toEqual(workerReadPaths().sort())
      // Neither the repository, nor its node_modules as a whole, nor anything outside it but node-gyp-build's probe.
      for (const path of reads) {
        expect(path === '/etc/alpine-release' || (path.startsWith(REPO) && path.length > REPO.length)).toBe(true)
        expect(path.replace(/\/$/, '')).not.toBe(join(REPO, 'node_modules'))
        expect(path).not.toMatch(/\*/)
      }
    }
    // And they work: the canary ran in one.
    await h.expectCanary()
  })

  it('under the same flags, fs writes, reads elsewhere, child processes and worker threads are refused', () => {
    const secret = join(dir, 'secret.txt')
    writeFileSync(secret, 'app data')
    const probe = join(dir, 'probe.mjs')
    writeFileSync(probe, `
      import { writeFileSync, readFileSync } from 'node:fs'
      import { execFileSync } from 'node:child_process'
      import { Worker } from 'node:worker_threads'
      const attempts = {
        write: () => writeFileSync(${JSON.stringify(join(dir, 'planted.txt'))}, 'x'),
        readAppData: () => readFileSync(${JSON.stringify(secret)}, 'utf8'),
        readPasswd: () => readFileSync('/etc/passwd', 'utf8'),
        readEngineSource: () => readFileSync(${JSON.stringify(join(REPO, 'runtime', 'engine', 'engine.ts'))}, 'utf8'),
        childProcess: () => execFileSync('/bin/true'),
        workerThread: () => new Worker('1', { eval: true }),
      }
      const outcome = {}
      for (const [name, attempt] of Object.entries(attempts)) {
        try { attempt(); outcome[name] = 'allowed' } catch (error) { outcome[name] = error.code ?? String(error) }
      }
      process.stdout.write(JSON.stringify(outcome))
    `)
    const run = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, probe], { env: {}, encoding: 'utf8' })) as Record<string, string>
    // Without the flags every attempt succeeds (the probe is sound)…
    expect(Object.values(run(['--no-node-snapshot']))).toEqual(Array(6).fill('allowed'))
    // …with them, each is refused by the permission model.
    expect(run(workerExecArgv([probe]))).toEqual({
      write: 'ERR_ACCESS_DENIED', readAppData: 'ERR_ACCESS_DENIED', readPasswd: 'ERR_ACCESS_DENIED',
      readEngineSource: 'ERR_ACCESS_DENIED', childProcess: 'ERR_ACCESS_DENIED', workerThread: 'ERR_ACCESS_DENIED',
    })
  })
})

interface LogLine { level: number; msg: string; [field: string]: unknown }

/** Two sandboxes sharing one engine's host-call route, as the component host's live and examples sandboxes do. */
describe('a taken-over worker', () => {
  let dir: string
  let honest: Sandbox
  let forged: Sandbox
  const logs: LogLine[] = []
  const hostCalls: { key: string; op: string }[] = []
  const guestLogs: { key: string; message: string }[] = []
  const specs: Record<string, LoadSpec> = {}

  async function spec(name: string, members: string, memoryMb = 32): Promise<LoadSpec> {
    const file = join(dir, name, 'index.ts')
    mkdirSync(join(dir, name), { recursive: true })
    writeFileSync(file, component(members, '', name))
    const { code } = await compileComponent(file)
    return { key: `${name}@1`, name, generation: 1, code, memoryMb, loadTimeoutMs: 10_000, config: {} }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'islet-wall-'))
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as LogLine)
        done()
      },
    })
    const routes = {
      logger: createLogger({ level: 'debug', pretty: false, destination }),
      async onHostCall(key: string, op: string) {
        hostCalls.push({ key, op })
        if (key === 'victim@1' && op === 'secrets.get') return 'victim-secret'
        throw new Error(`no grant for ${key}`)
      },
      onLog(key: string, lines: { message: string }[]) {
        for (const line of lines) guestLogs.push({ key, message: line.message })
      },
    }
    honest = createSandbox({ workers: 1, ...routes })
    forged = createSandbox({ workers: 1, testWorkerScript: FORGED_WORKER, ...routes })
    specs.victim = await spec('victim', `  async execute(_input: unknown, ctx: any) { return { secret: await ctx.secrets.get('token') } },`)
    specs.forger = await spec('forger', '  async execute() { return {} },')
    specs.leak = await spec('leak', '  async execute() { return { ok: true } },')
    specs.filler = await spec('filler', '  async execute() { return {} },')
    specs.closer = await spec('closer', '  async execute() { return {} },')
    specs.garbler = await spec('garbler', '  async execute() { return {} },')
    await honest.load(specs.victim)
    await forged.load(specs.forger)
    await forged.load(specs.leak)
    await forged.load(specs.filler)
    await forged.load(specs.closer)
    await forged.load(specs.garbler)
  })
  afterAll(async () => {
    await Promise.all([honest?.stop(), forged?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  const victimAnswers = async () => {
    expect(await honest.invoke('victim@1', 'execute', '{}', LIMITS)).toBe(JSON.stringify({ secret: 'victim-secret' }))
  }

  it("a host call and a log line naming another worker's component are refused, logged with the pid, and the worker killed", async () => {
    await victimAnswers() // its own worker's call for it passes the binding
    const [victimWorker] = await honest.stats()
    const [forgerWorker] = await forged.stats()
    hostCalls.length = 0

    const error = await rejection(forged.invoke('forger@1', 'execute', '{}', LIMITS))
    expect(error.code).toBe('ERR_SANDBOX_WORKER_LOST') // lost with the worker; no component is charged
    expect(error.message).toMatch(/killed as compromised/)
    await until(() => !alive(forgerWorker!.pid), { ms: 10_000, explain: () => `pid ${forgerWorker!.pid} still runs` })

    expect(hostCalls).toEqual([]) // the engine never acted on the forged call
    expect(guestLogs.filter((l) => l.message === 'forged line')).toEqual([])
    const attempts = logs.filter((l) => l.code === 'ERR_SANDBOX_WORKER_FORGED')
    expect(attempts.length).toBeGreaterThan(0)
    expect(attempts[0]).toMatchObject({ level: 50, pid: forgerWorker!.pid, key: 'victim@1' })
    expect(attempts[0]!.msg).toMatch(/ESCAPE ATTEMPT/)

    // The victim's worker was untouched, and the forger's component comes back in a new worker.
    await victimAnswers()
    expect((await honest.stats())[0]!.pid).toBe(victimWorker!.pid)
    await forged.load({ ...specs.forger!, key: 'forger@2', generation: 2 })
  })

  it('a worker that closes its channel and lives on is killed; its call is lost, and the engine serves on', async () => {
    const [before] = await forged.stats()
    // A deadline far past the wait below: the worker must be killed for closing its channel, not at the backup deadline.
    const lost = rejection(forged.invoke('closer@1', 'execute', '{}', { ...LIMITS, timeoutMs: 120_000, cpuMs: 120_000 }))
    await until(() => !alive(before!.pid), { ms: 10_000, explain: () => `pid ${before!.pid} still runs` })
    expect((await lost).code).toBe('ERR_SANDBOX_WORKER_LOST')
    // The next call goes to a new worker (a send to the closed channel would have thrown in the engine).
    await forged.load(specs.filler!)
    const answer = JSON.parse(await forged.invoke('filler@1', 'execute', '{}', LIMITS)) as { code?: string }
    expect(answer.code).toBe('EFBIG')
    expect((await forged.stats())[0]!.pid).not.toBe(before!.pid)
  })

  it('a worker sending malformed messages is killed as compromised, and the engine serves on', async () => {
    const [before] = await forged.stats()
    const error = await rejection(forged.invoke('garbler@1', 'execute', '{}', LIMITS))
    expect(error.code).toBe('ERR_SANDBOX_WORKER_LOST')
    expect(error.message).toMatch(/malformed message/)
    expect(logs.filter((l) => l.pid === before!.pid && l.code === 'ERR_SANDBOX_WORKER_FORGED')).toHaveLength(1)
    await victimAnswers()
    await forged.load(specs.filler!)
    expect((await forged.stats())[0]!.pid).not.toBe(before!.pid)
  })

  it('a worker cannot fill the disk through the one file it holds open: writes stop at its file-size limit', async () => {
    const answer = JSON.parse(await forged.invoke('filler@1', 'execute', '{}', LIMITS)) as { written: number; code?: string }
    expect(answer.written).toBeLessThanOrEqual(WORKER_FILE_BYTES)
    expect(answer.code).toBe('EFBIG')
  })

  it('a worker allocating outside every isolate limit is killed at its memory ceiling, as a memory breach; other workers serve on', async () => {
    await forged.load(specs.leak!) // into the current incarnation of the forged worker
    const [before] = await forged.stats()
    const error: IsletError = await rejection(forged.invoke('leak@1', 'execute', JSON.stringify({ attack: true }), LIMITS))
    expect(error.code).toBe('ERR_SANDBOX_MEMORY_LIMIT')
    expect(error.message).toMatch(/memory ceiling/)
    const kill = logs.find((l) => l.pid === before!.pid && /over its memory ceiling/.test(l.msg))
    expect(kill).toBeDefined()
    // Compared in bytes: the MB figures are rounded and may read equal.
    expect(kill!.rssBytes as number).toBeGreaterThan(kill!.ceilingBytes as number)
    // Sized from what the worker hosts: the base and each component's share, far below the 8 GiB the attack wanted.
    expect(kill!.ceilingMb as number).toBeGreaterThanOrEqual(CEILING_BASE_BYTES / 2 ** 20)
    expect(kill!.ceilingMb as number).toBeLessThan(1024)
    console.log(`worker killed at ${kill!.rssMb as number} MB resident (ceiling ${kill!.ceilingMb as number} MB)`)

    await victimAnswers()
    expect(await forged.invoke('leak@1', 'execute', '{}', LIMITS)).toBe(JSON.stringify({ ok: true }))
    expect((await forged.stats())[0]!.pid).not.toBe(before!.pid)
  })
})
