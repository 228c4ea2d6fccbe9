// Benchmark: a YAML-routed pipeline (validate + set + respond) against a bare Koa route doing the same work.
// Both servers run side by side in one run; rounds alternate so drift on a noisy machine hits both equally.
import autocannon from 'autocannon'
import { startServer } from './servers.ts'

export interface LoadResult {
  requestsPerSec: number
  p99Ms: number
  errors: number
  non2xx: number
}

const BODY = JSON.stringify({ sku: 'A-100', qty: 3 })

export function load(url: string, seconds: number, path = '/quote'): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon({
      url: url + path, method: 'POST', duration: seconds, connections: 50,
      headers: { 'content-type': 'application/json' }, body: BODY,
    }, (error, result) => {
      if (error) return reject(error)
      resolve({ requestsPerSec: result.requests.average, p99Ms: result.latency.p99, errors: result.errors, non2xx: result.non2xx })
    })
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function benchHttpPipeline(options: { rounds: number; seconds: number }) {
  const islet = await startServer('./serve-islet.ts')
  const koa = await startServer('./serve-koa.ts')
  try {
    await load(islet.url, 2)
    await load(koa.url, 2) // warm-up: JIT both before measuring
    const rounds: { islet: LoadResult; koa: LoadResult }[] = []
    for (let i = 0; i < options.rounds; i++) {
      const a = await load(islet.url, options.seconds)
      const b = await load(koa.url, options.seconds)
      rounds.push({ islet: a, koa: b })
      console.log(`  round ${i + 1}: islet ${a.requestsPerSec.toFixed(0)} req/s p99 ${a.p99Ms} ms | koa ${b.requestsPerSec.toFixed(0)} req/s p99 ${b.p99Ms} ms`)
    }
    const failures = rounds.reduce((n, r) => n + r.islet.errors + r.islet.non2xx + r.koa.errors + r.koa.non2xx, 0)
    const isletRps = median(rounds.map((r) => r.islet.requestsPerSec))
    const koaRps = median(rounds.map((r) => r.koa.requestsPerSec))
    return {
      name: 'YAML pipeline vs bare Koa (POST /quote: validate + set + respond)',
      isletRps, koaRps,
      isletP99Ms: median(rounds.map((r) => r.islet.p99Ms)),
      koaP99Ms: median(rounds.map((r) => r.koa.p99Ms)),
      ratio: isletRps / koaRps,
      target: 0.8,
      failures,
    }
  } finally {
    await Promise.all([islet.close(), koa.close()])
  }
}
