// The built-in `flow` plugin: block steps (foreach, parallel, retry, timeout), delay and call, and the `call`
// trigger, declared through the public sdk only.
import { definePlugin } from '@islet/sdk'
import call, { callTrigger } from './call.ts'
import delay from './delay.ts'
import foreach from './foreach.ts'
import parallel from './parallel.ts'
import retry from './retry.ts'
import timeout from './timeout.ts'

export { FLOW_ERROR_CODES, FlowError, type FlowErrorCode } from './errors.ts'
export type { ForeachConfig, ForeachCollected } from './foreach.ts'
export type { ParallelConfig } from './parallel.ts'
export type { DelayConfig } from './delay.ts'
export type { RetryConfig } from './retry.ts'
export type { TimeoutConfig } from './timeout.ts'
export type { CallConfig } from './call.ts'

export default definePlugin({
  name: 'flow',
  version: '0.1.0',
  islet: '^0.1.0',
  description: 'Flow steps: foreach, parallel, retry, timeout (blocks), delay and call (another pipeline as a subroutine).',
  stepTypes: [foreach, parallel, retry, timeout, delay, call],
  triggers: [callTrigger],
})
