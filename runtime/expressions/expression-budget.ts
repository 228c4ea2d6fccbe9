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

function overBudget(site: Site, fn: string) {
  return evalError(site,
    `${fn} went over the expression budget of ${EXPRESSION_BUDGET.toLocaleString('en')} units (one per element visited, ` +
    'one per 16 characters built or scanned, one per comparison sorted): work on fewer rows (filter or LIMIT them in SQL, split ' +
    'the work over several steps), or do it in a component',
    { function: fn, budget: EXPRESSION_BUDGET })
}
