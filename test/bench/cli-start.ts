// Benchmark: how long an `islet` call takes against Node's own start (`node -e ''`), measured side by side:
// each round runs the three commands one after the other (interleaved, so machine noise hits all alike), medians
// over the rounds. Runs bin.js with the pinned Node directly (what `./node_modules/.bin/islet` does on Node 24).
// Alone: `node test/bench/cli-start.ts` (BENCH_CLI_ROUNDS to change the rounds).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { median, round, verdict } from './stats.ts'

const BIN = fileURLToPath(new URL('../../runtime/cli/bin.js', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const COMMANDS = {
  node: ['-e', ''],
  version: [BIN, '--version'],
  validate: [BIN, 'validate', 'examples/orders/app.yaml'],
} as const
const TARGETS = { version: 2, validate: 4 } as const

function once(args: readonly string[]): number {
  const started = performance.now()
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' } })
  const ms = performance.now() - started
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return ms
}

export async function benchCliStart(options: { rounds: number }) {
  const samples: Record<keyof typeof COMMANDS, number[]> = { node: [], version: [], validate: [] }
  // Warm-up: the first call fills Node's compile cache (kept in node_modules/.cache), as any first call after an install does.
  for (const args of Object.values(COMMANDS)) once(args)
  for (let r = 0; r < options.rounds; r++) {
    for (const [name, args] of Object.entries(COMMANDS)) samples[name as keyof typeof COMMANDS].push(once(args))
  }
  const node = median(samples.node)
  const figure = (name: keyof typeof TARGETS) => {
    const ms = median(samples[name])
    return { medianMs: round(ms, 1), ratio: round(ms / node), target: TARGETS[name], met: ms / node <= TARGETS[name] }
  }
  return { name: 'cli-start', rounds: options.rounds, nodeMedianMs: round(node, 1), version: figure('version'), validate: figure('validate') }
}

export function printCliStart(result: Awaited<ReturnType<typeof benchCliStart>>): void {
  console.log(`   node -e ''                              median ${result.nodeMedianMs} ms over ${result.rounds} rounds`)
  for (const [label, f] of [['islet --version', result.version], ['islet validate examples/orders/app.yaml', result.validate]] as const) {
    console.log(`   ${label.padEnd(40)}median ${f.medianMs} ms: ${f.ratio}× node (target ≤ ${f.target}×) ${verdict(f.met)}`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.env.BENCH_CLI_ROUNDS ?? 20)
  console.log(`islet start-up on Node ${process.version}: ${rounds} interleaved rounds, medians`)
  printCliStart(await benchCliStart({ rounds }))
}
