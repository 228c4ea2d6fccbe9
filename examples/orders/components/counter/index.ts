// Counts orders per SKU in the component's own KV namespace, and announces milestones on the event bus.
import { defineComponent } from '@islet/sdk'
import { milestone } from './milestone.ts'

interface Input { sku: string }
interface Output { sku: string; count: number }

export default defineComponent<unknown, Input, Output>({
  name: 'counter',
  description: 'Increments and returns the order count of a SKU.',
  input: { type: 'object', required: ['sku'], properties: { sku: { type: 'string', minLength: 1, maxLength: 32 } } },
  output: { type: 'object', required: ['sku', 'count'], properties: { count: { type: 'integer', minimum: 1 } } },
  // Examples run with a throwaway kv (seeded by `kv:`) and captured emits: the app's real counts never change.
  examples: [
    { name: 'counts', input: { sku: 'EXAMPLE' }, output: { sku: 'EXAMPLE', count: 1 } },
    { name: 'the tenth order is a milestone', input: { sku: 'A-100' }, kv: { 'orders:A-100': 9 }, output: { sku: 'A-100', count: 10 } },
    { name: 'the eleventh is not', input: { sku: 'A-100' }, kv: { 'orders:A-100': 10 }, output: { sku: 'A-100', count: 11 } },
  ],
  async execute({ sku }, ctx) {
    // One atomic step in the store: a get-then-set here would lose counts when orders arrive together.
    const count = await ctx.kv.increment(`orders:${sku}`)
    if (milestone(count)) {
      ctx.log.info('milestone reached', { sku, count })
      await ctx.emit('orders.milestone', { sku, count })
    }
    return { sku, count }
  },
})
