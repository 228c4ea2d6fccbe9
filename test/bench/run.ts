// `npm run bench`: every benchmark, baselines measured in the same run, printed as ratios against their targets.
// Not a test: nothing here fails the build; the numbers go into closing notes. BENCH_SECONDS / BENCH_ROUNDS tune it;
// BENCH_ATTACK_SECONDS / BENCH_BASELINE_SECONDS the containment run; sections 10-12 (what the peers harness measures,
// through the real command line, each figure with the other load the machine had) BENCH_WARMUP_SECONDS,
// BENCH_SETTLE_MS, BENCH_SUSTAINED_SECONDS, BENCH_COMPONENTS, BENCH_COUNT_REPS, BENCH_DEV_EDITS, BENCH_POLL_MS,
// BENCH_QUIET_MAX_S, BENCH_QUIET_CORES; section 14 (registry vs Verdaccio) BENCH_REGISTRY_VERSIONS, BENCH_REGISTRY_CONNECTIONS,
// VERDACCIO_DIR (default /work/peers-verdaccio; absent: Verdaccio is skipped with a note), BENCH_REGISTRY_SECONDS (each
// window; default BENCH_SECONDS / 2); section 15 BENCH_PLUGINS, BENCH_PLUGIN_REPS (default max(5, 2 × BENCH_ROUNDS));
// section 16 (deploys into a slot) BENCH_DEPLOYS (dry runs and stage+promotes each; default max(20, 10 × BENCH_ROUNDS),
// never fewer than 20), BENCH_CACHE_DEPLOYS (identical-hash dry runs; default 10), BENCH_DEPLOY_SECONDS (each load
// window, with and without deploys, BENCH_ROUNDS of each; default 10); section 17 (queue.sqlite vs BullMQ on Redis,
// schedule lateness) BENCH_QUEUE_JOBS (each burst; default 2000), BENCH_QUEUE_INFLIGHT (enqueues in flight; 16),
// BENCH_QUEUE_PACED (jobs at the paced rate; 300), BENCH_QUEUE_RATE (jobs/s; 200), BENCH_QUEUE_SYNC (normal|full), BENCH_QUEUE_PORT (19310; Redis
// on the next two), BENCH_JITTER_FIRINGS (each phase; 100: below that, p99 is the max), BENCH_JITTER_PORT (19313);
// without redis-server the queue comparison is skipped with a note.
import { benchCliStart, printCliStart } from './cli-start.ts'
import { benchDeploy, printDeploy } from './deploy.ts'
import { benchColdStart } from './cold-start.ts'
import { benchContainment, printContainment } from './containment.ts'
import { benchComponentMemory } from './component-memory.ts'
import { benchComponentCount, printComponentCount } from './component-count.ts'
import { benchDevReload, printDevReload } from './dev-reload.ts'
import { benchHttpComponent } from './http-component.ts'
import { benchHttpPipeline } from './http-pipeline.ts'
import { benchInvokeOverhead } from './invoke-overhead.ts'
import { benchProcesses, printProcesses } from './processes.ts'
import { benchReloadLatency, printReloadLatency } from './reload-latency.ts'
import { benchRegistry, printRegistry } from './registry.ts'
import { benchPluginStart, printPluginStart } from './plugin-start.ts'
import { benchSandboxTimeout } from './sandbox-timeout.ts'
import { benchQueueVsBullmq, printQueueVsBullmq, queueOptionsFromEnv, redisMissing } from './queue-vs-bullmq.ts'
import { benchScheduleJitter, printScheduleJitter } from './schedule-jitter.ts'
import { benchServerCost, printServerCost } from './server-cost.ts'
import { verdict } from './stats.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)

console.log(`Islet benchmarks on Node ${process.version} (${rounds} rounds × ${seconds} s, medians)\n`)
console.log('1. HTTP: YAML pipeline vs bare Koa route')
const http = await benchHttpPipeline({ rounds, seconds })
console.log(`   islet ${http.isletRps.toFixed(0)} req/s (p99 ${http.isletP99Ms} ms) vs koa ${http.koaRps.toFixed(0)} req/s (p99 ${http.koaP99Ms} ms)`)
console.log(`   ratio ${http.ratio.toFixed(2)}× (target ≥ ${http.target}×) ${verdict(http.ratio >= http.target)}${http.failures ? `; ${http.failures} failed requests!` : ''}`)
if (http.cpuRatio !== undefined) console.log(`   server CPU per request ${http.isletCpuMsPerRequest.toFixed(4)} ms vs koa ${http.koaCpuMsPerRequest.toFixed(4)} ms: ${http.cpuRatio.toFixed(2)}× koa (issue 10 target ≤ 1.2×) ${verdict(http.cpuRatio <= 1.2)}`)

