// Benchmark component: the quote the bare Koa baseline computes (serve-koa.ts), as a sandboxed component.
import { defineComponent } from '@islet/sdk'

interface Input { sku: string; qty: number }
interface Output { sku: string; qty: number; total: number }

export default defineComponent<unknown, Input, Output>({
  name: 'quote-component',
  input: {
    type: 'object', additionalProperties: false, required: ['sku', 'qty'],
    properties: { sku: { type: 'string', pattern: '^[A-Z0-9-]{1,32}$' }, qty: { type: 'integer', minimum: 1, maximum: 1000 } },
  },
  output: {
    type: 'object', required: ['sku', 'qty', 'total'],
    properties: { sku: { type: 'string' }, qty: { type: 'integer' }, total: { type: 'number' } },
  },
  examples: [{ input: { sku: 'A-100', qty: 3 }, output: { sku: 'A-100', qty: 3, total: 29.97 } }],
  execute(input) {
    return { sku: input.sku, qty: input.qty, total: Math.round(input.qty * 9.99 * 100) / 100 }
  },
})
