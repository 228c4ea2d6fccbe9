// The sandbox boundary, both directions: what the engine (supervisor) asks of a worker process, what a worker asks
// of the engine on behalf of guest code. Everything crossing is JSON-safe; guest values travel as JSON strings.
import type { ArgumentCap } from './capabilities/capability.ts'
import type { GuestLogLineDto } from './capabilities/log/log-gate.ts'
import { CAPABILITIES, type HostOp } from './capabilities/list.ts'

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

/**
 * What the app granted a component, as its sandbox needs to know it: calls for anything else are refused inside the
 * isolate, never serialised or sent (the engine would refuse them only after reading their arguments off the pipe),
 * and caps a grant tightens apply before IPC (a fetch body: the grant's maxRequestBytes, not the 16 MiB transport
 * cap). Absent: everything is sent
 * and the engine decides (a bare sandbox in tests and benchmarks).
 */
export interface GrantedDto {
  ops: HostOp[]
  /** Argument caps the grants tighten (capability host `caps`: a fetch body to the grant's maxRequestBytes). */
  caps?: Partial<Record<HostOp, readonly ArgumentCap[]>>
}

/** What the guest's default export declared, minus its functions. */
export interface ComponentMetaDto {
  name: string
  description?: string
  config?: unknown
  input?: unknown
  output?: unknown
  limits?: Record<string, number>
  /** What the definition asks for (sdk ComponentCapabilities), unchecked: a slot's ceiling check vets it. */
  capabilities?: unknown
  examples?: { name?: string; input: unknown; output?: unknown; error?: string }[]
  hasInit: boolean
}

/** Engine → worker: one message, or the messages of one turn of the engine's event loop as a list, in order. */
export type SupervisorMessage =
  /** Create the isolate of one component generation and evaluate its code (not its init). */
  | { t: 'load'; key: string; code: string; memoryMb: number; loadTimeoutMs: number; config: string; name: string; generation: number; granted?: GrantedDto }
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

/** Worker → engine: one message, or the messages of one turn of the worker's event loop as a list, in order. */
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
  | { t: 'stats'; id: number; rss: number; heapUsed: number; isolates: number; external: number; invocations: number; hostCalls: number; spare: boolean }
  /** The worker dropped these host calls (their invocation was cancelled or its isolate reset): abort them. */
  | { t: 'host-cancel'; ids: number[] }

// Owned by the log gate that makes them; here for both ends of the channel.
export type { GuestLogLineDto } from './capabilities/log/log-gate.ts'

export type { ArgumentCap, HostOp }

/** An argument of an operation missing from the table below (or past its listed arguments) gets this cap. */
export const DEFAULT_ARGUMENT_CAP: ArgumentCap = { name: 'argument', max: 1024 }

/**
 * Per operation, its arguments in order, as each capability declares them (capabilities/<name>/index.ts), sized from
 * its own limits: a call within them is never refused here. Every operation has a row; an argument past a row's list
 * is capped by DEFAULT_ARGUMENT_CAP.
 */
export const HOST_ARGUMENT_CAPS: Readonly<Record<HostOp, readonly ArgumentCap[]>> =
  Object.freeze(Object.assign({}, ...CAPABILITIES.map((c) => c.ops)))

/** The caps of `op`'s arguments; none for an operation that does not exist (its arguments get the default cap). */
export function argumentCaps(op: string): readonly ArgumentCap[] {
  return Object.hasOwn(HOST_ARGUMENT_CAPS, op) ? HOST_ARGUMENT_CAPS[op as HostOp] : []
}

/** `op`'s caps, as the component's grant tightened them (a fetch body held to maxRequestBytes) or as declared. */
export function grantedCaps(op: string, granted: GrantedDto | undefined): readonly ArgumentCap[] {
  const tightened = granted?.caps
  return tightened !== undefined && Object.hasOwn(tightened, op) ? tightened[op as HostOp]! : argumentCaps(op)
}

/**
 * The largest JSON text of a call's whole argument array the worker lets through (its re-check): each string cap
 * escaped at worst (`\u0000` is 6 characters for 1), plus the punctuation between them.
 */
export function argumentsJsonLimit(op: string, count: number, caps: readonly ArgumentCap[] = argumentCaps(op)): number {
  const bound = (cap: ArgumentCap): number =>
    cap.fields ? Object.entries(cap.fields).reduce((sum, [key, f]) => sum + bound(f) + key.length + 4, 2) : cap.max * 6 + 2
  let total = 2
  for (let i = 0; i < count; i++) total += bound(caps[i] ?? DEFAULT_ARGUMENT_CAP) + 1
  return total
}

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
