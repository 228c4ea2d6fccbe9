// Benchmark: warm invocation overhead. The quote component's execute called (a) in-process as a plain function,
// (b) through host.invoke (input validation, IPC to the worker, isolate call, output validation); to split (b):
// (c) sandbox.invoke alone (IPC + isolate call) and (d) the IPC floor, a round trip of the same messages to a child
// forked like the worker that answers at once. Sequential latency interleaves the four call by call (drift on a
// noisy machine hits all alike); throughput keeps 50 calls in flight, variants in rotating order per round.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { ComponentContext } from '@islet/sdk'
import quote from './quote-component.ts'
import { LIMITS, QUOTE_COMPONENT, QUOTE_INPUT, startHost } from './sandbox-fixture.ts'
import { median, p99, round } from './stats.ts'

type Call = () => Promise<unknown>
const VARIANTS = ['direct', 'host', 'sandbox', 'ipc'] as const
type Variant = (typeof VARIANTS)[number]

/**
 * µs per call with `inFlight` callers each awaiting its previous call, `n` calls in all: wall time, and the CPU time
 * of this process (the engine's side of the call: host, supervisor, IPC), which the machine's other load leaves alone.
 */
async function concurrent(call: Call, n: number, inFlight: number): Promise<{ wallUs: number; cpuUs: number }> {
  let left = n
  const started = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: inFlight }, async () => { while (left-- > 0) await call() }))
  const used = process.cpuUsage(cpu)
  return { wallUs: ((performance.now() - started) * 1000) / n, cpuUs: (used.user + used.system) / n }
}

async function startEcho() {
  const child = fork(fileURLToPath(new URL('./ipc-echo.ts', import.meta.url)), [], {
    execArgv: ['--no-node-snapshot'], serialization: 'json', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: {},
  })
  await once(child, 'message')
  const pending = new Map<number, () => void>()
  child.on('message', (msg: { id: number }) => { pending.get(msg.id)?.(); pending.delete(msg.id) })
  let seq = 0
  const input = JSON.stringify(QUOTE_INPUT)
  return {
    call: () => new Promise<void>((resolve) => {
      const id = ++seq
      pending.set(id, resolve)
      child.send({ t: 'invoke', id, key: 'quote-component@1', kind: 'execute', input, limits: LIMITS })
    }),
    close: async () => { const exited = once(child, 'exit'); child.disconnect(); await exited },
  }
}

export async function benchInvokeOverhead(options: { rounds: number; calls: number }) {
  const { host, close } = await startHost([{ file: QUOTE_COMPONENT }])
  const echo = await startEcho()
  const gen = host.generation('quote-component')!
  const sandbox = host.sandbox()
  const ctx = undefined as unknown as ComponentContext
  const calls: Record<Variant, Call> = {
    direct: async () => quote.execute(QUOTE_INPUT, ctx),
    host: () => host.invoke('quote-component', QUOTE_INPUT),
    sandbox: () => sandbox.invoke(gen.key, 'execute', JSON.stringify(QUOTE_INPUT), gen.invocation),
    ipc: echo.call,
  }
  const latency = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>
  const throughput = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>
  const engineCpu = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>
  const sequential = async (n: number, record: boolean) => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < VARIANTS.length; j++) {
        const name = VARIANTS[(i + j) % VARIANTS.length]
        const started = performance.now()
        await calls[name]()
        if (record) latency[name].push((performance.now() - started) * 1000)
      }
    }
  }
  try {
    if (JSON.stringify(await calls.host()) !== JSON.stringify(await calls.direct())) throw new Error('host and direct calls disagree')
    await sequential(500, false) // warm-up
    for (const name of VARIANTS) await concurrent(calls[name], 2000, 50)
    for (let r = 0; r < options.rounds; r++) {
      await sequential(options.calls, true)
      for (let j = 0; j < VARIANTS.length; j++) {
        const name = VARIANTS[(r + j) % VARIANTS.length]
        const { wallUs, cpuUs } = await concurrent(calls[name], options.calls * 4, 50)
        throughput[name].push(wallUs)
        engineCpu[name].push(cpuUs)
      }
      const last = (name: Variant) => `${median(latency[name].slice(-options.calls)).toFixed(1)} µs seq, ${throughput[name].at(-1)!.toFixed(1)} µs/call (${engineCpu[name].at(-1)!.toFixed(1)} µs CPU here)`
      console.log(`  round ${r + 1}: host.invoke ${last('host')} | sandbox.invoke ${last('sandbox')} | IPC floor ${last('ipc')} | direct ${last('direct')}`)
    }
  } finally {
    await Promise.all([close(), echo.close()])
  }
  const figures = (name: Variant) => ({
    medianUs: round(median(latency[name]), 2), p99Us: round(p99(latency[name]), 2), concurrentUsPerCall: round(median(throughput[name]), 2),
    engineCpuUsPerCall: round(median(engineCpu[name]), 2),
  })
  const [direct, hostFigures, sandboxFigures, ipc] = VARIANTS.map(figures)
  return {
    name: 'warm invocation: quote execute in-process vs host.invoke (50 in flight for throughput)',
    calls: latency.host.length,
    direct, host: hostFigures, sandbox: sandboxFigures, ipcFloor: ipc,
    overheadMedianUs: round(hostFigures.medianUs - direct.medianUs, 2),
    overheadConcurrentUs: round(hostFigures.concurrentUsPerCall - direct.concurrentUsPerCall, 2),
  }
}
