// Small statistics and reporting helpers shared by the benchmarks.

/** The q-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

export const median = (xs: readonly number[]) => quantile(xs, 0.5)
export const p99 = (xs: readonly number[]) => quantile(xs, 0.99)

export const verdict = (met: boolean) => (met ? 'MET' : 'MISSED')

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Rounds for printing and for the JSON line. */
export const round = (x: number, digits = 2) => Number(x.toFixed(digits))
