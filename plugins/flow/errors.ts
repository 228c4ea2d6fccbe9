// The flow plugin's error catalogue. What a caller should see (a timeout, a call's input that does not match) is a
// StepError carrying one of these codes; the rest are the app's own bugs, reported as 500s naming the step.
import { CodedError } from '@islet/sdk'

/** Stable codes and what each means; tests and operators match codes, never message text. */
export const FLOW_ERROR_CODES = {
  ERR_FLOW_NOT_ARRAY: "foreach's `items` evaluated to something other than an array (null and missing count as [])",
  ERR_FLOW_ITEM_FAILED: 'a foreach item failed (errors: failFast); details name the item index',
  ERR_FLOW_BRANCHES_FAILED: 'every branch of a parallel with wait: first failed',
  ERR_FLOW_TIMEOUT: "504: a timeout step's block did not finish within its duration; the block was aborted",
  ERR_FLOW_RETRY_EXHAUSTED: "a retry step's block failed on every attempt (the last error is the cause)",
  ERR_FLOW_DURATION: 'a duration (delay, timeout, backoff) is not a number of ms or text like 250ms, 2s, 1m, 1h',
  ERR_FLOW_CALL_INPUT: "400: the input a call step passes does not match the called pipeline's inputSchema",
  ERR_FLOW_CALL_OUTPUT: "the called pipeline's output does not match the call step's outputSchema",
  ERR_FLOW_CALL_DEPTH: 'calls nested deeper than maxDepth (a pipeline calling itself without end)',
  ERR_FLOW_SCHEMA_INVALID: "a call step's inputSchema or outputSchema is not a valid JSON Schema (raised when the step is compiled)",
} as const

export type FlowErrorCode = keyof typeof FLOW_ERROR_CODES

export class FlowError extends CodedError<FlowErrorCode> {}
