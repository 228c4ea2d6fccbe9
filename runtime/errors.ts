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
  ERR_CONFIG_DUPLICATE_COMPONENT: 'two components share a name',
  ERR_CONFIG_DUPLICATE_SANDBOX: 'more than one file has a sandbox: section',
  ERR_CONFIG_COMPONENT_NOT_FOUND: 'a components: file or directory does not exist, or is not a file or directory as its key says',
  ERR_CONFIG_COMPONENTS_EMPTY: 'a components: directory holds no component (a warning)',
  ERR_CONFIG_PATH_OUTSIDE: 'a path in the config leads outside the app folder (a database file: outside the data directory), as written or through a symlink',
  ERR_CONFIG_ENV_MISSING: 'an environment variable is unset and has no default',
  ERR_CONFIG_ENV_SYNTAX: 'a malformed ${…} environment reference',
  ERR_CONFIG_SCHEMA: 'a value does not match the schema',
  ERR_CONFIG_UNKNOWN_KEY: 'a key the schema does not allow',
  ERR_CONFIG_UNKNOWN_MODULE_TYPE: 'no registered plugin provides this module type',
  ERR_CONFIG_UNKNOWN_STEP_TYPE: 'no registered plugin provides this step type',
  ERR_CONFIG_UNKNOWN_REFERENCE: 'a reference to a module, pipeline or component that is not declared',
  ERR_CONFIG_MODULE_CONTRACT: 'a moduleRef names a module whose type does not provide the contract that property asks for (e.g. a router listed under middleware)',
  ERR_CONFIG_ROUTE_UNAUTHENTICATED: "a route has requires: but a server serving it lists no middleware that provides http.authenticator, so no request could pass",
  ERR_CONFIG_EXPRESSION: 'a runtime expression ${{ … }} does not parse, or names an unknown variable or function',
  ERR_CONFIG_TRIGGER_VARIABLE: "a pipeline's expression reads a variable that a trigger running it does not have (e.g. ${{ body }} in a pipeline an event runs: use ${{ input }})",
  ERR_CONFIG_STEP_CHECK: "a step type's own check refused a config its schema accepts (e.g. a validate step's JSON Schema with a pattern RE2 cannot run)",
  ERR_CONFIG_MODULE_CHECK: "a module type's own check refused a config its schema accepts (e.g. a state machine transition to a state it does not declare, a schedule's cron expression); as a warning, something likely unintended (an unreachable state)",
  ERR_CONFIG_STEP_BLOCK: "a block step without its block (foreach without do:, parallel without branches:), or a do:/branches: on a step type that takes none",
  ERR_CONFIG_INVALID: 'the config has errors (see diagnostics)',
  // Plugins
  ERR_PLUGIN_ENGINE_MISMATCH: 'a plugin needs another version of the engine',
  ERR_PLUGIN_CONFLICT: 'two plugins register the same module or step type',
  ERR_PLUGIN_INVALID: 'a plugin declaration is malformed (e.g. it lists a service the engine does not offer)',
  ERR_PLUGIN_SERVICE_UNDECLARED: "a module or step asked ctx.service for an engine service its plugin does not list in definePlugin({ services })",
  ERR_PLUGIN_NOT_FOUND: 'a plugins: entry names a package that is not installed in the app folder, or a path with no plugin module',
  ERR_PLUGIN_LOAD_FAILED: "a plugin's module did not parse, threw while being imported, or exports no definePlugin(…) object",
  ERR_PLUGIN_HOST_NOT_ALLOWED: "a registry plugin ships host code (module/step/trigger types) but its plugins: entry does not say host: true",
  ERR_PLUGIN_SERVICES_NOT_ALLOWED: "a registry plugin's host code uses engine services its plugins: entry does not allow (services:)",
  ERR_PLUGIN_CAPABILITIES_NOT_GRANTED: "a plugin's component requests capabilities beyond the grants its components: entry gives",
  ERR_PLUGIN_LOCK_DRIFT: 'islet.lock does not match plugins: (missing, out of range, extra, or from another registry than its scope is bound to); an error under --frozen-lockfile, else a warning as the lock is updated',
  ERR_PLUGIN_DEPRECATED: 'warning: a locked registry plugin version is deprecated by its publisher (it still loads)',
  ERR_PLUGIN_YANKED: 'warning: a locked registry plugin version is yanked (it loads because the lock pins it; no range chooses it again)',
  ERR_PLUGIN_MANIFEST: "a registry plugin's package.json lacks a usable islet field, or names a component, YAML file or host module it does not hold",
  ERR_PLUGIN_VERSION_MISMATCH: "the plugin loaded is not in the version range its plugins: entry asks for",
  ERR_PLUGIN_UNKNOWN: "a plugin name no registry the app binds knows (did-you-mean from the registry's search)",
  ERR_PLUGIN_SIGNATURE: "a plugin version is unsigned, signed by a key its registry does not publish or the lock does not pin, or its bytes or signature do not verify",
  ERR_CONFIG_DUPLICATE_PLUGIN: 'two plugins: entries load plugins of the same name',
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
  ERR_MODULE_CONTRACT_UNMET: "a module's instance lacks a member (or has one of the wrong kind) of a contract its type declares in provides",
  ERR_MODULE_CONTRACT_MISMATCH: 'a module or step asked for a module as a contract (ctx.module(ref, contract)) its type does not declare in provides',
  ERR_ENGINE_START_FAILED: 'startup failed; everything already started was stopped',
  ERR_ENGINE_STATE: 'an engine method was called in a state that does not allow it',
  ERR_CONFIG_RELOAD_NEEDS_RESTART: 'a config reload met a change only a restart can apply (e.g. the first component); the previous generation keeps serving',
  // Admin API (runtime/admin)
  ERR_ADMIN_AUTH_REQUIRED: "an admin request without a token that the loopback convenience does not cover (the server listens beyond loopback, the peer is remote, or proxy headers are present; details.reason), or with credentials none of the islet.admin module's auth: recognises",
  ERR_ADMIN_FORBIDDEN: "the admin request's principal lacks the scope the route needs (status and events: admin or admin:read; a slot: admin or one of its deployers; details.needs)",
  // Deploy slots (runtime/slots): refusals carry details.status, the HTTP status the admin API answers with
  ERR_SLOT_UNKNOWN: 'no deploy slot of that name is declared (404)',
  ERR_SLOT_VERSION_UNKNOWN: 'the slot has no version of that id (404)',
  ERR_SLOT_EMPTY: 'a pipeline called a deploy slot no version of which is live yet (503): deploy and promote one',
  ERR_SLOT_CEILING: "deployed code asks for more than its slot grants (a capability, origin, topic or a limit above the slot's)",
  ERR_SLOT_EXAMPLES_REQUIRED: 'a deployment without examples, to a slot whose examples: is required (the default)',
  ERR_SLOT_PROMOTE_FAILED: 'a version could not be made live (compile, load, init or examples failed in the component host); the live version keeps serving (409)',
  ERR_SLOT_STORE: 'the slot store (<dataDir>/slots) could not be read or written',
  ERR_SLOT_BUSY: 'a slot already has as many deploys, promotions and rollbacks waiting as it queues (429): retry when they are done',
  ERR_DEPLOY_FILES: 'a deployment\'s files are unusable: a path absolute or with .., a disallowed extension, too many or too large, the entry missing',
  ERR_DEPLOY_INVALID: 'a deployment was refused as a whole: it did not validate (422; its diagnostics say why)',
  // Admin slot routes (runtime/admin/slots-routes.ts) and `islet deploy`
  ERR_ADMIN_BAD_REQUEST: "an admin API request's body or query is malformed (400; details.field names it, the message how to fix it)",
  ERR_ADMIN_NOT_FOUND: 'no admin route has this path (404; the message lists the slot routes)',
  ERR_ADMIN_METHOD_NOT_ALLOWED: 'an admin route was asked with a method it does not take (405 with Allow)',
  ERR_CLI_UNREACHABLE: "a command could not reach the server its --url names (connection refused, unknown host, timeout)",
  ERR_CLI_BAD_RESPONSE: "the server a command's --url names answered with something other than the admin API's JSON (wrong URL or port?)",
  // MCP server (runtime/mcp: `islet mcp` and /admin/mcp)
  ERR_MCP_TOOL_UNKNOWN: 'an MCP client called a tool the Islet MCP server does not have (tools/list names them)',
  ERR_MCP_TOOL_INPUT: "an MCP tool call's arguments do not match the tool's input schema (the problems are listed)",
  ERR_MCP_ORIGIN: "/admin/mcp refused a request made by a web page of a non-loopback origin (Origin header), token or not",
  // Pipelines
  ERR_PIPELINE_STEP_CREATE_FAILED: 'a step type threw while compiling a step',
  ERR_PIPELINE_STEP_CREATE_TIMEOUT: "a step type's create did not finish within the create deadline (details name the pipeline, step and location)",
  ERR_PIPELINE_UNKNOWN_TRIGGER: 'a pipeline run names a trigger type no registered plugin declares',
  ERR_PIPELINE_VIEW_UNDECLARED: "a pipeline run's view carries a variable its trigger type does not declare",
  ERR_PIPELINE_BLOCK_ASYNC: "a step inside a block that must not yield (sql.transaction) returned a promise",
  ERR_PIPELINE_PIPELINE_NOT_ACCESSIBLE: "a step asked for a pipeline its config does not reference through a pipelineRef",
  ERR_STEP_FAILED: 'a step threw an unexpected error (reported as a 500 without internals)',
  ERR_EXPRESSION_EVAL: 'a runtime expression failed while evaluating',
  // Executions (runtime/executions): refusals carry details.status, the HTTP status the routes answer with
  ERR_EXECUTION_UNKNOWN: 'no recorded execution has that id (404): it never existed or retention pruned it',
  ERR_EXECUTION_PIPELINE_UNKNOWN: 'an execution was asked for a pipeline the app does not declare (404)',
  ERR_EXECUTION_ENDED: 'cancel was asked of an execution that already ended (409; details.executionStatus says how)',
  ERR_EXECUTION_CANCELLED: 'a recorded execution was cancelled (its run\'s signal aborts with this reason)',
  ERR_EXECUTION_INTERRUPTED: 'the engine process running an execution stopped before it ended (shutdown past its deadline, or a crash found at the next start)',
  ERR_EXECUTION_RETENTION: 'an ISLET_EXECUTIONS_* environment variable is malformed (the message says what to write)',
  ERR_EXECUTION_STORE: 'the execution store (<dataDir>/executions.db) could not be read or written',
  // Capabilities (host calls a sandboxed component makes)
  ERR_CAPABILITY_DENIED: 'a component used a capability it was not granted, or outside its grant (details.reason says which rule)',
  ERR_CAPABILITY_QUOTA: "a component's write would take its kv namespace past its quota (bytes or keys, from its grant); nothing was written",
  ERR_CAPABILITY_CONFLICT: 'a kv compare-and-set found another version than expected, or kv.increment found a value that is not a number; nothing was written',
  ERR_CAPABILITY_ARGUMENT_TOO_LARGE: 'a capability call argument (kv key or value, topic, payload, secret name, fetch field) was over its size cap; refused inside the sandbox, never sent to the engine',
  ERR_GLOBAL_ARGUMENT_TOO_LARGE: 'a web global inside the sandbox (URL, crypto.subtle) was given an argument over its cap (a URL over 1 MiB characters, data over 16 MiB); refused before anything was copied',
  ERR_EVENT_TOPIC_RESERVED: 'a component or plugin published under islet.*: those topics are the engine\'s own (config and component events); anyone may subscribe to them',
  ERR_EVENT_TOPIC_INVALID: 'an event topic is not dotted segments of a-z, 0-9, _ and - (at most 255 characters); emitted topics never hold wildcards',
  ERR_CAPABILITY_GRANT_INVALID: 'a capability grant is malformed (e.g. a fetch origin that is not scheme://host[:port])',
  ERR_FETCH_INVALID_REQUEST: 'a component passed a malformed fetch request (unparseable URL, bad header, non-string body)',
  ERR_FETCH_FAILED: 'a granted fetch did not complete: network error, timeout, abort or too many redirects',
  ERR_FETCH_TOO_LARGE: 'a fetch request or response exceeded its size cap',
  // The outbound service (runtime/outbound: plugins' HTTP through the fetch capability's SSRF guard); details.reason as for fetch
  ERR_OUTBOUND_DENIED: "an outbound request's origin (or a redirect's) is not in the call's allow list, its host is or resolves to a non-public address not granted in privateOrigins, or it breaks a URL rule (scheme, credentials, method)",
  ERR_OUTBOUND_FAILED: 'an outbound request did not complete: network error, timeout, abort, or too many or broken redirects',
  ERR_OUTBOUND_TOO_LARGE: 'an outbound request body or response body exceeded its size cap',
  ERR_OUTBOUND_INVALID: 'an outbound request is malformed (unparseable URL, bad header) or its options are (an allow origin that is not scheme://host[:port], a limit out of range)',
  // Sandbox and components (invocation outcomes; see runtime/sandbox/protocol.ts)
  ERR_SANDBOX_TIMEOUT: 'an invocation outlived its wall-clock deadline; its isolate was disposed',
  ERR_SANDBOX_CPU_LIMIT: 'an invocation used more CPU time than its budget; its isolate was disposed',
  ERR_SANDBOX_MEMORY_LIMIT: 'a component exceeded its isolate memory limit (its isolate was disposed), or its worker process went over its memory ceiling (the worker was killed)',
  ERR_SANDBOX_OUTPUT_LIMIT: 'a component returned more output bytes (UTF-8 JSON) than allowed; serialising stops at the cap',
  ERR_SANDBOX_INPUT_LIMIT: 'the input to a component is larger than allowed',
  ERR_SANDBOX_HOST_CALL_LIMIT: 'an invocation made more capability calls (or worker-side URL/crypto calls, 10,000) than allowed; its isolate was disposed',
  ERR_SANDBOX_CRASHED: 'the sandbox worker or isolate running the call went away; the call was lost',
  ERR_SANDBOX_WORKER_LOST: "the call was lost with its sandbox worker, which another component's call took down, the engine killed (stuck, over its memory ceiling, compromised) or something outside the engine stopped; or the sandbox was stopping; never a breach of this component",
  ERR_SANDBOX_CANCELLED: 'the caller gave up on an invocation (request timeout, client gone); it was stopped, and it is not a limit breach',
  ERR_SANDBOX_WORKER_FORGED: 'a sandbox worker sent a host call or log line for a component the engine never placed in it, or a message the engine cannot handle (an isolate escape): refused, logged with its pid, and the worker killed',
  ERR_SANDBOX_TIMER: "a component's setTimeout (or AbortSignal.timeout) was refused: called outside an invocation (module top level), a delay past the invocation's deadline, or over 100 pending timers in one invocation",
  ERR_SANDBOX_NOT_LOADED: 'internal: a worker was asked to run a component it has not loaded (the supervisor reloads it)',
  ERR_COMPONENT_THREW: 'the component threw or rejected (message and details.location name its own file:line:col when known)',
  ERR_COMPONENT_LOAD_FAILED: "a component's code failed while being loaded (module evaluation, definition)",
  ERR_COMPONENT_INPUT_INVALID: "the input does not match the component's input schema",
  ERR_COMPONENT_OUTPUT_INVALID: "the component's output does not match its output schema, or holds a value JSON cannot carry (details: path, found, hint)",
  ERR_COMPONENT_CONFIG_INVALID: "the config given to a component in YAML does not match the component's config schema",
  ERR_COMPONENT_QUARANTINED: 'the component keeps breaching its limits and is refused for a back-off period',
  ERR_COMPONENT_NOT_FOUND: 'no component with that name is loaded',
  ERR_COMPONENT_EXAMPLE_FAILED: "one of a generation's own examples (run before it serves: at start and on every reload) did not give its expected output or error code; on a reload the previous generation keeps serving",
  // Component compilation (runtime/components/compile.ts; each diagnostic carries one of these)
  ERR_COMPONENT_COMPILE: 'a component does not compile (see its diagnostics), e.g. it has no default export',
  ERR_COMPONENT_SYNTAX: 'a component file does not parse, or imports a name the imported file does not export',
  ERR_COMPONENT_IMPORT: 'a component reaches beyond @islet/sdk and the .ts/.mts/.js/.mjs/.json files of its own folder (require, dynamic import and import.meta included)',
  ERR_COMPONENT_SOURCE_NOT_FOUND: "a component's entry, or a file it imports, does not exist or cannot be read",
  ERR_COMPONENT_TOO_LARGE: "a component's sources or its bundle are larger than the cap",
  // Deploy validation (runtime/slots/validate.ts)
  ERR_COMPONENT_TYPE: 'the TypeScript type check of a component failed (the TS code, e.g. TS2322, is in the message)',
  ERR_COMPONENT_FLOATING_PROMISE: 'a promise (a ctx.kv write, ctx.emit, …) is neither awaited nor returned: its work may be cut off when the invocation ends',
  ERR_COMPONENT_SHAPE: 'the default export is not a component definition object (e.g. a class or a function): export default defineComponent({...})',
  // CLI
  ERR_CLI_USAGE: 'the command line is malformed (unknown command or option, missing or extra argument); exit status 2',
  ERR_CLI_CONFIRM: 'a command that changes what an app trusts was not confirmed: off a terminal it needs --yes (nothing was changed)',
  ERR_CLI_REGISTRY: "a registry refused what the command asked (its status, npm error code and hint are in the message)",
  ERR_CLI_UNAVAILABLE: 'a command needs a part of islet this build does not have (e.g. the registry server)',
  ERR_CLI_OUTPUT: 'a file the command was asked to write cannot be written (its folder is missing, not writable, …)',
  ERR_NODE_VERSION: 'the Node.js running Islet is older than 24',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

