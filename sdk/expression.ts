// Expression functions a plugin adds to the `${{ … }}` language: pure, synchronous, bounded by the caller's budget.

/**
 * A function pipelines call inside `${{ … }}` as `area.name(…)`, e.g. `geo.distance(body.from, body.to)`.
 *
 * The contract, enforced by the engine:
 * - synchronous and pure: no I/O, no clock, no state kept between calls (a thenable result is refused);
 * - its arguments are frozen copies of JSON-like values (null, booleans, finite numbers, strings, arrays, plain
 *   objects); its result must be one too (undefined reads as null);
 * - an error it throws becomes ERR_EXPRESSION_EVAL naming the function, the expression and the arguments;
 * - the size of its arguments and result counts against the expression's cost budget (their elements, and their
 *   text per 16 characters); the work it does itself is yours to keep proportionate to that.
 * Arity is checked when the config loads, and so is the name: an unknown `area.name` is reported at its
 * file:line:col with a did-you-mean.
 */
export interface ExpressionFunction {
  /** Dotted lower-case `<area>.<name>` (letters, digits, `_`), e.g. `geo.distance`; never a built-in's bare name. */
  readonly name: string
  /** One line: what it returns, for `islet schema` and editor completion. */
  readonly description?: string
  readonly minArgs: number
  /** Defaults to `minArgs`. */
  readonly maxArgs?: number
  call(...args: unknown[]): unknown
}

/**
 * Identity helper for an expression function.
 * @example
 * export const cents = defineFunction({
 *   name: 'money.cents', minArgs: 1, description: 'an amount in cents, from a decimal amount',
 *   call: (amount) => { if (typeof amount !== 'number') throw new Error('needs a number'); return Math.round(amount * 100) },
 * })
 */
export function defineFunction<F extends ExpressionFunction>(fn: F): F {
  return fn
}
