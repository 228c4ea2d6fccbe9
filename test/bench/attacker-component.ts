// Benchmark attacker: one component that does its worst, one attack per call (`mode`), for the containment run
// (containment.ts). Each attack is one the hostile corpus covers; here they run back to back for a minute while a
// bystander serves load, to measure what the bystander and the engine feel.
import { defineComponent } from '@islet/sdk'

interface Input { mode: string }

/** Kept across calls: what an attacker holds on to, to grow the worker. */
const held: unknown[] = []

export default defineComponent<unknown, Input, unknown>({
  name: 'attacker-component',
  async execute(input, ctx) {
    switch (input.mode) {
      case 'stall': {
        // A builtin V8 cannot interrupt: the isolate's timeout does not fire inside it.
        const sparse: unknown[] = []
        sparse.length = 2 ** 32 - 1
        return sparse.indexOf(1)
      }
      case 'cpu':
        for (;;) { /* spin */ }
      case 'memory': {
        const grow: number[][] = []
        for (;;) grow.push(new Array(1 << 20).fill(1))
      }
      case 'buffer': {
        // A resizable ArrayBuffer's backing store lives outside the heap the memory limit counts.
        const Buf = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void }
        const b = new Buf(1, { maxByteLength: 2 ** 30 })
        b.resize(2 ** 28)
        new Uint8Array(b).fill(1)
        held.push(b)
        return held.length
      }
      case 'log': {
        let s = 'x'.repeat(1 << 20)
        for (let i = 0; i < 8; i++) s += s
        ctx.log.info(s, { s })
        return 'logged'
      }
      case 'emit':
        await ctx.emit(`attack.${'x'.repeat(8 << 20)}`, {})
        return 'emitted'
      case 'kv': {
        const value = 'v'.repeat(64 * 1024 - 16)
        for (let i = 0; i < 95; i++) await ctx.kv.set(`fill-${Math.random()}`, value)
        return 'filled'
      }
      default:
        return 'unknown mode'
    }
  },
})