console.log('\n2. Component cold start: compiled bundle → first result')
const cold = await benchColdStart({ rounds, runs: Math.max(30, 20 * rounds) })
console.log(`   islet (sandbox.load + first invoke, running worker) median ${cold.isletMedianMs} ms (p99 ${cold.isletP99Ms} ms) over ${cold.runs} runs`)
console.log(`   isolated-vm floor (isolate + context + compile + run + one call) median ${cold.floorMedianMs} ms (p99 ${cold.floorP99Ms} ms); overhead ${cold.overheadMs} ms`)
console.log('   (the figure includes compiling the component\'s schema validators, which happens in the worker)')
console.log(`   target ≤ ${cold.targetMs} ms ${verdict(cold.met)}`)

console.log('\n3. Warm invocation: in-process function vs host.invoke')
const invoke = await benchInvokeOverhead({ rounds, calls: 2000 })
const row = (f: typeof invoke.host) => `median ${f.medianUs} µs, p99 ${f.p99Us} µs; 50 in flight ${f.concurrentUsPerCall} µs/call, engine CPU ${f.engineCpuUsPerCall} µs/call`
console.log(`   direct call      ${row(invoke.direct)}`)
console.log(`   host.invoke      ${row(invoke.host)}`)
console.log(`   sandbox.invoke   ${row(invoke.sandbox)} (IPC + isolate only, no validation)`)
console.log(`   IPC floor        ${row(invoke.ipcFloor)} (same messages to a child that answers at once)`)
console.log(`   overhead of host.invoke: ${invoke.overheadMedianUs} µs sequential, ${invoke.overheadConcurrentUs} µs/call at 50 in flight (no target: reported)`)

console.log('\n4. HTTP: YAML pipeline calling a sandboxed component vs bare Koa route')
const httpComponent = await benchHttpComponent({ rounds, seconds })
console.log(`   islet+component ${httpComponent.isletRps.toFixed(0)} req/s (p99 ${httpComponent.isletP99Ms} ms) vs koa ${httpComponent.koaRps.toFixed(0)} req/s (p99 ${httpComponent.koaP99Ms} ms)`)
console.log(`   ratio ${httpComponent.ratio.toFixed(2)}× (target ≥ ${httpComponent.target}×) ${verdict(httpComponent.ratio >= httpComponent.target)}${httpComponent.failures ? `; ${httpComponent.failures} failed requests!` : ''}`)
if (httpComponent.cpuRatio !== undefined) console.log(`   server CPU per request ${httpComponent.isletCpuMsPerRequest.toFixed(4)} ms vs koa ${httpComponent.koaCpuMsPerRequest.toFixed(4)} ms: ${httpComponent.cpuRatio.toFixed(2)}× koa (issue 10 target ≤ 1.6×) ${verdict(httpComponent.cpuRatio <= 1.6)}`)

console.log('\n5. Resident memory per idle loaded component')
const memory = await benchComponentMemory({ count: 50, settleMs: 1000 })
console.log(`   worker RSS ${memory.workerRssBeforeMb} MB → ${memory.workerRssAfterMb} MB with ${memory.count} components: ${memory.perComponentMb} MB each (${memory.perComponentAfterOneCallMb} MB after one call each)`)
console.log(`   isolated-vm floor: ${memory.floorPerIsolateMb} MB per isolate with the component loaded (${memory.floorPerIsolateAfterOneCallMb} MB after one call)`)
console.log(`   target ≤ ${memory.targetMb} MB ${verdict(memory.met)}`)

console.log('\n6. Time to ERR_SANDBOX_TIMEOUT (50 ms wall deadline)')
const timeout = await benchSandboxTimeout({ rounds, runs: Math.max(30, 34 * rounds) }) // ≥ 100 by default: p99 is then not just the max
console.log(`   infinite loop          median ${timeout.loop.medianMs} ms, p99 ${timeout.loop.p99Ms} ms over ${timeout.runs} runs`)
console.log(`   never-settling promise median ${timeout.hang.medianMs} ms, p99 ${timeout.hang.p99Ms} ms`)
console.log(`   floor: raw isolated-vm loop under a 50 ms timeout median ${timeout.floorLoop.medianMs} ms (p99 ${timeout.floorLoop.p99Ms}); bare 50 ms timer median ${timeout.floorTimer.medianMs} ms (p99 ${timeout.floorTimer.p99Ms})`)
console.log(`   target p99 ≤ ${timeout.targetP99Ms} ms ${verdict(timeout.met)}`)

