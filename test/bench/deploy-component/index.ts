// The benchmark's deployed component (section 16, deploy.ts): a cart pricer of the size and shape an agent writes —
// types, a helper module imported relatively, config/input/output schemas, several examples.
import { defineComponent, type JsonSchema } from '@islet/sdk'
import {
  findDiscount, format, priceLine, REVISION, subtotal, taxOf, TIER_PERCENT,
  type Line, type PricedLine, type Tier,
} from './lib/rules.ts'

interface Config {
  currency: string
  /** Carts above this many lines are refused (a guard against abuse). */
  maxLines?: number
}

interface Input {
  customer?: { id: string; tier?: Tier }
  lines: Line[]
  code?: string
}

interface Output {
  currency: string
  lines: PricedLine[]
  subtotalCents: number
  discountCents: number
  taxCents: number
  totalCents: number
  display: string
  appliedCode: string | null
  revision: number
}

const lineSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'qty', 'unitCents'],
  properties: {
    sku: { type: 'string', pattern: '^[A-Z0-9-]{1,32}$' },
    qty: { type: 'integer', minimum: 1, maximum: 1000 },
    unitCents: { type: 'integer', minimum: 0, maximum: 10_000_000 },
    category: { type: 'string', maxLength: 32 },
  },
}

const pricedLineSchema: JsonSchema = {
  type: 'object',
  required: ['sku', 'qty', 'lineCents', 'discountCents'],
  properties: {
    sku: { type: 'string' },
    qty: { type: 'integer' },
    lineCents: { type: 'integer' },
    discountCents: { type: 'integer' },
  },
}

const DEFAULT_MAX_LINES = 50

/** A customer's tier, standard when absent or unknown. */
function tierOf(input: Input): Tier {
  const tier = input.customer?.tier
  return tier !== undefined && tier in TIER_PERCENT ? tier : 'standard'
}

/** Lines of one SKU merged, so a cart listing a product twice prices like one line of the sum. */
function mergeLines(lines: readonly Line[]): Line[] {
  const bySku = new Map<string, Line>()
  for (const line of lines) {
    const seen = bySku.get(line.sku)
    if (seen) bySku.set(line.sku, { ...seen, qty: seen.qty + line.qty })
    else bySku.set(line.sku, { ...line })
  }
  return [...bySku.values()]
}

function quote(input: Input, config: Config): Output {
  const currency = config.currency
  const lines = mergeLines(input.lines)
  const gross = subtotal(lines)
  const discount = findDiscount(input.code, gross)
  const priced = lines.map((line) => priceLine(line, discount, TIER_PERCENT[tierOf(input)]))
  const discountCents = priced.reduce((sum, line) => sum + line.discountCents, 0)
  const net = gross - discountCents
  const taxCents = taxOf(net, currency)
  const totalCents = net + taxCents
  return {
    currency,
    lines: priced,
    subtotalCents: gross,
    discountCents,
    taxCents,
    totalCents,
    display: format(totalCents, currency),
    appliedCode: discount?.code ?? null,
    revision: REVISION,
  }
}

export default defineComponent<Config, Input, Output>({
  name: 'pricing',
  description: 'Prices a cart: merges lines, applies a discount code and the customer tier, adds tax.',
  config: {
    type: 'object',
    required: ['currency'],
    properties: {
      currency: { type: 'string', enum: ['EUR', 'GBP', 'USD', 'CHF'] },
      maxLines: { type: 'integer', minimum: 1, maximum: 500 },
    },
  },
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['lines'],
    properties: {
      customer: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string', maxLength: 64 }, tier: { type: 'string', enum: ['standard', 'silver', 'gold'] } },
      },
      lines: { type: 'array', minItems: 1, maxItems: 500, items: lineSchema },
      code: { type: 'string', maxLength: 32 },
    },
  },
  output: {
    type: 'object',
    required: ['currency', 'lines', 'subtotalCents', 'discountCents', 'taxCents', 'totalCents', 'display', 'appliedCode', 'revision'],
    properties: {
      currency: { type: 'string' },
      lines: { type: 'array', items: pricedLineSchema },
      subtotalCents: { type: 'integer' },
      discountCents: { type: 'integer' },
      taxCents: { type: 'integer' },
      totalCents: { type: 'integer' },
      display: { type: 'string' },
      appliedCode: { type: ['string', 'null'] },
      revision: { type: 'integer' },
    },
  },
  limits: { timeoutMs: 500 },
  examples: [
    {
      name: 'one line, no code',
      input: { lines: [{ sku: 'A-100', qty: 3, unitCents: 999 }] },
      output: {
        currency: 'EUR', lines: [{ sku: 'A-100', qty: 3, lineCents: 2997, discountCents: 0 }], subtotalCents: 2997,
        discountCents: 0, taxCents: 599, totalCents: 3596, display: '35.96 EUR', appliedCode: null, revision: REVISION,
      },
    },
    {
      name: 'category code and a gold customer',
      input: {
        customer: { id: 'c-1', tier: 'gold' },
        lines: [{ sku: 'B-1', qty: 2, unitCents: 1500, category: 'books' }, { sku: 'T-9', qty: 1, unitCents: 4000, category: 'toys' }],
        code: 'books25',
      },
      output: {
        currency: 'EUR',
        lines: [{ sku: 'B-1', qty: 2, lineCents: 3000, discountCents: 960 }, { sku: 'T-9', qty: 1, lineCents: 4000, discountCents: 280 }],
        subtotalCents: 7000, discountCents: 1240, taxCents: 1152, totalCents: 6912, display: '69.12 EUR', appliedCode: 'BOOKS25', revision: REVISION,
      },
    },
    {
      name: 'duplicate lines merge; a code below its minimum is ignored',
      input: { lines: [{ sku: 'A-100', qty: 1, unitCents: 5000 }, { sku: 'A-100', qty: 1, unitCents: 5000 }], code: 'BIG15' },
      output: {
        currency: 'EUR', lines: [{ sku: 'A-100', qty: 2, lineCents: 10000, discountCents: 0 }], subtotalCents: 10000,
        discountCents: 0, taxCents: 2000, totalCents: 12000, display: '120.00 EUR', appliedCode: null, revision: REVISION,
      },
    },
    { name: 'an empty cart is refused', input: { lines: [] }, error: 'ERR_COMPONENT_INPUT_INVALID' },
  ],
  execute(input, ctx) {
    const maxLines = ctx.config.maxLines ?? DEFAULT_MAX_LINES
    if (input.lines.length > maxLines) {
      throw new Error(`a cart holds at most ${maxLines} lines (${input.lines.length} sent)`)
    }
    const result = quote(input, ctx.config)
    if (result.totalCents < 0) ctx.log.warn('negative total', { revision: REVISION, totalCents: result.totalCents })
    return result
  },
})
