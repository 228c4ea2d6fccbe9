// `npm run bench`: every benchmark, baselines measured in the same run, printed as ratios against their targets.
// Not a test: nothing here fails the build; the numbers go into closing notes. BENCH_SECONDS / BENCH_ROUNDS tune it.
import { benchHttpPipeline } from './http-pipeline.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)

console.log(`Islet benchmarks on Node ${process.version} (${rounds} rounds × ${seconds} s, medians)\n`)
console.log('1. HTTP: YAML pipeline vs bare Koa route')
const http = await benchHttpPipeline({ rounds, seconds })
console.log(`   islet ${http.isletRps.toFixed(0)} req/s (p99 ${http.isletP99Ms} ms) vs koa ${http.koaRps.toFixed(0)} req/s (p99 ${http.koaP99Ms} ms)`)
console.log(`   ratio ${http.ratio.toFixed(2)}× (target ≥ ${http.target}×) ${http.ratio >= http.target ? 'MET' : 'MISSED'}${http.failures ? `; ${http.failures} failed requests!` : ''}`)
console.log(`\n${JSON.stringify({ results: [http] })}`)