/** The one error class of the runtime: a stable `code`, a human message, structured `details` and a `cause`. */
export class IsletError extends CodedError<ErrorCode> {}

export function isIsletError(error: unknown, code?: ErrorCode): error is IsletError {
  return error instanceof IsletError && (code === undefined || error.code === code)
}

/**
 * The `ERR_*` code of anything thrown, else `fallback`. Only `ERR_*` codes are reported as codes: a foreign one
 * (ENOENT, SQLITE_BUSY, …) stays in the message and the cause, and a thrown non-object has no code at all.
 */
export function codeOf<F extends string>(error: unknown, fallback: F): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' && /^ERR_[A-Z0-9_]+$/.test(code) ? code : fallback
}

/** A message for anything thrown, including what is not an Error (`throw undefined`, `throw 'x'`, `throw null`). */
export function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message || error.name
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined
  if (typeof message === 'string' && message !== '') return message
  return `threw ${shown(error)} (not an Error)`
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value)
  if (typeof value === 'function') return `a function ${value.name || '(anonymous)'}`
  if (typeof value !== 'object' || value === null) return String(value)
  try {
    const json = JSON.stringify(value)
    return json.length > 200 ? `${json.slice(0, 200)}…` : json
  } catch {
    return Object.prototype.toString.call(value)
  }
}

export { messageOf }
