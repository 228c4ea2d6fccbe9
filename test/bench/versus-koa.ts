// Side-by-side HTTP comparison against the bare Koa baseline: both servers in their own processes, autocannon on
// loopback, a warm-up, then alternating rounds so drift on a noisy machine hits both equally; medians reported.
import autocannon from 'autocannon'
import { treeCpuSeconds } from './proc.ts'
import { startServer, type BenchServer } from './servers.ts'
import { median } from './stats.ts'

export interface LoadResult {
  requestsPerSec: number
  /** Answered in the run, all statuses. */
  requests: number
  p99Ms: number
  errors: number
  non2xx: number
  /** Server CPU (its whole process tree) per request served, in ms; undefined without /proc. */
  cpuMsPerRequest?: number
}

const BODY = JSON.stringify({ sku: 'A-100', qty: 3 })

/** autocannon, 50 connections; `fresh`: `Connection: close`, a new connection per request (a proxy without keep-alive). */
export function load(url: string, seconds: number, path = '/quote', fresh = false): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon({
      url: url + path, method: 'POST', duration: seconds, connections: 50,
      headers: { 'content-type': 'application/json', ...(fresh ? { connection: 'close' } : {}) }, body: BODY,
    }, (error, result) => {
      if (error) return reject(error)
      resolve({ requestsPerSec: result.requests.average, requests: result.requests.total, p99Ms: result.latency.p99, errors: result.errors, non2xx: result.non2xx })
    })
  })
}

/** `load`, plus the server's CPU per request over the run. */
async function measured(server: BenchServer, seconds: number): Promise<LoadResult> {
  const before = treeCpuSeconds(server.child.pid!)
  const result = await load(server.url, seconds)
  const after = treeCpuSeconds(server.child.pid!)
  if (result.requests === 0) return result
  return { ...result, cpuMsPerRequest: (after - before) * 1000 / result.requests }
}

export interface VersusKoa {
  /** What the Islet server runs, for the printed rows and the result name. */
  name: string
  label: string
  /** Arguments to serve-islet.ts (an app file), or none for its default app. */
  args?: string[]
  target: number
  rounds: number
  seconds: number
}

export async function versusKoa(options: VersusKoa) {
  const islet = await startServer('./serve-islet.ts', options.args)
  const koa = await startServer('./serve-koa.ts')
  try {
    await load(islet.url, 2)
    await load(koa.url, 2) // warm-up: JIT both (and any sandbox worker) before measuring
    const rounds: { islet: LoadResult; koa: LoadResult }[] = []
    for (let i = 0; i < options.rounds; i++) {
      const a = await measured(islet, options.seconds)
      const b = await measured(koa, options.seconds)
      rounds.push({ islet: a, koa: b })
      const cpu = (r: LoadResult) => (r.cpuMsPerRequest === undefined ? '' : `, ${r.cpuMsPerRequest.toFixed(4)} ms CPU/req`)
      console.log(`  round ${i + 1}: ${options.label} ${a.requestsPerSec.toFixed(0)} req/s p99 ${a.p99Ms} ms${cpu(a)} | koa ${b.requestsPerSec.toFixed(0)} req/s p99 ${b.p99Ms} ms${cpu(b)}`)
    }
    const failures = rounds.reduce((n, r) => n + r.islet.errors + r.islet.non2xx + r.koa.errors + r.koa.non2xx, 0)
    const isletRps = median(rounds.map((r) => r.islet.requestsPerSec))
    const koaRps = median(rounds.map((r) => r.koa.requestsPerSec))
    return {
      name: options.name,
      isletRps, koaRps,
      isletP99Ms: median(rounds.map((r) => r.islet.p99Ms)),
      koaP99Ms: median(rounds.map((r) => r.koa.p99Ms)),
      ratio: isletRps / koaRps,
      /** Server CPU per request, Islet's over Koa's, per round then the median (undefined without /proc). */
      cpuRatio: rounds.every((r) => r.islet.cpuMsPerRequest && r.koa.cpuMsPerRequest)
        ? median(rounds.map((r) => r.islet.cpuMsPerRequest! / r.koa.cpuMsPerRequest!)) : undefined,
      isletCpuMsPerRequest: median(rounds.map((r) => r.islet.cpuMsPerRequest ?? NaN)),
      koaCpuMsPerRequest: median(rounds.map((r) => r.koa.cpuMsPerRequest ?? NaN)),
      target: options.target,
      failures,
    }
  } finally {
    await Promise.all([islet.close(), koa.close()])
  }
}
