// Benchmark: resident memory per idle loaded component. N distinct small components loaded into one fresh worker,
// its RSS (sandbox.stats) before and after, settled; the same N in raw isolated-vm isolates in a child process with
// the worker's flags as the floor. Both also after one call each.
import { QUOTE_INPUT, LIMITS, quoteBundle, runFloor, startSandbox } from './sandbox-fixture.ts'
import { round, sleep } from './stats.ts'

const MB = 1048576

export async function benchComponentMemory(options: { count: number; settleMs: number }) {
  const bundle = await quoteBundle()
  const codes = Array.from({ length: options.count }, (_, i) => bundle.variant(i))
  const sandbox = await startSandbox()
  const rss = async () => (await sandbox.stats())[0].rss / MB
  let before: number, idle: number, called: number, isolates: number
  try {
    // Load and drop one component first, so the worker's own first-use allocations are not counted as a component's.
    await sandbox.load({ key: 'warm@1', name: 'memory', generation: 1, code: bundle.code, memoryMb: 64, loadTimeoutMs: 1000, config: {} })
    await sandbox.invoke('warm@1', 'execute', JSON.stringify(QUOTE_INPUT), LIMITS)
    sandbox.unload('warm@1')
    await sleep(options.settleMs)
    before = await rss()
    for (const [i, code] of codes.entries()) {
      await sandbox.load({ key: `idle-${i}@1`, name: 'memory', generation: 1, code, memoryMb: 64, loadTimeoutMs: 1000, config: {} })
    }
    await sleep(options.settleMs)
    idle = await rss()
    isolates = (await sandbox.stats())[0].isolates
    for (let i = 0; i < codes.length; i++) await sandbox.invoke(`idle-${i}@1`, 'execute', JSON.stringify(QUOTE_INPUT), LIMITS)
    await sleep(options.settleMs)
    called = await rss()
  } finally {
    await sandbox.stop()
  }
  const floor = await runFloor<{ before: number; idle: number; called: number; n: number }>('memory', codes, codes.length)
  const perComponentMb = (idle - before) / codes.length
  return {
    name: `resident memory per idle loaded component (${codes.length} in one worker, RSS growth / N)`,
    count: codes.length, isolates,
    workerRssBeforeMb: round(before, 1), workerRssAfterMb: round(idle, 1),
    perComponentMb: round(perComponentMb, 3),
    perComponentAfterOneCallMb: round((called - before) / codes.length, 3),
    floorPerIsolateMb: round((floor.idle - floor.before) / floor.n, 3),
    floorPerIsolateAfterOneCallMb: round((floor.called - floor.before) / floor.n, 3),
    targetMb: 2,
    met: perComponentMb <= 2,
  }
}
