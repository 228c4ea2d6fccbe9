// Price rules of the benchmark's deployed component: the helpers an agent would split out of its entry file.
// REVISION is the one constant the benchmark changes per deploy (deploy.ts rewrites it), so no two deploys hash alike.
export const REVISION = 0

export type Tier = 'standard' | 'silver' | 'gold'

export interface Line {
  sku: string
  qty: number
  unitCents: number
  category?: string
}

export interface Discount {
  code: string
  /** Percent off the lines it applies to, 0..100. */
  percent: number
  /** Only lines of this category; all lines when absent. */
  category?: string
  /** The cart's subtotal must reach this, in cents. */
  minSubtotalCents?: number
}

export interface PricedLine {
  sku: string
  qty: number
  lineCents: number
  discountCents: number
}

/** Tax rates per currency, in basis points. */
export const TAX_BPS: Readonly<Record<string, number>> = { EUR: 2000, GBP: 2000, USD: 0, CHF: 810 }

/** Extra percent off per customer tier, on top of any discount code. */
export const TIER_PERCENT: Readonly<Record<Tier, number>> = { standard: 0, silver: 3, gold: 7 }

export const KNOWN_CODES: readonly Discount[] = [
  { code: 'WELCOME10', percent: 10 },
  { code: 'BOOKS25', percent: 25, category: 'books' },
  { code: 'BIG15', percent: 15, minSubtotalCents: 20_000 },
]

/** Banker's rounding of a cent amount, as accountants expect for halves. */
export function roundCents(value: number): number {
  const floor = Math.floor(value)
  const diff = value - floor
  if (Math.abs(diff - 0.5) < 1e-9) return floor % 2 === 0 ? floor : floor + 1
  return Math.round(value)
}

export function subtotal(lines: readonly Line[]): number {
  return lines.reduce((sum, line) => sum + line.qty * line.unitCents, 0)
}

/** The discount a code gives, or undefined when unknown or its minimum is not reached. */
export function findDiscount(code: string | undefined, subtotalCents: number): Discount | undefined {
  if (code === undefined) return undefined
  const found = KNOWN_CODES.find((d) => d.code === code.trim().toUpperCase())
  if (!found) return undefined
  if (found.minSubtotalCents !== undefined && subtotalCents < found.minSubtotalCents) return undefined
  return found
}

export function priceLine(line: Line, discount: Discount | undefined, tierPercent: number): PricedLine {
  const lineCents = line.qty * line.unitCents
  const applies = discount !== undefined && (discount.category === undefined || discount.category === line.category)
  const percent = Math.min(100, (applies ? discount.percent : 0) + tierPercent)
  return { sku: line.sku, qty: line.qty, lineCents, discountCents: roundCents((lineCents * percent) / 100) }
}

export function taxOf(netCents: number, currency: string): number {
  const bps = TAX_BPS[currency] ?? 0
  return roundCents((netCents * bps) / 10_000)
}

/** Formats cents for people, e.g. 1234 EUR → "12.34 EUR". */
export function format(cents: number, currency: string): string {
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(cents)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`
}
