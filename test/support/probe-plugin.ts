// Test support: a plugin whose steps let a test watch pipeline runs started by any trigger. `probe.record` keeps each
// run's input and meta; `probe.gate` holds every run that reaches it until the test calls release() or the run is aborted.
import { definePlugin, defineStepType } from '@islet/sdk'

export interface Seen { input: unknown; meta: Record<string, unknown> }

export function probePlugin() {
  const seen: Seen[] = []
  const gate = { open: false, waiting: [] as (() => void)[], peak: 0, inside: 0 }
  const release = () => {
    gate.open = true
    for (const go of gate.waiting.splice(0)) go()
  }
  const plugin = definePlugin({
    name: 'probe', version: '1.0.0',
    stepTypes: [
      defineStepType({ type: 'probe.record', configSchema: { type: 'object' }, create: () => (run) => { seen.push({ input: run.input, meta: { ...run.meta } }) } }),
      defineStepType({
        type: 'probe.gate', configSchema: { type: 'object' },
        create: () => async (run) => {
          gate.inside++
          gate.peak = Math.max(gate.peak, gate.inside)
          try {
            // Honours the run's signal as a well-behaved step does: a stopping module's held runs end.
            if (!gate.open) {
              await new Promise<void>((go, fail) => {
                gate.waiting.push(go)
                run.signal.addEventListener('abort', () => fail(run.signal.reason), { once: true })
              })
            }
          } finally {
            gate.inside--
          }
        },
      }),
    ],
  })
  return { plugin, seen, gate, release }
}
