// Benchmark: `islet run --processes 2` (--balance cluster, and reuseport on Linux) against `--processes 1` on the same
// app, side by side. All run through the real CLI (the primary, its engine processes and their sandbox workers);
// rounds rotate the order so drift on a noisy machine hits all. Per round: req/s, server CPU per request over the
// whole process tree (primary + engines + sandbox workers, from /proc), each engine process's share of that CPU (how
// evenly connections were spread), and the tree's RSS.
// Alone: `node test/bench/processes.ts [app.yaml]` (BENCH_SECONDS, BENCH_ROUNDS, BENCH_PROCESSES=2, BENCH_FRESH=1 for a
// new connection per request).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { availableParallelism, platform, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { load, type LoadResult } from './versus-koa.ts'
import { parentOf, processTree, treeCpuSeconds, treeMemory } from './proc.ts'
import { median, round } from './stats.ts'

const BIN = fileURLToPath(new URL('../../runtime/cli/bin.js', import.meta.url))
const DEFAULT_APP = fileURLToPath(new URL('./quote-component.yaml', import.meta.url))

interface Server {
  url: string
  child: ChildProcess
  close(): Promise<void>
}

/** `islet run --processes <n>` on `app` (PORT=port), resolved once every engine process serves. */
async function startIslet(app: string, processes: number, port: number, balance?: 'cluster' | 'reuseport'): Promise<Server> {
  const data = mkdtempSync(join(tmpdir(), 'islet-bench-processes-'))
  const child = spawn(process.execPath, [BIN, 'run', app, '--processes', String(processes), '--data-dir', data, ...(balance ? ['--balance', balance] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PORT: String(port), LOG_LEVEL: 'info' },
  })
  const lines = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    let found: string | undefined
    child.once('exit', (code) => reject(new Error(`islet run --processes ${processes} exited with ${code} before serving`)))
    lines.on('line', (line) => {
      let record: { msg?: string; url?: string }
      try { record = JSON.parse(line) } catch { return }
      if (record.url && record.msg?.startsWith('listening on')) found = record.url
      const ready = processes === 1 ? record.msg === 'engine ready' : record.msg === `${processes} engine processes serving`
      if (ready && found) resolve(found)
    })
  })
  lines.removeAllListeners('line')
  lines.on('line', () => {}) // keep draining its log
  return {
    url, child,
    close: () => new Promise((resolve) => {
      const done = () => { rmSync(data, { recursive: true, force: true }); resolve() }
      if (child.exitCode !== null) return done()
      child.once('exit', done)
      child.kill('SIGTERM')
    }),
  }
}

interface Round extends LoadResult {
  cpuMsPerRequest: number
  /** Each engine process's share of the tree's CPU (its sandbox workers included), largest first. */
  shares: number[]
  rssMb: number
}

async function measure(server: Server, seconds: number, processes: number, fresh: boolean): Promise<Round> {
  const root = server.child.pid!
  // The engine processes: the primary's children, or the single engine itself.
  const engines = processes === 1 ? [root] : processTree(root).filter((pid) => parentOf(pid) === root)
  const cpuMs = () => ({ all: treeCpuSeconds(root) * 1000, groups: engines.map((pid) => treeCpuSeconds(pid) * 1000) })
  const before = cpuMs()
  const result = await load(server.url, seconds, '/quote', fresh)
  const after = cpuMs()
  const total = after.all - before.all
  const shares = engines.map((_, i) => (after.groups[i]! - before.groups[i]!) / total).sort((a, b) => b - a)
  return { ...result, cpuMsPerRequest: total / result.requests, shares, rssMb: treeMemory(root).rssMb }
}

/** A free loopback port (for reuseport, which cannot use port 0 across processes). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
  })
}

interface Setup { label: string; processes: number; balance?: 'cluster' | 'reuseport' }

export interface ProcessesOptions {
  rounds: number
  seconds: number
  app?: string
  processes?: number
  /** A new connection per request instead of 50 kept-alive ones. */
  fresh?: boolean
}

