// The runtime's error catalogue: every error the engine raises carries one of these stable codes.
import { CodedError, messageOf } from '@islet/sdk'

/** Stable codes and what each means; tests and operators match codes, never message text. */
export const ERROR_CODES = {
  // Config files
  ERR_CONFIG_FILE_NOT_FOUND: 'a config file (or an imported one) does not exist or cannot be read',
  ERR_CONFIG_TOO_LARGE: 'a config file is larger than the cap',
  ERR_CONFIG_YAML_SYNTAX: 'the YAML does not parse',
  ERR_CONFIG_DUPLICATE_KEY: 'a mapping has the same key twice',
  ERR_CONFIG_TAG: 'a YAML tag other than the core schema ones (custom tags are rejected)',
  ERR_CONFIG_ALIAS_LIMIT: 'too many YAML aliases (resource-exhaustion guard)',
  ERR_CONFIG_VERSION: 'missing or unsupported apiVersion',
  ERR_CONFIG_IMPORT_CYCLE: 'imports form a cycle',
  ERR_CONFIG_DUPLICATE_MODULE: 'two modules share a name',
  ERR_CONFIG_DUPLICATE_PIPELINE: 'two pipelines share a name',
  ERR_CONFIG_DUPLICATE_STEP: 'two steps of one pipeline share a name',
  ERR_CONFIG_ENV_MISSING: 'an environment variable is unset and has no default',
  ERR_CONFIG_ENV_SYNTAX: 'a malformed ${…} environment reference',
  ERR_CONFIG_SCHEMA: 'a value does not match the schema',
  ERR_CONFIG_UNKNOWN_KEY: 'a key the schema does not allow',
  ERR_CONFIG_UNKNOWN_MODULE_TYPE: 'no registered plugin provides this module type',
  ERR_CONFIG_UNKNOWN_STEP_TYPE: 'no registered plugin provides this step type',
  ERR_CONFIG_UNKNOWN_REFERENCE: 'a reference to a module or pipeline that is not declared',
  ERR_CONFIG_EXPRESSION: 'a runtime expression ${{ … }} does not parse, or names an unknown variable or function',
  ERR_CONFIG_INVALID: 'the config has errors (see diagnostics)',
  // Plugins
  ERR_PLUGIN_ENGINE_MISMATCH: 'a plugin needs another version of the engine',
  ERR_PLUGIN_CONFLICT: 'two plugins register the same module or step type',
  ERR_PLUGIN_INVALID: 'a plugin declaration is malformed',
  // Module graph and lifecycle
  ERR_MODULE_GRAPH_CYCLE: 'module dependencies form a cycle',
  ERR_MODULE_CREATE_FAILED: 'a module threw while being created',
  ERR_MODULE_CREATE_TIMEOUT: 'a module did not finish creating within its deadline',
  ERR_MODULE_START_FAILED: 'a module threw while starting',
  ERR_MODULE_START_TIMEOUT: 'a module did not start within its deadline',
  ERR_MODULE_STOP_FAILED: 'a module threw while stopping',
  ERR_MODULE_STOP_TIMEOUT: 'a module did not stop within its deadline',
  ERR_MODULE_DEPENDENCY_FAILED: 'a module was not started because a dependency failed',
  ERR_MODULE_NOT_ACCESSIBLE: 'a module asked for a module or pipeline it does not depend on',
  ERR_ENGINE_START_FAILED: 'startup failed; everything already started was stopped',
  ERR_ENGINE_STATE: 'an engine method was called in a state that does not allow it',
  // Pipelines
  ERR_PIPELINE_STEP_CREATE_FAILED: 'a step type threw while compiling a step',
  ERR_STEP_FAILED: 'a step threw an unexpected error (reported as a 500 without internals)',
  ERR_EXPRESSION_EVAL: 'a runtime expression failed while evaluating',
  // CLI
  ERR_CLI_USAGE: 'the command line is malformed',
  ERR_NODE_VERSION: 'the Node.js running Islet is older than 24',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

/** The one error class of the runtime: a stable `code`, a human message, structured `details` and a `cause`. */
export class IsletError extends CodedError<ErrorCode> {}

export function isIsletError(error: unknown, code?: ErrorCode): error is IsletError {
  return error instanceof IsletError && (code === undefined || error.code === code)
}

export { messageOf }
