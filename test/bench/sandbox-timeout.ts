// Benchmark: time from host.invoke to the caller receiving ERR_SANDBOX_TIMEOUT, a 50 ms wall deadline (CPU budget
// large, so the wall deadline is what fires), for an infinite loop and for a never-settling promise. A breach resets
// the isolate; an unmeasured call re-creates it before the next breach, so only the breach is timed. The floor, in
// rounds alternating with it: a raw isolated-vm call under a 50 ms timeout, and a bare 50 ms timer, in a child
// process with the worker's flags.
import { fileURLToPath } from 'node:url'
import { compileComponent } from '../../runtime/components/compile.ts'
import { isIsletError } from '../../runtime/errors.ts'
import { runFloor, startHost } from './sandbox-fixture.ts'
import { median, p99, round } from './stats.ts'

const SPIN = fileURLToPath(new URL('./spin-component.ts', import.meta.url))
const DEADLINE_MS = 50

export async function benchSandboxTimeout(options: { rounds: number; runs: number }) {
  const { code } = await compileComponent(SPIN)
  const { host, close } = await startHost([{ file: SPIN, limits: { timeoutMs: DEADLINE_MS, cpuMs: 60_000 } }])
  const samples = { loop: [] as number[], hang: [] as number[], floorLoop: [] as number[], floorTimer: [] as number[] }
  const breach = async (mode: 'loop' | 'hang'): Promise<number> => {
    await host.invoke('spin-component', { mode: 'ok' }) // re-creates the isolate the previous breach reset
    const started = performance.now()
    try {
      await host.invoke('spin-component', { mode })
    } catch (error) {
      const ms = performance.now() - started
      if (isIsletError(error) && error.code === 'ERR_SANDBOX_TIMEOUT') return ms
      throw error
    }
    throw new Error(`mode ${mode} finished within its deadline`)
  }
  try {
    await breach('loop')
    await breach('hang') // warm-up
    const perRound = Math.ceil(options.runs / options.rounds)
    for (let r = 0; r < options.rounds; r++) {
      for (let i = 0; i < perRound; i++) {
        samples.loop.push(await breach('loop'))
        samples.hang.push(await breach('hang'))
      }
      const floor = await runFloor<{ loop: number[]; timer: number[] }>('timeout', [code], perRound, { mode: 'loop' })
      samples.floorLoop.push(...floor.loop)
      samples.floorTimer.push(...floor.timer)
      const last = (xs: number[]) => xs.slice(-perRound)
      console.log(`  round ${r + 1}: loop median ${median(last(samples.loop)).toFixed(1)} ms max ${Math.max(...last(samples.loop)).toFixed(1)} | hang median ${median(last(samples.hang)).toFixed(1)} ms max ${Math.max(...last(samples.hang)).toFixed(1)} | raw isolated-vm loop median ${median(last(samples.floorLoop)).toFixed(1)} ms max ${Math.max(...last(samples.floorLoop)).toFixed(1)}`)
    }
  } finally {
    await close()
  }
  const figures = (xs: number[]) => ({ medianMs: round(median(xs)), p99Ms: round(p99(xs)), maxMs: round(Math.max(...xs)) })
  const loop = figures(samples.loop)
  const hang = figures(samples.hang)
  return {
    name: `time to ERR_SANDBOX_TIMEOUT with a ${DEADLINE_MS} ms deadline (infinite loop; never-settling promise)`,
    runs: samples.loop.length, deadlineMs: DEADLINE_MS, loop, hang,
    floorLoop: figures(samples.floorLoop), floorTimer: figures(samples.floorTimer),
    targetP99Ms: 60,
    met: loop.p99Ms <= 60 && hang.p99Ms <= 60,
  }
}
