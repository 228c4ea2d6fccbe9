// The foreach step: runs its block once per item of an array, `concurrency` at a time; per-item errors end the loop
// (failFast: the other items are aborted) or are collected beside the results.
import { defineStepType, isStepError, messageOf } from '@islet/sdk'
import { FlowError } from './errors.ts'
import { failureOf, stepLabel, type FailureRecord } from './outcome.ts'
import { childSignal, raceAbort } from './signals.ts'

export interface ForeachConfig {
  /** A template evaluating to the array to walk (null or missing walks nothing). */
  readonly items: unknown
  readonly concurrency?: number
  readonly errors?: 'failFast' | 'collect'
}

/** The output with `errors: collect`: every item's result in order (null for a failed one) and the failures. */
export interface ForeachCollected {
  results: unknown[]
  errors: (FailureRecord & { index: number })[]
}

export const MAX_CONCURRENCY = 64

/**
 * @example
 * - name: lines
 *   type: foreach
 *   config: { items: '${{ body.lines }}', concurrency: 4, errors: collect }
 *   do:
 *     - type: sql.exec
 *       config: { db: db, sql: 'INSERT INTO lines (sku, qty) VALUES (:sku, :qty)', params: { sku: '${{ item.sku }}', qty: '${{ item.qty }}' } }
 */
export default defineStepType<ForeachConfig>({
  type: 'foreach',
  description: 'Runs its do: block once per item of an array (item and index visible to the block), concurrency at a time; ' +
    'outputs the array of block results (errors: collect → { results, errors }).',
  block: 'steps',
  blockVariables: ['item', 'index'],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: {
      items: { description: 'the array to walk, usually an expression: ${{ body.lines }}; null or missing walks nothing' },
      concurrency: { type: 'integer', minimum: 1, maximum: MAX_CONCURRENCY, default: 1,
        description: 'how many items run at once (1: one after the other, in order)' },
      errors: { enum: ['failFast', 'collect'], default: 'failFast',
        description: 'failFast: the first failing item fails the step and aborts the others; collect: every item runs, ' +
          'the output is { results, errors } with null in results for a failed item' },
    },
  },
  create(config, ctx) {
    const items = ctx.compile(config.items)
    const block = ctx.block!
    const concurrency = config.concurrency ?? 1
    const collect = config.errors === 'collect'
    const label = stepLabel('foreach', ctx)
    return async (scope) => {
      const list = items(scope) ?? []
      if (!Array.isArray(list)) {
        throw new FlowError('ERR_FLOW_NOT_ARRAY', `${label}: items must be an array, got ${typeof list === 'object' ? 'an object' : typeof list}`,
          { details: { pipeline: ctx.pipeline, step: ctx.step } })
      }
      const child = childSignal(scope.signal)
      const results = new Array<unknown>(list.length).fill(null)
      const errors: ForeachCollected['errors'] = []
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < list.length && !child.signal.aborted) {
          const index = next++
          try {
            results[index] = await block.run(scope, { vars: { item: list[index], index }, signal: child.signal, label: index })
          } catch (error) {
            if (child.signal.aborted) return
            if (collect) {
              errors.push({ index, ...failureOf(error) })
              continue
            }
            // A caller's error (a fail step, a validation) keeps its status; anything else says which item it was.
            child.abort(isStepError(error) ? error : new FlowError('ERR_FLOW_ITEM_FAILED',
              `${label}: item ${index} failed: ${messageOf(error)}`, { cause: error, details: { pipeline: ctx.pipeline, step: ctx.step, index } }))
            return
          }
        }
      }
      try {
        const workers = Array.from({ length: Math.min(concurrency, list.length) }, worker)
        // Settles at the first failure or abort even when a sibling's step ignores the signal and hangs.
        await raceAbort(Promise.all(workers), child.signal)
      } finally {
        child.release()
      }
      if (!collect) return results
      errors.sort((a, b) => a.index - b.index)
      return { results, errors } satisfies ForeachCollected
    }
  },
})
