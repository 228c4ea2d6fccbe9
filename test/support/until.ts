// Test support: wait for a condition (log lines, reloads and events arrive asynchronously), never a blind sleep.

export interface UntilOptions {
  /** How long before the test fails; default 10 s. */
  ms?: number
  /** Polling interval; default 20 ms. */
  everyMs?: number
  /** What to add to the failure message (e.g. the output seen so far). */
  explain?: () => string
}

export async function until(condition: () => boolean | Promise<boolean>, options: UntilOptions = {}): Promise<void> {
  const ms = options.ms ?? 10_000
  const deadline = performance.now() + ms
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms${options.explain ? `: ${options.explain()}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 20))
  }
}
