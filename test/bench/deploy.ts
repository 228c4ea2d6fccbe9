// Benchmark: deploying a component into a slot through the real admin HTTP API of an app started with `islet run`
// (loopback, the admin's loopback convenience: no token). Two figures, as the issue asks:
// 1. Latency of one deploy of a realistic component (deploy-component/: 180-line entry + 81-line helper imported
//    relatively, types, schemas, 4 examples), client-side wall time: dry run (validate: files, compile ∥ type check,
//    schemas, ceiling, examples) and stage+promote (the same, stored, then prepare/swap/drain). Each deploy changes
//    one constant (REVISION), so no two hash alike; dry runs and promotions alternate so drift hits both. The split
//    of the time is the DeployResult's own steps (ms); what is outside them is HTTP, JSON, the store and the tree
//    write. The first deploy after start (cold: type-check worker, TypeScript, lib and sdk parse) and the same hash
//    sent again (whatever the pipeline caches) are reported apart.
// 2. Deploys per minute sustained while serving: autocannon (its own process, 50 connections) on a route calling the
//    slot, for the same window with and without a deployer promoting new versions back to back; rounds alternate
//    which goes first; throughput ratio (with / without) per round, medians; failed requests both ways.
// Alone: `node test/bench/deploy.ts` (BENCH_ROUNDS, BENCH_DEPLOYS, BENCH_DEPLOY_SECONDS, BENCH_CACHE_DEPLOYS).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DeployResult } from '@islet/sdk'
import { writeFiles } from '../support/files.ts'
import { until } from '../support/until.ts'
import { startCli, type CliServer } from './cli-server.ts'
import { loadNote, meter, treeMemory } from './proc.ts'
import { median, quantile, round, verdict } from './stats.ts'

const PORT = 19300
export const TARGET_P50_MS = 1000

const COMPONENT = new URL('./deploy-component/', import.meta.url)
const ENTRY = readFileSync(new URL('index.ts', COMPONENT), 'utf8')
const RULES = readFileSync(new URL('lib/rules.ts', COMPONENT), 'utf8')
const REVISION = /^export const REVISION = \d+$/m
if (!REVISION.test(RULES)) throw new Error('deploy-component/lib/rules.ts must hold `export const REVISION = <n>`')

export const DEPLOY_APP = `apiVersion: islet/v1
components:
  - slot: pricing
    description: Prices a cart
    limits: { timeoutMs: 1000 }
    config: { currency: EUR }
modules:
  - name: admin
    type: islet.admin
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /quote, pipeline: quote }]
  - name: web
    type: http.server
    config:
      port: \${PORT:-0}
      middleware: [admin]
      routers: [api]
pipelines:
  quote:
    steps:
      - { name: q, type: component, config: { component: pricing, input: '\${{ body }}' } }
      - type: respond
        config: { body: '\${{ steps.q }}' }
`

/** What the load sends: a three-line cart with a code and a tier (the slot's input schema). */
const CART = JSON.stringify({
  customer: { id: 'c-7', tier: 'silver' }, code: 'WELCOME10',
  lines: [{ sku: 'A-100', qty: 3, unitCents: 999 }, { sku: 'B-1', qty: 1, unitCents: 1500, category: 'books' }, { sku: 'A-100', qty: 2, unitCents: 999 }],
})

/** The component's files with REVISION set to `revision`. */
export function deployFiles(revision: number): Record<string, string> {
  return { 'index.ts': ENTRY, 'lib/rules.ts': RULES.replace(REVISION, `export const REVISION = ${revision}`) }
}

interface Sample {
  ms: number
  /** Step name → ms, from the DeployResult. */
  steps: Record<string, number>
  ok: boolean
}

/** One deploy through POST /admin/slots/pricing/versions; the wall time as the client sees it. */
async function deploy(url: string, files: Record<string, string>, mode: 'dryRun' | 'promote'): Promise<Sample & { result?: DeployResult; status: number }> {
  const t0 = performance.now()
  const res = await fetch(`${url}/admin/slots/pricing/versions?${mode}=1`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ files, message: 'bench' }),
    signal: AbortSignal.timeout(60_000),
  })
  const body = await res.json() as DeployResult
  const ms = performance.now() - t0
  const ok = res.status === 200 && body.ok === true && (mode === 'dryRun' || body.promoted === true)
  return { ms, status: res.status, result: body, ok, steps: Object.fromEntries((body.steps ?? []).map((s) => [s.name, s.ms])) }
}

