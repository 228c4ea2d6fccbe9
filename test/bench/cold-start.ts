// Benchmark: cold start, compiled bundle → first result. (a) the real path, sandbox.load + the first invoke on an
// already-running worker; (b) the isolated-vm floor in a child process with the worker's flags. Rounds alternate.
import { QUOTE_INPUT, LIMITS, quoteBundle, runFloor, startSandbox } from './sandbox-fixture.ts'
import { median, p99, round } from './stats.ts'

export async function benchColdStart(options: { rounds: number; runs: number }) {
  const bundle = await quoteBundle()
  const sandbox = await startSandbox()
  const input = JSON.stringify(QUOTE_INPUT)
  const islet: number[] = []
  const floor: number[] = []
  let n = 0
  const once = async (): Promise<number> => {
    const i = ++n
    const key = `cold-${i}@1`
    const started = performance.now()
    await sandbox.load({ key, name: 'cold', generation: 1, code: bundle.variant(i), memoryMb: 64, loadTimeoutMs: 1000, config: {} })
    const output = await sandbox.invoke(key, 'execute', input, LIMITS)
    const ms = performance.now() - started
    if ((JSON.parse(output) as { total: number }).total !== 29.97) throw new Error('the component computed the wrong quote')
    sandbox.unload(key)
    await sandbox.stats() // a barrier: the worker has disposed the isolate before the next run starts
    return ms
  }
  try {
    for (let i = 0; i < 5; i++) await once() // warm-up: JIT the host side of both processes
    const perRound = Math.ceil(options.runs / options.rounds)
    for (let r = 0; r < options.rounds; r++) {
      for (let i = 0; i < perRound; i++) islet.push(await once())
      floor.push(...(await runFloor<{ samples: number[] }>('cold', [bundle.variant(0)], perRound)).samples)
      console.log(`  round ${r + 1}: islet median ${median(islet.slice(-perRound)).toFixed(2)} ms | isolated-vm floor median ${median(floor.slice(-perRound)).toFixed(2)} ms`)
    }
  } finally {
    await sandbox.stop()
  }
  const isletMs = median(islet)
  const floorMs = median(floor)
  return {
    name: 'cold start: compiled bundle → first result (sandbox.load incl. schema validators + first invoke on a running worker)',
    runs: islet.length,
    isletMedianMs: round(isletMs), isletP99Ms: round(p99(islet)),
    floorMedianMs: round(floorMs), floorP99Ms: round(p99(floor)),
    overheadMs: round(isletMs - floorMs),
    targetMs: 5,
    met: isletMs <= 5,
  }
}
