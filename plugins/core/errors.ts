// The core plugin's error catalogue. Its steps end pipelines with StepErrors the caller sees; these codes are for
// the app's own bugs (a bad schema, a computed status or header that cannot be sent), which are 500s to the caller.
import { CodedError } from '@islet/sdk'

/** Stable codes and what each means; tests and operators match codes, never message text. */
export const CORE_ERROR_CODES = {
  ERR_CORE_SCHEMA_INVALID: "a validate step's schema is not a valid JSON Schema (raised when the step is compiled)",
  ERR_CORE_SCHEMA_UNSAFE: "a validate step's schema could stall the engine: too large, too deep, or a pattern the linear-time engine (RE2) cannot run",
  ERR_CORE_STATUS_INVALID: 'a status computed by an expression is not an integer in the range the step allows (raised per run)',
  ERR_CORE_HEADER_INVALID: 'a header value computed by respond would contain a line break (raised per run)',
} as const

export type CoreErrorCode = keyof typeof CORE_ERROR_CODES

export class CoreError extends CodedError<CoreErrorCode> {}