/** What the route answers now: the revision the slot serves. */
async function servedRevision(url: string): Promise<number | undefined> {
  const res = await fetch(`${url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CART, signal: AbortSignal.timeout(5000) })
  const body = await res.json().catch(() => undefined) as { revision?: number } | undefined
  return res.status === 200 ? body?.revision : undefined
}

const STEPS = ['files', 'compile', 'typecheck', 'schemas', 'ceiling', 'examples', 'promote'] as const

/** Wall time not spent in any step: compile and typecheck run at once, so the longer of the two counts. */
const outside = (s: Sample) => s.ms - (s.steps.files ?? 0) - Math.max(s.steps.compile ?? 0, s.steps.typecheck ?? 0) -
  (s.steps.schemas ?? 0) - (s.steps.ceiling ?? 0) - (s.steps.examples ?? 0) - (s.steps.promote ?? 0)

/** No samples (every deploy failed): NaN figures rather than a crash. */
const orNaN = (xs: number[]) => (xs.length > 0 ? xs : [NaN])

function summarize(samples: Sample[]) {
  const ms = orNaN(samples.map((s) => s.ms))
  const steps: Record<string, number> = {}
  for (const name of STEPS) {
    const xs = samples.map((s) => s.steps[name]).filter((x): x is number => x !== undefined)
    if (xs.length > 0) steps[name] = round(median(xs), 1)
  }
  return {
    deploys: samples.length, p50Ms: round(median(ms), 0), p99Ms: round(quantile(ms, 0.99), 0), minMs: round(Math.min(...ms), 0),
    stepsMedianMs: steps, outsideMedianMs: round(median(orNaN(samples.map(outside))), 1),
    typecheckP99Ms: round(quantile(orNaN(samples.map((s) => s.steps.typecheck ?? 0)), 0.99), 0),
    failed: samples.filter((s) => !s.ok).length,
  }
}

interface LoadResult { rps: number; p99Ms: number; requests: number; errors: number; non2xx: number; timeouts: number }

/** autocannon for `seconds` in a process of its own (its event loop never delays the deployer's). */
function loadFor(url: string, seconds: number): Promise<LoadResult> {
  const code = `
    const autocannon = require(${JSON.stringify(createRequire(import.meta.url).resolve('autocannon'))})
    autocannon({ url: ${JSON.stringify(url)}, method: 'POST', connections: 50, duration: ${seconds},
      headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(CART)} }, (error, r) => {
      process.send(error ? { error: String(error) } : { rps: r.requests.average, p99Ms: r.latency.p99, requests: r.requests.total,
        errors: r.errors, non2xx: r.non2xx, timeouts: r.timeouts }, () => process.exit(0))
    })
  `
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('message', (r: LoadResult & { error?: string }) => (r.error ? reject(new Error(r.error)) : resolve(r)))
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`autocannon exited with ${code}`)) })
  })
}

export interface DeployBenchOptions {
  /** Deploys per kind (dry run, stage+promote) for the latency figures; at least 20. */
  deploys: number
  /** Identical-hash dry runs (the cache-hit figure). */
  cacheDeploys: number
  /** Load windows (each: one without deploys, one with). */
  rounds: number
  seconds: number
}

export async function benchDeploy(options: DeployBenchOptions) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': DEPLOY_APP })
  const server: CliServer = startCli('run', join(dir, 'app.yaml'), PORT)
  let revision = 0
  try {
    await until(async () => {
      if (server.child.exitCode !== null) throw new Error(`islet run exited with ${server.child.exitCode}: ${server.stderr()}`)
      return fetch(`${server.url}/admin/slots`, { signal: AbortSignal.timeout(2000) }).then(async (r) => { await r.arrayBuffer(); return r.ok }, () => false)
    }, { ms: 60_000, everyMs: 20, explain: () => server.stderr() })

    // The first deploy after start pays the type-check worker's start (TypeScript, lib and sdk parse) and the sandbox's.
    const cold = await deploy(server.url, deployFiles(++revision), 'dryRun')
    if (!cold.ok) throw new Error(`the benchmark component does not validate (${cold.status}): ${JSON.stringify(cold.result?.diagnostics ?? cold.result)}`)
    for (let i = 0; i < 3; i++) await deploy(server.url, deployFiles(++revision), i === 2 ? 'promote' : 'dryRun') // warm-up, not counted

    const metered = meter(server.pid)
    const dry: Sample[] = []
    const promoted: Sample[] = []
    let wrongRevision = 0
    for (let i = 0; i < options.deploys; i++) {
      dry.push(await deploy(server.url, deployFiles(++revision), 'dryRun'))
      const r = ++revision
      promoted.push(await deploy(server.url, deployFiles(r), 'promote'))
      if (await servedRevision(server.url) !== r) wrongRevision++ // the route serves the version just promoted
    }
    const latencyLoad = metered.stop().otherCores

    // The same files again: a hit of whatever the pipeline keeps by hash (the tree on disk, compile records).
    const same = deployFiles(++revision)
    await deploy(server.url, same, 'dryRun')
    const cached: Sample[] = []
    for (let i = 0; i < options.cacheDeploys; i++) cached.push(await deploy(server.url, same, 'dryRun'))

    // Serving under load, with and without a deployer promoting back to back.
    await loadFor(server.url + '/quote', 2) // warm-up
    const rssBeforeMb = treeMemory(server.pid).rssMb
    const windows: {
      without: LoadResult; with: LoadResult; deploys: number; deployFailures: number; perMinute: number; otherCores: number[]
      /** The server tree's CPU seconds in each window. */
      cpuWithout: number; cpuWith: number
    }[] = []
    const underLoad: Sample[] = []
    let lastPromoted = 0
    for (let i = 0; i < options.rounds; i++) {
      const order = i % 2 === 0 ? ['without', 'with'] as const : ['with', 'without'] as const
      const row: Partial<(typeof windows)[number]> = { otherCores: [] }
      for (const kind of order) {
        const m = meter(server.pid)
        if (kind === 'without') {
          row.without = await loadFor(server.url + '/quote', options.seconds)
        } else {
          let stop = false
          let deploys = 0
          let deployFailures = 0
          const load = loadFor(server.url + '/quote', options.seconds).finally(() => { stop = true })
          const t0 = performance.now()
          let t1 = t0
          while (!stop) {
            const r = ++revision
            const s = await deploy(server.url, deployFiles(r), 'promote').catch(() => undefined)
            if (s?.ok) { deploys++; lastPromoted = r; t1 = performance.now(); underLoad.push(s) } else deployFailures++
          }
          row.with = await load
          Object.assign(row, { deploys, deployFailures, perMinute: round(deploys / ((t1 - t0) / 60_000), 1) })
        }
        const used = m.stop()
        row.otherCores!.push(used.otherCores)
        row[kind === 'with' ? 'cpuWith' : 'cpuWithout'] = used.serverCpuS
      }
      windows.push(row as (typeof windows)[number])
      const w = windows.at(-1)!
      console.log(`  round ${i + 1}: without deploys ${w.without.rps.toFixed(0)} req/s p99 ${w.without.p99Ms} ms | with ${w.deploys} promotions ` +
        `(${w.perMinute}/min) ${w.with.rps.toFixed(0)} req/s p99 ${w.with.p99Ms} ms (${(w.with.rps / w.without.rps).toFixed(2)}×); failed ${w.without.errors + w.without.non2xx} / ${w.with.errors + w.with.non2xx}`)
    }
    const servesLast = lastPromoted === 0 || await servedRevision(server.url) === lastPromoted
    const rssAfterMb = treeMemory(server.pid).rssMb
    const failed = (r: LoadResult) => r.errors + r.non2xx
    // The server's CPU per deploy: what the window with deploys used beyond its requests at the cost per request of
    // the window without (same round).
    const cpuPerDeploy = median(windows.map((w) => (w.cpuWith - w.with.requests * (w.cpuWithout / w.without.requests)) / Math.max(1, w.deploys)))

    const dryRun = summarize(dry)
    const stagePromote = summarize(promoted)
    return {
      name: 'deploy into a slot through the admin HTTP API (islet run, loopback): latency and deploys/min while serving',
      component: { lines: ENTRY.split('\n').length - 1 + RULES.split('\n').length - 1, files: 2, examples: 4 },
      coldFirstDryRunMs: round(cold.ms, 0), coldSteps: cold.steps,
      dryRun, stagePromote, sameHashDryRun: summarize(cached),
      promotedServedAtOnce: options.deploys - wrongRevision, latencyMachine: loadNote([latencyLoad]),
      load: {
        seconds: options.seconds, rounds: options.rounds,
        rpsWithout: round(median(windows.map((w) => w.without.rps)), 0), rpsWith: round(median(windows.map((w) => w.with.rps)), 0),
        ratio: round(median(windows.map((w) => w.with.rps / w.without.rps)), 3),
        ratios: windows.map((w) => round(w.with.rps / w.without.rps, 2)),
        p99WithoutMs: median(windows.map((w) => w.without.p99Ms)), p99WithMs: median(windows.map((w) => w.with.p99Ms)),
        deploysPerMinute: median(windows.map((w) => w.perMinute)), deploys: windows.reduce((n, w) => n + w.deploys, 0),
        deployFailures: windows.reduce((n, w) => n + w.deployFailures, 0),
        failedWithout: windows.reduce((n, w) => n + failed(w.without), 0), failedWith: windows.reduce((n, w) => n + failed(w.with), 0),
        requestsWithout: windows.reduce((n, w) => n + w.without.requests, 0), requestsWith: windows.reduce((n, w) => n + w.with.requests, 0),
        promoteUnderLoad: summarize(underLoad), serverCpuMsPerDeploy: round(cpuPerDeploy * 1000, 0),
        serverCpuMsPerRequest: round(median(windows.map((w) => w.cpuWithout * 1000 / w.without.requests)), 3),
        servesLastPromoted: servesLast, rssBeforeMb, rssAfterMb, machine: loadNote(windows.flatMap((w) => w.otherCores)),
      },
      targetP50Ms: TARGET_P50_MS,
      met: dryRun.p50Ms <= TARGET_P50_MS && stagePromote.p50Ms <= TARGET_P50_MS,
    }
  } finally {
    await server.stop()
    cleanup()
  }
}

export function printDeploy(r: Awaited<ReturnType<typeof benchDeploy>>): void {
  const steps = (s: Record<string, number>) => Object.entries(s).map(([k, v]) => `${k} ${v}`).join(', ')
  const row = (label: string, s: ReturnType<typeof summarize>) => {
    console.log(`   ${label} p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms (min ${s.minMs}) over ${s.deploys} deploys${s.failed ? `; ${s.failed} FAILED` : ''}`)
    console.log(`      steps (medians, ms; compile ∥ typecheck): ${steps(s.stepsMedianMs)}; outside the steps ${s.outsideMedianMs} (HTTP, JSON, store, tree); typecheck p99 ${s.typecheckP99Ms}`)
  }
  console.log(`   component: ${r.component.lines} lines in ${r.component.files} files (relative import), ${r.component.examples} examples; one constant changed per deploy`)
  row('dry run      ', r.dryRun)
  row('stage+promote', r.stagePromote)
  console.log(`   promoted version served by the next request: ${r.promotedServedAtOnce} of ${r.stagePromote.deploys}; machine: ${r.latencyMachine}`)
  console.log(`   first deploy after start (cold type-check worker and sandbox): ${r.coldFirstDryRunMs} ms (${steps(r.coldSteps)})`)
  console.log(`   same hash again (dry run): p50 ${r.sameHashDryRun.p50Ms} ms, p99 ${r.sameHashDryRun.p99Ms} ms over ${r.sameHashDryRun.deploys} (steps: ${steps(r.sameHashDryRun.stepsMedianMs)})`)
  console.log(`   target p50 ≤ ${r.targetP50Ms} ms with the type check (both) ${verdict(r.met)}`)
  const l = r.load
  console.log(`   under load (autocannon, 50 connections, ${l.rounds} × ${l.seconds} s each way): ${l.deploysPerMinute} promotions/min sustained (${l.deploys} in all, ${l.deployFailures} refused or failed)`)
  console.log(`      ${l.rpsWith} req/s with deploys vs ${l.rpsWithout} without: ratio ${l.ratio}× (median of rounds: ${l.ratios.join(', ')}; other work on the machine moves it, see below); p99 ${l.p99WithMs} ms vs ${l.p99WithoutMs} ms`)
  console.log(`      one stage+promote under load: p50 ${l.promoteUnderLoad.p50Ms} ms, p99 ${l.promoteUnderLoad.p99Ms} ms (steps: ${steps(l.promoteUnderLoad.stepsMedianMs)}); ` +
    `server CPU ${l.serverCpuMsPerDeploy} ms per deploy vs ${l.serverCpuMsPerRequest} ms per request ` +
    `(one deploy ≈ ${Math.round(l.serverCpuMsPerDeploy / l.serverCpuMsPerRequest)} requests; ${round(l.deploysPerMinute / 60 * l.serverCpuMsPerDeploy / 1000, 2)} cores at that rate)`)
  console.log(`      failed requests: ${l.failedWith} of ${l.requestsWith} with deploys, ${l.failedWithout} of ${l.requestsWithout} without ${verdict(l.failedWith + l.failedWithout === 0)}` +
    `; last promoted version serving: ${l.servesLastPromoted ? 'yes' : 'NO'}; tree RSS ${l.rssBeforeMb} → ${l.rssAfterMb} MB; machine: ${l.machine}`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const result = await benchDeploy({
    deploys: Math.max(20, Number(process.env.BENCH_DEPLOYS ?? 10 * rounds)), cacheDeploys: Number(process.env.BENCH_CACHE_DEPLOYS ?? 10),
    rounds, seconds: Number(process.env.BENCH_DEPLOY_SECONDS ?? 10),
  })
  printDeploy(result)
  console.log(JSON.stringify({ bench: 'deploy', ...result }))
}
