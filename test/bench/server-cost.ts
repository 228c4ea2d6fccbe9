// Benchmark: what a request costs the server, side by side with the bare Koa floor, through the real command line.
// Three servers (bare Koa, `islet run` of quote-component.yaml: validate → sandboxed component → respond, and of
// quote.yaml: validate → set → respond), in interleaved rounds: per server a warm-up, then a measured autocannon run
// (50 connections, in this process). Per run: server CPU time per request over its whole process tree (/proc),
// RSS/PSS of the tree, and the cores other work took (a loaded run says so). Ratios to Koa are taken within a round.
// Alone: `node test/bench/server-cost.ts` (BENCH_ROUNDS, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_SETTLE_MS, and
// BENCH_SUSTAINED_SECONDS: extra load on the component path before its memory is read again).
import { fileURLToPath } from 'node:url'
import { post, startCli } from './cli-server.ts'
import { loadNote, meter, treeMemory, waitQuiet, type TreeMemory } from './proc.ts'
import { startServer } from './servers.ts'
import { median, round, sleep, verdict } from './stats.ts'
import { load } from './versus-koa.ts'

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
const GOOD = JSON.stringify({ sku: 'A-100', qty: 3 })
const BAD = JSON.stringify({ sku: 7, qty: 0 })
/** Ports of the benchmarks' range: Koa floor, component, inline. */
const PORTS = { koa: 19400, component: 19401, inline: 19402 } as const

/** The issue's targets (issue 10's table): CPU per request and req/s as multiples of bare Koa's; memory in MB. */
export const TARGETS = { componentCpu: 1.6, componentRps: 0.65, inlineCpu: 1.2, idleRssMb: 120, loadedRssMb: 200 } as const

type Key = keyof typeof PORTS
interface Sample {
  rps: number
  requests: number
  p99Ms: number
  failed: number
  cpuMsPerReq: number
  serverCores: number
  otherCores: number
  /** Cores busy elsewhere just before the run, while every server here idled. */
  othersBefore: number
  memory: TreeMemory
}

async function checkContract(key: Key, url: string): Promise<void> {
  const ok = await post(`${url}/quote`, GOOD)
  const answer = await ok.json() as { total?: number }
  const bad = await post(`${url}/quote`, BAD)
  await bad.arrayBuffer()
  if (ok.status !== 200 || answer.total !== 29.97 || bad.status !== 400) {
    throw new Error(`${key} does not do the workload: ${ok.status} ${JSON.stringify(answer)}; bad input → ${bad.status}`)
  }
}

