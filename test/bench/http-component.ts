// Benchmark: a YAML route whose pipeline calls one sandboxed component (validate + component + respond) against the
// bare Koa route computing the same quote. Same load generator and servers as http-pipeline.ts; rounds alternate.
import { fileURLToPath } from 'node:url'
import { load, type LoadResult } from './http-pipeline.ts'
import { startServer } from './servers.ts'
import { median } from './stats.ts'

const APP = fileURLToPath(new URL('./quote-component.yaml', import.meta.url))

export async function benchHttpComponent(options: { rounds: number; seconds: number }) {
  const islet = await startServer('./serve-islet.ts', [APP])
  const koa = await startServer('./serve-koa.ts')
  try {
    await load(islet.url, 2)
    await load(koa.url, 2) // warm-up: JIT both (and the sandbox worker) before measuring
    const rounds: { islet: LoadResult; koa: LoadResult }[] = []
    for (let i = 0; i < options.rounds; i++) {
      const a = await load(islet.url, options.seconds)
      const b = await load(koa.url, options.seconds)
      rounds.push({ islet: a, koa: b })
      console.log(`  round ${i + 1}: islet+component ${a.requestsPerSec.toFixed(0)} req/s p99 ${a.p99Ms} ms | koa ${b.requestsPerSec.toFixed(0)} req/s p99 ${b.p99Ms} ms`)
    }
    const failures = rounds.reduce((n, r) => n + r.islet.errors + r.islet.non2xx + r.koa.errors + r.koa.non2xx, 0)
    const isletRps = median(rounds.map((r) => r.islet.requestsPerSec))
    const koaRps = median(rounds.map((r) => r.koa.requestsPerSec))
    return {
      name: 'YAML pipeline with a sandboxed component vs bare Koa (POST /quote: validate + component + respond)',
      isletRps, koaRps,
      isletP99Ms: median(rounds.map((r) => r.islet.p99Ms)),
      koaP99Ms: median(rounds.map((r) => r.koa.p99Ms)),
      ratio: isletRps / koaRps,
      target: 0.5,
      failures,
    }
  } finally {
    await Promise.all([islet.close(), koa.close()])
  }
}
