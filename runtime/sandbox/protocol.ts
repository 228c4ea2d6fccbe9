// The sandbox boundary, both directions: what the engine (supervisor) asks of a worker process, what a worker asks
// of the engine on behalf of guest code. Everything crossing is JSON-safe; guest values travel as JSON strings.

/** An error as it crosses the boundary: a stable code and a message already safe for callers. */
export interface ErrorDto {
  code: string
  message: string
  /**
   * Caller-safe structure, e.g. `{ issues }` for schema mismatches, `{ path, found, hint }` for output JSON cannot
   * carry. Worker → engine only, removed by the component host before anyone else sees them: `frames` (guest stack
   * positions in the compiled script, [line, col][], top first, at most 10) and `client` (what a thrown StepError
   * asked to answer: { status, code, details?, detailsRefused? }, unchecked until the engine checks it).
   */
  details?: Record<string, unknown>
}

/** Limits one invocation runs under, as the worker enforces them. */
export interface InvocationLimitsDto {
  timeoutMs: number
  cpuMs: number
  hostCalls: number
  outputBytes: number
}

/** What the guest's default export declared, minus its functions. */
export interface ComponentMetaDto {
  name: string
  description?: string
  config?: unknown
  input?: unknown
  output?: unknown
  limits?: Record<string, number>
  examples?: { name?: string; input: unknown; output?: unknown; error?: string }[]
  hasInit: boolean
}

/** Engine → worker. */
export type SupervisorMessage =
  /** Create the isolate of one component generation and evaluate its code (not its init). */
  | { t: 'load'; key: string; code: string; memoryMb: number; loadTimeoutMs: number; config: string; name: string; generation: number }
  /** Run `execute` (or `init`) of a loaded component. `input` is JSON text. */
  | { t: 'invoke'; id: number; key: string; kind: 'execute' | 'init'; input: string; limits: InvocationLimitsDto }
  /** The answer to a guest's host call. `value` is JSON text. */
  | { t: 'host-result'; id: number; ok: true; value: string }
  | { t: 'host-result'; id: number; ok: false; error: ErrorDto }
  | { t: 'unload'; key: string }
  | { t: 'stats'; id: number }
  /**
   * The caller gave up on invocation `id` (request timeout, client gone): the worker ends it with
   * ERR_SANDBOX_CANCELLED, unless its answer is already on the way (first wins), and forgets its host calls.
   */
  | { t: 'cancel'; id: number }

/** Worker → engine. */
export type WorkerMessage =
  | { t: 'ready'; pid: number }
  | { t: 'loaded'; key: string; meta: ComponentMetaDto; ms: number }
  | { t: 'load-failed'; key: string; error: ErrorDto }
  | { t: 'result'; id: number; output: string; cpuMs: number }
  | { t: 'error'; id: number; error: ErrorDto; cpuMs: number }
  /** A guest capability call on behalf of invocation `invocation`. `args` is JSON text of an array. */
  | { t: 'host-call'; id: number; invocation: number; key: string; op: HostOp; args: string }
  /** Log lines a component wrote, already rate- and size-limited; `dropped` counts what the limit discarded. */
  | { t: 'log'; key: string; lines: GuestLogLineDto[]; dropped: number }
  | { t: 'stats'; id: number; rss: number; heapUsed: number; isolates: number; external: number; invocations: number; hostCalls: number }
  /** The worker dropped these host calls (their invocation was cancelled or its isolate reset): abort them. */
  | { t: 'host-cancel'; ids: number[] }

export interface GuestLogLineDto {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  /** JSON text of an object, or undefined. */
  fields?: string
}

/** Every capability operation a guest may attempt; the engine checks each against the component's grants. */
export const HOST_OPS = ['kv.get', 'kv.getEntry', 'kv.set', 'kv.increment', 'kv.delete', 'kv.list', 'fetch', 'emit', 'secrets.get'] as const
export type HostOp = (typeof HOST_OPS)[number]

/** Error codes of the sandbox, as they appear in `ErrorDto.code` and on the engine side. */
export const SANDBOX_ERRORS = {
  timeout: 'ERR_SANDBOX_TIMEOUT',
  cpu: 'ERR_SANDBOX_CPU_LIMIT',
  memory: 'ERR_SANDBOX_MEMORY_LIMIT',
  output: 'ERR_SANDBOX_OUTPUT_LIMIT',
  hostCalls: 'ERR_SANDBOX_HOST_CALL_LIMIT',
  crashed: 'ERR_SANDBOX_CRASHED',
  threw: 'ERR_COMPONENT_THREW',
  denied: 'ERR_CAPABILITY_DENIED',
  load: 'ERR_COMPONENT_LOAD_FAILED',
  cancelled: 'ERR_SANDBOX_CANCELLED',
} as const