console.log('\n7. Component hot reload: file write → first HTTP response from the new generation (watch mode)')
const reload = await benchReloadLatency({ edits: Math.max(30, 10 * rounds) })
printReloadLatency(reload)

console.log(`\n8. Containment: a bystander's service while an attacker component does its worst (quarantine off, one shared worker)`)
const containment = await benchContainment({
  attackSeconds: Number(process.env.BENCH_ATTACK_SECONDS ?? 60), baselineSeconds: Number(process.env.BENCH_BASELINE_SECONDS ?? 20),
})
printContainment(containment)

console.log(`\n9. Command-line start-up: islet --version and islet validate against node -e '' (interleaved)`)
const cli = await benchCliStart({ rounds: Math.max(10, 5 * rounds) })
printCliStart(cli)

const settleMs = Number(process.env.BENCH_SETTLE_MS ?? 2000)
console.log('\n10. Server CPU per request and memory through `islet run`: sandboxed component and inline YAML vs bare Koa (interleaved, /proc)')
const cost = await benchServerCost({
  rounds, seconds, warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2), settleMs, sustainedSeconds: Number(process.env.BENCH_SUSTAINED_SECONDS ?? 0),
})
printServerCost(cost)

const count = Number(process.env.BENCH_COMPONENTS ?? 51)
console.log(`\n11. Per extra component, through \`islet run\`: 1 vs ${count} components, RSS/PSS of the tree and start → serving`)
const components = await benchComponentCount({ count, reps: Number(process.env.BENCH_COUNT_REPS ?? 2), settleMs })
printComponentCount(components)

console.log('\n12. Code change → first new response through `islet dev` (open-loop polling, failed requests counted)')
const devReload = await benchDevReload({ edits: Number(process.env.BENCH_DEV_EDITS ?? 15), warmupEdits: 3, pollMs: Number(process.env.BENCH_POLL_MS ?? 5), gapMs: 300 })
printDevReload(devReload)

console.log('\n13. More than one core: `islet run` as 1 process vs --processes 2 (cluster and reuseport), sandboxed component, interleaved')
const processes = await benchProcesses({ rounds, seconds })
printProcesses(processes)

console.log('\n14. Plugin registry: packument and tarball requests per second, Islet\'s registry vs Verdaccio (same packages, interleaved)')
const registry = await benchRegistry({ rounds, seconds })
printRegistry(registry)

console.log('\n15. `islet run` start of an app with 10 host plugins: locked (islet.lock, vendored signed tarballs; cold and warm) vs local paths')
const pluginStart = await benchPluginStart({ rounds })
printPluginStart(pluginStart)

console.log('\n16. Deploying a 260-line component into a slot through the admin HTTP API (`islet run`): latency, and deploys/min while serving')
const deploys = await benchDeploy({
  deploys: Math.max(20, Number(process.env.BENCH_DEPLOYS ?? 10 * rounds)), cacheDeploys: Number(process.env.BENCH_CACHE_DEPLOYS ?? 10),
  rounds, seconds: Number(process.env.BENCH_DEPLOY_SECONDS ?? 10),
})
printDeploy(deploys)

console.log('\n17. Queues: queue.sqlite through `islet run` vs BullMQ on redis-server (AOF everysec; memory-only), concurrency 1 and 8, interleaved')
const missing = redisMissing()
const queues = missing ? { name: 'queue vs BullMQ', skipped: missing } : await benchQueueVsBullmq(queueOptionsFromEnv(rounds))
if ('rows' in queues) printQueueVsBullmq(queues)
else console.log(`   SKIPPED: ${missing}`)
console.log('    Schedules: how late a schedule.cron job firing every second runs (`islet run`) vs a bare setTimeout, idle and with one core spun')
const jitter = await benchScheduleJitter({ firings: Number(process.env.BENCH_JITTER_FIRINGS ?? 100) })
printScheduleJitter(jitter)

const summaries = [cost, components, devReload, processes, registry, pluginStart, deploys, queues, jitter].map((r) => ({ ...r, samples: undefined, runs: undefined })) // raw samples: run the section alone
console.log(`\n${JSON.stringify({ results: [http, cold, invoke, httpComponent, memory, timeout, reload, containment, cli, ...summaries] })}`)
