// The state plugin's error catalogue: stable codes for what state.machine and the state.* steps raise.
import { CodedError, StepError } from '@islet/sdk'

/** Operator-facing codes (config, store, lifecycle); tests and operators match codes, never message text. */
export const STATE_ERROR_CODES = {
  ERR_STATE_STORE: 'the state store (<dataDir>/state.db) could not be opened or written',
  ERR_STATE_NOT_STARTED: 'a machine was used before its module started or after it stopped',
  ERR_STATE_DEFINITION: 'a machine definition the config check would refuse reached create (a module made outside the loader)',
  ERR_STATE_EVENT_UNKNOWN: 'config: a state.transition step names a literal event no state of its machine has a transition on (islet validate)',
} as const

export type StateErrorCode = keyof typeof STATE_ERROR_CODES

/** Caller-facing codes, raised as `StepError`s so an HTTP route or a pipeline answers them as they are (status first). */
export const STATE_CALLER_ERROR_CODES = {
  ERR_STATE_TRANSITION_INVALID: '409: the event is not allowed from the instance\'s current state (details.allowed lists those that are; none from a terminal state)',
  ERR_STATE_GUARD_REJECTED: '409: every transition the event names from the current state has a guard, and none passed',
  ERR_STATE_INSTANCE_NOT_FOUND: '404: no instance of this machine has that id',
  ERR_STATE_INSTANCE_EXISTS: '409: create was given an id an instance of this machine already has',
  ERR_STATE_ACTION_FAILED: '500 (or the status the action pipeline ended with): an on-exit, action or on-enter pipeline failed; the transition was not committed',
  ERR_STATE_GUARD_FAILED: '500: a guard expression failed to evaluate (e.g. over its cost budget); the transition was not committed',
  ERR_STATE_CONFLICT: '503: the instance kept changing under this transition (other writers) past the retry budget; nothing was committed',
  ERR_STATE_REENTRANT: '409: a transition or create of an instance was asked for from inside a pipeline of that instance\'s own transition still in progress (it would wait for itself); do it after the commit (a subscriber, a queue job, a timeout)',
  ERR_STATE_BAD_REQUEST: '400: the request to a machine\'s HTTP routes is malformed (unknown query parameter, data not an object, bad id)',
} as const

export type StateCallerErrorCode = keyof typeof STATE_CALLER_ERROR_CODES

export class StateError extends CodedError<StateErrorCode> {}

/** A caller-facing refusal with its status and stable code. */
export function refusal(status: number, code: StateCallerErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown): StepError {
  return new StepError({ status, code, message, ...(details ? { details } : {}), ...(cause === undefined ? {} : { cause }) })
}
