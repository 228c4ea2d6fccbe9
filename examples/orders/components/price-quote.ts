// Prices an order line: unit price from a small catalogue, volume discount, rounded to cents.
import { defineComponent, StepError } from '@islet/sdk'

interface Input { sku: string; qty: number }
interface Output { sku: string; qty: number; unitPrice: number; discount: number; total: number; currency: string }
interface Config { currency: string; volumeDiscount: { minQty: number; percent: number } }

const CATALOGUE: Record<string, number> = { 'TEA-1': 4.5, 'TEA-2': 6.25, 'MUG-1': 12, 'POT-1': 29.9 }

export default defineComponent<Config, Input, Output>({
  name: 'price-quote',
  description: 'Quote an order line with a volume discount.',
  config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      currency: { type: 'string', default: 'EUR' },
      volumeDiscount: {
        type: 'object',
        default: { minQty: 10, percent: 10 },
        properties: { minQty: { type: 'integer', minimum: 1 }, percent: { type: 'number', minimum: 0, maximum: 100 } },
      },
    },
  },
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['sku', 'qty'],
    properties: { sku: { type: 'string', maxLength: 32 }, qty: { type: 'integer', minimum: 1, maximum: 1000 } },
  },
  output: {
    type: 'object',
    required: ['sku', 'qty', 'unitPrice', 'discount', 'total', 'currency'],
    properties: { total: { type: 'number', minimum: 0 } },
  },
  limits: { timeoutMs: 200, memoryMb: 32 },
  examples: [
    { name: 'small order', input: { sku: 'TEA-1', qty: 2 }, output: { sku: 'TEA-1', qty: 2, unitPrice: 4.5, discount: 0, total: 9, currency: 'EUR' } },
    { name: 'volume discount', input: { sku: 'MUG-1', qty: 10 }, output: { sku: 'MUG-1', qty: 10, unitPrice: 12, discount: 12, total: 108, currency: 'EUR' } },
    { name: 'unknown sku', input: { sku: 'NOPE', qty: 1 }, error: 'ERR_SKU_UNKNOWN' },
    { name: 'bad input', input: { sku: 'TEA-1', qty: 0 }, error: 'ERR_COMPONENT_INPUT_INVALID' },
  ],
  execute({ sku, qty }, ctx) {
    const unitPrice = CATALOGUE[sku]
    // The caller's mistake, not ours: a 422 with a code of our own (a plain throw would be a 500).
    if (unitPrice === undefined) {
      throw new StepError({ status: 422, code: 'ERR_SKU_UNKNOWN', message: `unknown sku '${sku}'`, details: { known: Object.keys(CATALOGUE) } })
    }
    const gross = unitPrice * qty
    const { minQty, percent } = ctx.config.volumeDiscount
    const discount = qty >= minQty ? round(gross * percent / 100) : 0
    return { sku, qty, unitPrice, discount, total: round(gross - discount), currency: ctx.config.currency }
  },
})

function round(n: number): number {
  return Math.round(n * 100) / 100
}
