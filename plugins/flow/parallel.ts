// The parallel step: runs its named branches at once; wait: all (every branch, the first failure aborts the rest)
// or first (the first branch to succeed wins, the rest are aborted). The output is keyed by branch name.
import { defineStepType, messageOf } from '@islet/sdk'
import { FlowError } from './errors.ts'
import { failureOf, stepLabel } from './outcome.ts'
import { childSignal, raceAbort } from './signals.ts'

export interface ParallelConfig {
  readonly wait?: 'all' | 'first'
}

/**
 * @example
 * - name: quotes
 *   type: parallel
 *   config: { wait: all }
 *   branches:
 *     fast: [ { type: component, config: { component: quote-fast } } ]
 *     cheap: [ { type: component, config: { component: quote-cheap } } ]
 */
export default defineStepType<ParallelConfig>({
  type: 'parallel',
  description: 'Runs its named branches: at once; wait: all outputs { <branch>: result, … } (the first failure aborts the ' +
    'others and fails the step), wait: first outputs { <winner>: result } and aborts the others.',
  block: 'branches',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      wait: { enum: ['all', 'first'], default: 'all',
        description: 'all: every branch must succeed; first: the first branch to succeed wins (fails only when every branch fails)' },
    },
  },
  create(config, ctx) {
    const branches = Object.entries(ctx.blocks!)
    const label = stepLabel('parallel', ctx)
    const waitFirst = config.wait === 'first'
    return async (scope) => {
      const child = childSignal(scope.signal)
      try {
        if (!waitFirst) {
          const results = await raceAbort(Promise.all(branches.map(([name, block]) => block.run(scope, { signal: child.signal, label: name })
            .catch((error: unknown) => {
              // Its siblings stop; the step fails with this branch's error as soon as the abort lands.
              if (!child.signal.aborted) child.abort(error)
              throw error
            }))), child.signal)
          return Object.fromEntries(branches.map(([name], i) => [name, results[i]]))
        }
        const failures: Record<string, unknown> = {}
        const winner = new Promise<Record<string, unknown>>((resolve, reject) => {
          let pending = branches.length
          for (const [name, block] of branches) {
            block.run(scope, { signal: child.signal, label: name }).then((value) => {
              resolve({ [name]: value })
              child.abort(new Error(`${label}: branch '${name}' finished first; the others were cancelled`))
            }, (error: unknown) => {
              failures[name] = error
              if (--pending > 0) return
              const listed = branches.map(([n]) => `${n}: ${messageOf(failures[n])}`).join('; ')
              reject(new FlowError('ERR_FLOW_BRANCHES_FAILED', `${label}: every branch failed (${listed})`,
                { cause: failures[branches[0]![0]], details: { pipeline: ctx.pipeline, step: ctx.step,
                  branches: Object.fromEntries(branches.map(([n]) => [n, failureOf(failures[n])])) } }))
            })
          }
        })
        return await raceAbort(winner, scope.signal)
      } finally {
        child.release()
      }
    }
  },
})