export async function benchProcesses(options: ProcessesOptions) {
  const app = options.app ?? DEFAULT_APP
  const n = options.processes ?? 2
  const fresh = options.fresh === true
  const setups: Setup[] = [
    { label: '1 process', processes: 1 },
    { label: `${n} cluster`, processes: n, balance: 'cluster' },
    ...(platform() === 'linux' ? [{ label: `${n} reuseport`, processes: n, balance: 'reuseport' } as Setup] : []),
  ]
  const servers: Server[] = []
  try {
    for (const setup of setups) {
      servers.push(await startIslet(app, setup.processes, setup.balance === 'reuseport' ? await freePort() : 0, setup.balance))
    }
    for (const server of servers) await load(server.url, 2, '/quote', fresh) // warm-up: JIT every engine and sandbox worker
    const rounds: Round[][] = []
    for (let i = 0; i < options.rounds; i++) {
      // Rotate which goes first, so none always runs right after the same neighbour's load.
      const row: Round[] = []
      for (let k = 0; k < setups.length; k++) {
        const j = (i + k) % setups.length
        row[j] = await measure(servers[j]!, options.seconds, setups[j]!.processes, fresh)
      }
      rounds.push(row)
      console.log(`  round ${i + 1}: ` + setups.map((s, j) => `${s.label} ${row[j]!.requestsPerSec.toFixed(0)} req/s, ${row[j]!.cpuMsPerRequest.toFixed(3)} ms CPU/req` +
        (s.processes > 1 ? ` (shares ${row[j]!.shares.map((x) => `${Math.round(x * 100)}%`).join('/')})` : '')).join(' | '))
    }
    return {
      processes: n, fresh,
      setups: setups.map((s, j) => ({
        label: s.label,
        rps: median(rounds.map((r) => r[j]!.requestsPerSec)),
        /** req/s over the single process's in the same round, median of rounds. */
        rpsRatio: round(median(rounds.map((r) => r[j]!.requestsPerSec / r[0]!.requestsPerSec)), 2),
        cpuMsPerRequest: round(median(rounds.map((r) => r[j]!.cpuMsPerRequest)), 4),
        cpuRatio: round(median(rounds.map((r) => r[j]!.cpuMsPerRequest / r[0]!.cpuMsPerRequest)), 2),
        rssMb: round(median(rounds.map((r) => r[j]!.rssMb)), 0),
        largestShare: round(median(rounds.map((r) => r[j]!.shares[0]!)), 2),
      })),
      failures: rounds.flat().reduce((f, r) => f + r.errors + r.non2xx, 0),
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()))
  }
}

export function printProcesses(r: Awaited<ReturnType<typeof benchProcesses>>): void {
  console.log(`   ${r.fresh ? 'a new connection per request' : '50 kept-alive connections'}; medians of rounds, ratios against 1 process in the same round`)
  for (const s of r.setups) {
    console.log(`   ${s.label.padEnd(14)} ${s.rps.toFixed(0).padStart(6)} req/s (${s.rpsRatio}×), ${s.cpuMsPerRequest} ms CPU/req (${s.cpuRatio}×), RSS ${s.rssMb} MB` +
      (s.label.startsWith('1 ') ? '' : `, busiest engine ${Math.round(s.largestShare * 100)}% of the CPU`))
  }
  console.log(`   (no target: ${availableParallelism()} cores here, shared with the load generator)${r.failures ? `; ${r.failures} failed requests!` : ''}`)
}

if (import.meta.main) {
  const result = await benchProcesses({
    rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 5),
    app: process.argv[2], processes: Number(process.env.BENCH_PROCESSES ?? 2), fresh: process.env.BENCH_FRESH === '1',
  })
  printProcesses(result)
  console.log(JSON.stringify({ bench: 'processes', ...result }))
}
