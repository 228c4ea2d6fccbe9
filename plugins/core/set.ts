// The `set` step: evaluates a template; its output (kept as `steps.<name>`) is the value.
import { defineStepType } from '@islet/sdk'

export interface SetConfig {
  readonly value: unknown
}

/**
 * @example
 * - name: order
 *   type: set
 *   config:
 *     value: { id: '${{ uuid() }}', sku: '${{ body.sku }}', createdAt: '${{ now() }}' }
 */
export default defineStepType<SetConfig>({
  type: 'set',
  description: 'Evaluates `value` (any template: a literal, an expression, or objects and arrays holding them) ' +
    'and outputs it, for later steps to read as steps.<name>.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['value'],
    properties: {
      value: { description: 'the output: any value; strings may hold ${{ … }} expressions' },
    },
  },
  create(config, ctx) {
    // The compiled template has exactly a step's signature: no wrapper, nothing extra per run.
    return ctx.compile(config.value)
  },
})
