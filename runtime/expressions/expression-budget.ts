// The cost bound of one expression evaluation. Expressions run on the engine's event loop, on request data: with
// map, filter and sortBy (and nested lambdas) one short expression could otherwise do work quadratic in the data.
// Every function charges what it visits and builds; past the budget the evaluation stops with ERR_EXPRESSION_EVAL.
import { evalError, type Site } from './expression-values.ts'

/**
 * Units one evaluation may use: one per element (or key) a function visits, one per 16 characters of text it builds,
 * parses or scans (a text function, a comparison of long texts), one per comparison a sort makes. A million units is tens of milliseconds of work here: enough to
 * reshape a few thousand rows several times, far from what would stall every other request.
 */
export const EXPRESSION_BUDGET = 1_000_000

/** Units for `chars` characters of text built or parsed. */
export const textUnits = (chars: number): number => 1 + (chars >>> 4)

/** Charges `units` to the evaluation `site` belongs to; throws once the budget is spent. */
export function charge(site: Site, units: number, fn: string): void {
  site.meter.used += units
  if (site.meter.used > EXPRESSION_BUDGET) throw overBudget(site, fn)
}

/** Deeper than this, a value's size is not walked further (a value from a plugin step could even be cyclic). */
const SIZE_DEPTH = 300

/**
 * Charges what `value` weighs written out as JSON: one unit per 16 characters, each node counted as 2 plus its text
 * (numbers under-counted, never more). Parts it shares are counted each time, as JSON writes them: `map(xs, x =>
 * body)` is tiny in memory and |xs| × |body| in a response. Short text and primitives cost nothing; the walk charges
 * as it goes, so it stops at the budget however large the value is.
 */
export function chargeSize(site: Site, value: unknown, fn: string): void {
  if (typeof value === 'string') {
    if (value.length >= 16) charge(site, value.length >>> 4, fn)
    return
  }
  if (typeof value !== 'object' || value === null) return
  let chars = 0
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'string') chars += v.length + 2
    else if (typeof v !== 'object' || v === null || depth >= SIZE_DEPTH) chars += 2
    else if (Array.isArray(v)) {
      chars += 2
      for (let i = 0; i < v.length; i++) visit(v[i], depth + 1)
    } else {
      chars += 2
      for (const key of Object.keys(v)) {
        chars += key.length + 3
        visit((v as Record<string, unknown>)[key], depth + 1)
      }
    }
    if (chars >= 65_536) {
      charge(site, chars >>> 4, fn)
      chars &= 15
    }
  }
  visit(value, 0)
  if (chars >= 16) charge(site, chars >>> 4, fn)
}

function overBudget(site: Site, fn: string) {
  return evalError(site,
    `${fn} went over the expression budget of ${EXPRESSION_BUDGET.toLocaleString('en')} units (one per element visited, ` +
    'one per 16 characters built or scanned, one per comparison sorted): work on fewer rows (filter or LIMIT them in SQL, split ' +
    'the work over several steps), or do it in a component',
    { function: fn, budget: EXPRESSION_BUDGET })
}
