// Benchmark: what each extra component costs, through the real command line. `islet run` of an app with 1 and with
// N (51) copies of the quote component, each behind its own route (/q/<i>), started REPS times, interleaved:
// start → serving (from the spawn to the first 200 on /q/0, polled every 5 ms), then the process tree's RSS/PSS
// settled, and again after one call to every copy. Per extra component = (median with N − median with 1) / (N − 1).
// One uncounted start first, so that caches (Node's compile cache, bundles) are as warm as on any later start.
// Alone: `node test/bench/component-count.ts` (BENCH_COMPONENTS, BENCH_COUNT_REPS, BENCH_SETTLE_MS).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { post, startCli } from './cli-server.ts'
import { loadNote, meter, treeMemory, type TreeMemory } from './proc.ts'
import { QUOTE_COMPONENT } from './sandbox-fixture.ts'
import { median, round, sleep, verdict } from './stats.ts'

const PORT = 19403
const BODY = JSON.stringify({ sku: 'A-100', qty: 3 })
export const TARGETS = { perExtraMb: 1.3, startOneMs: 400, startManyMs: 800 } as const

/** An app folder with `n` copies of the quote component (named by their files) and one route to each. */
function writeApp(root: string, n: number): string {
  const dir = join(root, `x${n}`)
  mkdirSync(join(dir, 'components'), { recursive: true })
  const source = readFileSync(QUOTE_COMPONENT, 'utf8')
  const routes: string[] = []
  const pipelines: string[] = []
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, 'components', `q-${String(i).padStart(3, '0')}.ts`), source)
    routes.push(`        - { method: POST, path: /q/${i}, pipeline: p${i} }`)
    pipelines.push(`  p${i}:\n    steps:\n      - { name: q, type: component, config: { component: q-${String(i).padStart(3, '0')}, input: '\${{ body }}' } }\n` +
      `      - { type: respond, config: { body: '\${{ steps.q }}' } }`)
  }
  writeFileSync(join(dir, 'app.yaml'), `apiVersion: islet/v1
components:
  - directory: ./components
modules:
  - name: api
    type: http.router
    config:
      routes:
${routes.join('\n')}
  - name: web
    type: http.server
    config:
      port: \${PORT}
      routers: [api]
pipelines:
${pipelines.join('\n')}
`)
  return join(dir, 'app.yaml')
}

interface Run { n: number; startMs: number; otherCores: number; idle: TreeMemory; called: TreeMemory }

async function once(app: string, n: number, settleMs: number): Promise<Run> {
  const server = startCli('run', app, PORT)
  try {
    const metered = meter(server.pid)
    const startMs = await server.serving('/q/0', BODY)
    const { otherCores } = metered.stop()
    await sleep(settleMs)
    const idle = treeMemory(server.pid)
    for (let i = 0; i < n; i++) {
      const res = await post(`${server.url}/q/${i}`, BODY, 10_000)
      const answer = await res.json() as { total?: number }
      if (res.status !== 200 || answer.total !== 29.97) throw new Error(`copy ${i} of ${n} answered ${res.status} ${JSON.stringify(answer)}`)
    }
    await sleep(settleMs)
    return { n, startMs: round(startMs, 1), otherCores, idle, called: treeMemory(server.pid) }
  } finally {
    await server.stop()
  }
}

export async function benchComponentCount(options: { count: number; reps: number; settleMs: number }) {
  const root = join(tmpdir(), `islet-bench-count-${process.pid}`)
  const apps = { one: writeApp(root, 1), many: writeApp(root, options.count) }
  const runs: Run[] = []
  try {
    await once(apps.many, options.count, 0) // warm-up, not counted
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const [app, n] of [[apps.one, 1], [apps.many, options.count]] as const) {
        const run = await once(app, n, options.settleMs)
        runs.push(run)
        console.log(`  rep ${rep} ×${String(n).padEnd(3)} serving in ${run.startMs} ms (others ${run.otherCores} cores); idle RSS ${run.idle.rssMb} MB PSS ${run.idle.pssMb} MB ` +
          `(${run.idle.processes} proc); after one call each RSS ${run.called.rssMb} MB PSS ${run.called.pssMb} MB`)
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
  const of = (n: number, f: (r: Run) => number) => median(runs.filter((r) => r.n === n).map(f))
  const perExtra = (f: (r: Run) => number) => round((of(options.count, f) - of(1, f)) / (options.count - 1), 3)
  const result = {
    name: `RSS per extra idle component and start → serving, 1 vs ${options.count} components through \`islet run\` (medians of ${options.reps} interleaved starts)`,
    count: options.count, reps: options.reps,
    rssOneMb: of(1, (r) => r.idle.rssMb), rssManyMb: of(options.count, (r) => r.idle.rssMb),
    perExtraIdleRssMb: perExtra((r) => r.idle.rssMb), perExtraIdlePssMb: perExtra((r) => r.idle.pssMb),
    perExtraCalledRssMb: perExtra((r) => r.called.rssMb), perExtraCalledPssMb: perExtra((r) => r.called.pssMb),
    startOneMs: of(1, (r) => r.startMs), startManyMs: of(options.count, (r) => r.startMs),
    otherCores: runs.map((r) => r.otherCores),
    targets: TARGETS, runs,
  }
  return {
    ...result,
    met: {
      perExtra: result.perExtraIdleRssMb <= TARGETS.perExtraMb,
      start: result.startOneMs <= TARGETS.startOneMs && result.startManyMs <= TARGETS.startManyMs,
    },
  }
}

export function printComponentCount(r: Awaited<ReturnType<typeof benchComponentCount>>): void {
  console.log(`   RSS idle with 1 component ${r.rssOneMb} MB, with ${r.count} ${r.rssManyMb} MB (whole tree)`)
  console.log(`   per extra component: idle RSS ${r.perExtraIdleRssMb} MB / PSS ${r.perExtraIdlePssMb} MB (target ≤ ${r.targets.perExtraMb} MB RSS) ${verdict(r.met.perExtra)}; ` +
    `after one call each RSS ${r.perExtraCalledRssMb} MB / PSS ${r.perExtraCalledPssMb} MB`)
  console.log(`   start → serving: ${r.startOneMs} ms with 1, ${r.startManyMs} ms with ${r.count} (target ≤ ${r.targets.startOneMs} / ≤ ${r.targets.startManyMs} ms) ${verdict(r.met.start)}`)
  console.log(`   machine during the starts: ${loadNote(r.otherCores)}`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchComponentCount({
    count: Number(process.env.BENCH_COMPONENTS ?? 51), reps: Number(process.env.BENCH_COUNT_REPS ?? 2), settleMs: Number(process.env.BENCH_SETTLE_MS ?? 2000),
  })
  printComponentCount(result)
  console.log(JSON.stringify({ ...result, runs: undefined }))
}
