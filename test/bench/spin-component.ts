// Benchmark component that breaches its deadline on request: `loop` spins forever, `hang` never settles, `ok` returns.
import { defineComponent } from '@islet/sdk'

interface Input { mode: 'loop' | 'hang' | 'ok' }

export default defineComponent<unknown, Input, { ok: true }>({
  name: 'spin-component',
  input: { type: 'object', required: ['mode'], properties: { mode: { enum: ['loop', 'hang', 'ok'] } } },
  execute(input) {
    if (input.mode === 'loop') for (;;) { /* spins until the deadline */ }
    if (input.mode === 'hang') return new Promise<{ ok: true }>(() => {})
    return { ok: true }
  },
})
