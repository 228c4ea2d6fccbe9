// Benchmark: `islet run --processes 2` against `--processes 1` on the same app, side by side. Both run through the
// real CLI (the primary, its engine processes and their sandbox workers); rounds alternate between the two so drift
// on a noisy machine hits both. Per round: req/s, server CPU per request over the whole process tree (primary +
// engines + sandbox workers, from /proc), each engine process's share of that CPU (how evenly the primary's
// round-robin spread the work), and the tree's RSS.
// Alone: `node test/bench/processes.ts [app.yaml]` (BENCH_SECONDS, BENCH_ROUNDS, BENCH_PROCESSES=2 to compare).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { load, type LoadResult } from './versus-koa.ts'
import { median, round } from './stats.ts'

const BIN = fileURLToPath(new URL('../../runtime/cli/bin.js', import.meta.url))
const DEFAULT_APP = fileURLToPath(new URL('./quote-component.yaml', import.meta.url))
const TICK_MS = 1000 / 100 // USER_HZ: /proc reports CPU time in 1/100 s on Linux

interface Server {
  url: string
  child: ChildProcess
  close(): Promise<void>
}

/** `islet run --processes <n>` on `app` (port 0), resolved once every engine process serves. */
async function startIslet(app: string, processes: number): Promise<Server> {
  const data = mkdtempSync(join(tmpdir(), 'islet-bench-processes-'))
  const child = spawn(process.execPath, [BIN, 'run', app, '--processes', String(processes), '--data-dir', data], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PORT: '0', LOG_LEVEL: 'info' },
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

/** pid → parent pid, for every process on the machine. */
function parents(): Map<number, number> {
  const map = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      map.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch { /* gone */ }
  }
  return map
}

function subtree(root: number, ppids: Map<number, number>): number[] {
  const out = [root]
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of ppids) if (ppid === out[i]) out.push(pid)
  return out
}

/** CPU ms (user + system) and RSS MB of `pids`. */
function usage(pids: number[]): { cpuMs: number; rssMb: number } {
  let ticks = 0
  let rssKb = 0
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
      rssKb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    } catch { /* gone */ }
  }
  return { cpuMs: ticks * TICK_MS, rssMb: rssKb / 1024 }
}

interface Round extends LoadResult {
  cpuMsPerRequest: number
  /** Each engine process's share of the tree's CPU (its sandbox workers included), largest first. */
  shares: number[]
  rssMb: number
}

async function measure(server: Server, seconds: number, processes: number): Promise<Round> {
  const ppids = parents()
  const root = server.child.pid!
  // The engine processes: the primary's children, or the single engine itself.
  const engines = processes === 1 ? [root] : [...ppids].filter(([, ppid]) => ppid === root).map(([pid]) => pid)
  const groups = engines.map((pid) => subtree(pid, ppids))
  const all = subtree(root, ppids)
  const before = { all: usage(all), groups: groups.map(usage) }
  const result = await load(server.url, seconds)
  const after = { all: usage(all), groups: groups.map(usage) }
  const requests = result.requestsPerSec * seconds
  const total = after.all.cpuMs - before.all.cpuMs
  const shares = groups.map((_, i) => (after.groups[i]!.cpuMs - before.groups[i]!.cpuMs) / total).sort((a, b) => b - a)
  return { ...result, cpuMsPerRequest: total / requests, shares, rssMb: after.all.rssMb }
}

export async function benchProcesses(options: { rounds: number; seconds: number; app?: string; processes?: number }) {
  const app = options.app ?? DEFAULT_APP
  const n = options.processes ?? 2
  const one = await startIslet(app, 1)
  const many = await startIslet(app, n)
  try {
    await load(one.url, 2)
    await load(many.url, 2) // warm-up: JIT every engine and sandbox worker before measuring
    const rounds: { one: Round; many: Round }[] = []
    for (let i = 0; i < options.rounds; i++) {
      // Alternate which goes first, so neither always runs right after the other's load.
      const [a, b] = i % 2 === 0
        ? [await measure(one, options.seconds, 1), await measure(many, options.seconds, n)]
        : ([await measure(many, options.seconds, n), await measure(one, options.seconds, 1)].reverse() as [Round, Round])
      rounds.push({ one: a, many: b })
      console.log(`  round ${i + 1}: 1 process ${a.requestsPerSec.toFixed(0)} req/s, ${a.cpuMsPerRequest.toFixed(3)} ms CPU/req, ${a.rssMb.toFixed(0)} MB | ` +
        `${n} processes ${b.requestsPerSec.toFixed(0)} req/s, ${b.cpuMsPerRequest.toFixed(3)} ms CPU/req, ${b.rssMb.toFixed(0)} MB, CPU shares ${b.shares.map((s) => `${Math.round(s * 100)}%`).join('/')}`)
    }
    const pick = (which: 'one' | 'many', f: (r: Round) => number) => median(rounds.map((r) => f(r[which])))
    return {
      processes: n,
      oneRps: pick('one', (r) => r.requestsPerSec),
      manyRps: pick('many', (r) => r.requestsPerSec),
      rpsRatio: median(rounds.map((r) => r.many.requestsPerSec / r.one.requestsPerSec)),
      oneCpuMsPerRequest: round(pick('one', (r) => r.cpuMsPerRequest), 4),
      manyCpuMsPerRequest: round(pick('many', (r) => r.cpuMsPerRequest), 4),
      oneRssMb: round(pick('one', (r) => r.rssMb), 0),
      manyRssMb: round(pick('many', (r) => r.rssMb), 0),
      largestShare: round(pick('many', (r) => r.shares[0]!), 2),
      failures: rounds.reduce((f, r) => f + r.one.errors + r.one.non2xx + r.many.errors + r.many.non2xx, 0),
    }
  } finally {
    await Promise.all([one.close(), many.close()])
  }
}

export function printProcesses(r: Awaited<ReturnType<typeof benchProcesses>>): void {
  console.log(`   1 process ${r.oneRps.toFixed(0)} req/s, ${r.oneCpuMsPerRequest} ms CPU/req, RSS ${r.oneRssMb} MB`)
  console.log(`   ${r.processes} processes ${r.manyRps.toFixed(0)} req/s, ${r.manyCpuMsPerRequest} ms CPU/req, RSS ${r.manyRssMb} MB; busiest engine ${Math.round(r.largestShare * 100)}% of the CPU`)
  console.log(`   req/s ratio ${r.rpsRatio.toFixed(2)}× (no target: on ${availableParallelism()} cores, with the load generator on the same cores)${r.failures ? `; ${r.failures} failed requests!` : ''}`)
}

if (import.meta.main) {
  const result = await benchProcesses({
    rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 5),
    app: process.argv[2], processes: Number(process.env.BENCH_PROCESSES ?? 2),
  })
  printProcesses(result)
  console.log(JSON.stringify({ bench: 'processes', ...result }))
}