export async function benchServerCost(options: { rounds: number; seconds: number; warmupSeconds: number; settleMs: number; sustainedSeconds: number }) {
  const koa = await startServer('./serve-koa.ts', ['bare'], { BENCH_PORT: String(PORTS.koa) })
  const component = startCli('run', here('./quote-component.yaml'), PORTS.component)
  const inline = startCli('run', here('./quote.yaml'), PORTS.inline)
  const servers = { koa: { pid: koa.child.pid!, url: koa.url }, component, inline }
  const keys = Object.keys(servers) as Key[]
  const samples: Record<Key, Sample[]> = { koa: [], component: [], inline: [] }
  const served: Record<Key, number> = { koa: 0, component: 0, inline: 0 }
  try {
    await component.serving('/quote', GOOD)
    await inline.serving('/quote', GOOD)
    for (const key of keys) await checkContract(key, servers[key].url)
    await sleep(options.settleMs)
    const idle = Object.fromEntries(keys.map((k) => [k, treeMemory(servers[k].pid)])) as Record<Key, TreeMemory>
    for (let r = 1; r <= options.rounds; r++) {
      for (const key of keys) {
        const { pid, url } = servers[key]
        const othersBefore = await waitQuiet()
        served[key] += (await load(url, options.warmupSeconds)).requests
        const metered = meter(pid)
        const res = await load(url, options.seconds)
        const m = metered.stop()
        served[key] += res.requests
        const sample: Sample = {
          rps: res.requestsPerSec, requests: res.requests, p99Ms: res.p99Ms, failed: res.errors + res.non2xx,
          cpuMsPerReq: round((m.serverCpuS * 1000) / res.requests, 4), serverCores: round(m.serverCpuS / m.wallS),
          otherCores: m.otherCores, othersBefore, memory: treeMemory(pid),
        }
        samples[key].push(sample)
        console.log(`  round ${r} ${key.padEnd(9)} ${sample.rps.toFixed(0).padStart(6)} req/s p99 ${sample.p99Ms} ms; server ${sample.serverCores} cores, ` +
          `${sample.cpuMsPerReq} ms CPU/req; RSS ${sample.memory.rssMb} MB PSS ${sample.memory.pssMb} MB (${sample.memory.processes} proc); ` +
          `others ${sample.otherCores} cores (${othersBefore} before)${sample.failed ? `; ${sample.failed} FAILED` : ''}`)
      }
    }
    // Optionally more load on the component path alone, for its memory after sustained load (the issue's figure was
    // taken after ~1M requests; the rounds alone serve far fewer).
    let loaded = samples.component.at(-1)!.memory
    if (options.sustainedSeconds > 0) {
      served.component += (await load(component.url, options.sustainedSeconds)).requests
      loaded = treeMemory(component.pid)
    }
    const ratio = (key: Key, of: (s: Sample) => number) => {
      const xs = samples[key].map((s, i) => of(s) / of(samples.koa[i]))
      return { median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) }
    }
    const figures = (key: Key) => ({
      rpsMedian: Math.round(median(samples[key].map((s) => s.rps))),
      cpuMsPerReqMedian: median(samples[key].map((s) => s.cpuMsPerReq)),
      cpuRatio: ratio(key, (s) => s.cpuMsPerReq), rpsRatio: ratio(key, (s) => s.rps),
      idle: idle[key], loaded: key === 'component' ? loaded : samples[key].at(-1)!.memory, served: served[key],
      failed: samples[key].reduce((n, s) => n + s.failed, 0),
    })
    const result = {
      name: 'server CPU per request and memory through `islet run`, vs the bare Koa floor (interleaved; /proc over the process tree)',
      rounds: options.rounds, seconds: options.seconds,
      koa: figures('koa'), component: figures('component'), inline: figures('inline'),
      otherCores: Object.values(samples).flat().map((s) => s.otherCores),
      targets: TARGETS,
      samples,
    }
    return {
      ...result,
      met: {
        componentCpu: result.component.cpuRatio.median <= TARGETS.componentCpu, componentRps: result.component.rpsRatio.median >= TARGETS.componentRps,
        inlineCpu: result.inline.cpuRatio.median <= TARGETS.inlineCpu, idleRss: result.component.idle.rssMb <= TARGETS.idleRssMb,
        loadedRss: result.component.loaded.rssMb <= TARGETS.loadedRssMb,
      },
    }
  } finally {
    await Promise.all([koa.close(), component.stop(), inline.stop()])
  }
}

export function printServerCost(r: Awaited<ReturnType<typeof benchServerCost>>): void {
  const range = (x: { median: number; min: number; max: number }) => `${x.median}× (${x.min}–${x.max})`
  console.log(`   bare Koa (floor)  ${r.koa.rpsMedian} req/s, ${r.koa.cpuMsPerReqMedian} ms server CPU/req`)
  console.log(`   islet+component   ${r.component.rpsMedian} req/s, ${r.component.cpuMsPerReqMedian} ms server CPU/req: ` +
    `${range(r.component.cpuRatio)} Koa's CPU/req (target ≤ ${r.targets.componentCpu}×) ${verdict(r.met.componentCpu)}; ` +
    `req/s ${range(r.component.rpsRatio)} Koa's (target ≥ ${r.targets.componentRps}×) ${verdict(r.met.componentRps)}`)
  console.log(`   islet inline      ${r.inline.rpsMedian} req/s, ${r.inline.cpuMsPerReqMedian} ms server CPU/req: ` +
    `${range(r.inline.cpuRatio)} Koa's CPU/req (target ≤ ${r.targets.inlineCpu}×) ${verdict(r.met.inlineCpu)}; req/s ${range(r.inline.rpsRatio)} Koa's`)
  const mem = (label: string, f: typeof r.component) => `${label} RSS idle ${f.idle.rssMb} MB (PSS ${f.idle.pssMb}, ${f.idle.processes} proc) → ` +
    `${f.loaded.rssMb} MB (PSS ${f.loaded.pssMb}) after ${f.served} requests`
  console.log(`   ${mem('islet+component', r.component)}: idle target ≤ ${r.targets.idleRssMb} MB ${verdict(r.met.idleRss)}, ` +
    `after load target ≤ ${r.targets.loadedRssMb} MB ${verdict(r.met.loadedRss)}`)
  console.log(`   ${mem('islet inline   ', r.inline)}; ${mem('bare Koa', r.koa)}`)
  const failed = r.koa.failed + r.component.failed + r.inline.failed
  console.log(`   machine: ${loadNote(r.otherCores)}${failed ? `; ${failed} FAILED requests` : ''}`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchServerCost({
    rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 5),
    warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2), settleMs: Number(process.env.BENCH_SETTLE_MS ?? 2000),
    sustainedSeconds: Number(process.env.BENCH_SUSTAINED_SECONDS ?? 0),
  })
  printServerCost(result)
  console.log(JSON.stringify({ ...result, samples: undefined }))
}
