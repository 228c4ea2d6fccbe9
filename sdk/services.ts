// Engine services: what the engine offers plugins beyond their own config. A plugin names the services it uses in
// `definePlugin({ services })`; `ctx.service(name)` hands out only those, to built-ins and third parties alike.
import type { AbortSignalLike, Pipeline, PipelineResponse, RunInput } from './pipeline.ts'
import type { Logger } from './logger.ts'
import type { Principal } from './auth.ts'
import type { Diagnostic } from './diagnostic.ts'
import type { HttpContext } from './http.ts'

/** One event on the engine's bus. */
export interface BusEvent {
  /** Dotted lower-case segments, e.g. `orders.created`; `islet.*` topics are the engine's own. */
  readonly topic: string
  readonly payload: unknown
  /** Who published it, e.g. `component:price-quote`, `module:audit`, `engine`. */
  readonly source: string
  /** ISO timestamp. */
  readonly at: string
}

/** The event bus: app events (components emit, modules publish) and the engine's own (`islet.config.*`, `islet.component.*`). */
export interface EventsService {
  /** Publishes under this module's or step's name as source. Topics outside the grammar are refused. */
  publish(topic: string, payload: unknown): void
  /**
   * Calls `handler` for every event whose topic matches `pattern` (a topic, or `prefix.*` for a subtree),
   * asynchronously. Subscriptions end by themselves when the module stops (or the step's config generation ends);
   * the returned function ends one earlier.
   */
  subscribe(pattern: string, handler: (event: BusEvent) => void | Promise<void>): () => void
}

export interface InvokeOptions {
  signal?: AbortSignalLike
  logger?: Logger
}

/** Calls components in their sandbox (the component must be declared in the app's `components:`). */
export interface ComponentsService {
  /** Whether the app declares a component of this name. */
  has(name: string): boolean
  /** Runs the component's handler with `input` (JSON) under its limits and grants; resolves with its output. */
  invoke(name: string, input: unknown, options?: InvokeOptions): Promise<unknown>
}

/** A read-only view of the running engine, as the admin API shows it. */
export interface StatusService {
  /** Engine state, config generation, modules, components and deploy slots (a JSON value). */
  status(): unknown
}

/** A deployment's files: path relative to the slot's folder (`index.ts`, `lib/rates.ts`) → UTF-8 text. */
export type DeployFiles = Record<string, string>

export interface DeployRequest {
  files: DeployFiles
  /** The entry file among `files`; default `index.ts`. */
  entry?: string
  /** Validate only: nothing is stored, nothing changes. */
  dryRun?: boolean
  /** Stage and, when it validates, promote in the same call. */
  promote?: boolean
  /** Free text kept with the version (what changed, the agent's run id…). */
  message?: string
}

/** One validation step of a deploy, in order: files, compile, typecheck, schemas, ceiling, examples. */
export interface DeployStep {
  name: string
  /** `skipped` when an earlier step failed and this one could not run on its output. */
  status: 'passed' | 'failed' | 'skipped'
  ms: number
}

export type SlotVersionStatus = 'rejected' | 'staged' | 'live' | 'retired'

export interface SlotVersion {
  slot: string
  /** Per slot, 1, 2, 3…: never reused. */
  id: number
  /** sha256 (hex) over the files (sorted paths and their contents) and the entry. */
  hash: string
  /** The principal's subject that deployed it. */
  author: string
  /** ISO timestamp. */
  createdAt: string
  status: SlotVersionStatus
  entry: string
  message?: string
  files: { path: string; bytes: number }[]
  diagnostics: Diagnostic[]
}

export interface DeployResult {
  ok: boolean
  slot: string
  dryRun: boolean
  steps: DeployStep[]
  /** Every problem every step found, errors and warnings (the same shape everywhere). */
  diagnostics: Diagnostic[]
  /** The version stored (also a rejected one); absent for a dry run. */
  version?: SlotVersion
  /** Whether this call made it live. */
  promoted: boolean
}

export interface SlotInfo {
  name: string
  description?: string
  /** What deployed code may reach: the slot's grants (the ceiling). */
  grants: Record<string, unknown>
  /** The limits deployed code runs under (the ceiling). */
  limits: Record<string, number>
  /** Scopes any of which may deploy, promote, roll back and invoke. */
  deployers: string[]
  /** Whether a deployment without examples is accepted. */
  examplesRequired: boolean
  /** The live version's id, or null while the slot is empty. */
  live: number | null
}

export interface SlotLogEntry {
  /** Increasing per slot; pass the last one seen as `after` to continue. */
  seq: number
  at: string
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  version: number
  fields?: Record<string, unknown>
}

export interface SlotInvokeResult {
  ok: boolean
  version: number
  output?: unknown
  error?: { code: string; message: string; diagnostics?: Diagnostic[] }
  ms: number
}

export interface AuditEntry {
  at: string
  principal: string
  action: 'deploy' | 'dry-run' | 'promote' | 'rollback' | 'invoke'
  slot: string
  version: number | null
  hash: string | null
  result: 'ok' | 'refused' | 'failed'
  detail?: string
}

/**
 * Deploy slots (`components: - slot: name`): validate, stage, promote and roll back component code that callers send.
 * Every method that changes or runs something takes the caller's principal and checks the slot's `deployers` scopes
 * (or `admin`); reads need `admin:read`, `admin` or a deployer scope of that slot. A refusal rejects with a CodedError
 * (ERR_ADMIN_FORBIDDEN, naming the scopes that would do). Unknown slot: ERR_SLOT_UNKNOWN; unknown version:
 * ERR_SLOT_VERSION_UNKNOWN.
 */
export interface SlotsService {
  list(principal: Principal): SlotInfo[]
  describe(slot: string, principal: Principal): SlotInfo
  deploy(slot: string, request: DeployRequest, principal: Principal): Promise<DeployResult>
  promote(slot: string, version: number, principal: Principal): Promise<DeployResult>
  /** Makes the version live before the current one again (or `to`). */
  rollback(slot: string, principal: Principal, to?: number): Promise<DeployResult>
  versions(slot: string, principal: Principal): SlotVersion[]
  version(slot: string, version: number, principal: Principal): SlotVersion
  source(slot: string, version: number, principal: Principal): DeployFiles
  /** A unified diff (git style, a/ and b/ paths) from one version to another. */
  diff(slot: string, from: number, to: number, principal: Principal): string
  /** The slot's latest log lines (ring buffer), after `after` if given. */
  logs(slot: string, principal: Principal, options?: { after?: number; limit?: number }): SlotLogEntry[]
  /** Calls `listener` with each new log line of the slot; returns the unsubscribe. */
  followLogs(slot: string, principal: Principal, listener: (entry: SlotLogEntry) => void): () => void
  /** Runs the live version with `input`, as a pipeline would (its real grants). */
  invoke(slot: string, input: unknown, principal: Principal): Promise<SlotInvokeResult>
  audit(principal: Principal, options?: { slot?: string; limit?: number }): AuditEntry[]
}

/** One request to a plugin's admin area: `<prefix>/<area>/…` after the islet.admin module verified who asks. */
export interface AdminRequest {
  readonly method: string
  /** The path below `<prefix>/<area>`, split on `/` and percent-decoded: `GET /admin/queues/mail/dead` → `['mail', 'dead']`. */
  readonly segments: readonly string[]
  readonly query: Readonly<Record<string, string | string[]>>
  /** Who asks, verified by the admin module's access check (a token through its `auth:`, or the loopback convenience). */
  readonly principal: Principal
  /** The HTTP request (its logger, signal, headers); answer through the handler's return value, not `http.respond`. */
  readonly http: HttpContext
  /**
   * Refuses (throws ERR_ADMIN_FORBIDDEN, answered 403 naming the scopes that would do) unless the principal may:
   * `read` needs `admin` or `admin:read`; `change` needs `admin`. Call it first in every handler.
   */
  require(access: 'read' | 'change'): void
  /** The JSON body (at most 256 KiB; an empty body is undefined); malformed JSON is a 400. */
  json(): Promise<unknown>
}

/** What an admin handler answers: a status and a JSON body. A throw with a `CodedError` answers `details.status` (else 500). */
export interface AdminAnswer {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export type AdminHandler = (request: AdminRequest) => AdminAnswer | Promise<AdminAnswer>

/**
 * Admin endpoints for plugins: a module mounts a handler for `<admin prefix>/<area>/…` on every islet.admin module of
 * the engine. A mount lasts until the module stops (or the returned function is called); the latest mount of an
 * area answers, so a reloaded module takes over from the instance it replaces. Areas the admin module serves itself
 * (status, events, slots, audit, mcp, executions) cannot be mounted.
 */
export interface AdminService {
  mount(area: string, handler: AdminHandler): () => void
  /** The handler mounted for `area` (what the islet.admin module dispatches to), if any. */
  handler(area: string): AdminHandler | undefined
}

/** One outbound request: what to send, and the limits and allowlist it is held to. */
export interface OutboundInit {
  /** GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS; default GET. */
  method?: string
  /** Framing headers (host, content-length, connection, …) are the engine's and dropped. */
  headers?: Record<string, string>
  /** A text body; without a content-type header it is sent as text/plain;charset=UTF-8. */
  body?: string
  /** The origins (`scheme://host[:port]`) this call may reach, redirects included; any other is refused. */
  allow: readonly string[]
  /**
   * Those of `allow` that may be or resolve to loopback, private, link-local or other non-public addresses; every
   * other origin is refused there (checked on the address actually connected to, so DNS cannot rebind it).
   */
  privateOrigins?: readonly string[]
  /** Deadline of the whole call, redirects included; default 10000. */
  timeoutMs?: number
  /** Largest response body read, counted as it streams; more rejects with ERR_OUTBOUND_TOO_LARGE. Default 1 MiB. */
  maxBytes?: number
  /** Largest request body sent; default 1 MiB. */
  maxRequestBytes?: number
  /** Redirects followed, each hop checked like the first; default 5. */
  maxRedirects?: number
  /** Aborting it aborts the call (ERR_OUTBOUND_FAILED, details.reason 'aborted'). */
  signal?: AbortSignalLike
}

export interface OutboundResponse {
  status: number
  /** The final URL, after redirects, without its fragment. */
  url: string
  /** Lower-cased names, repeated headers joined with ', ', no set-cookie. */
  headers: Record<string, string>
  /** The body decoded as UTF-8. */
  body: string
}

/**
 * Outbound HTTP through the engine's SSRF guard, the one components' `fetch` capability uses. Rejects with a
 * CodedError: ERR_OUTBOUND_DENIED (details.reason: origin-not-allowed, blocked-address, scheme, credentials,
 * method-not-allowed), ERR_OUTBOUND_FAILED (timeout, aborted, network, too-many-redirects, bad-redirect),
 * ERR_OUTBOUND_TOO_LARGE or ERR_OUTBOUND_INVALID (a malformed URL, header or limit); details.origin names the hop.
 */
export interface OutboundService {
  fetch(url: string, init: OutboundInit): Promise<OutboundResponse>
}

/**
 * How a recorded execution stands. `interrupted`: the engine process running it stopped (a shutdown that outlasted it,
 * or a crash found at the next start) before it ended; it is never resumed.
 */
export type ExecutionStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted'

/** One step of an execution, as recorded. */
export interface ExecutionStep {
  /** The step's name (`steps.<name>`; inner steps of blocks as their block reports them). */
  name: string
  status: 'running' | 'completed' | 'failed'
  /** ISO timestamps. */
  startedAt: string
  endedAt?: string
  durationMs?: number
  /** Bytes of its output's JSON. */
  outputBytes?: number
  error?: { code: string; message: string }
}

/** An execution in a list: everything but its steps and output. */
export interface ExecutionSummary {
  id: string
  pipeline: string
  /** The trigger that started it (`http`, `event`, …). */
  trigger: string
  /** The run's id from its trigger: an HTTP request's X-Request-Id, an event's id… (what its log lines carry). */
  runId: string
  status: ExecutionStatus
  startedAt: string
  endedAt?: string
  durationMs?: number
  /** Bytes of the input's JSON. */
  inputBytes: number
  error?: { code: string; message: string }
}

/** An execution in full. */
export interface Execution extends ExecutionSummary {
  /** The response the pipeline answered (status and body; the body dropped past the store's cap: see outputTruncated). */
  output?: { status: number; body: unknown }
  /** The body's JSON was larger than the cap, so it was not kept; `outputBytes` says how large. */
  outputTruncated?: boolean
  outputBytes?: number
  steps: ExecutionStep[]
}

/**
 * One event of an execution, numbered from 1 per execution (`seq`): `pipeline.started`, `step.started`,
 * `step.completed`, `step.failed`, then one of `pipeline.completed`, `pipeline.failed`, `pipeline.cancelled`,
 * `pipeline.interrupted` (the last event).
 */
export interface ExecutionEvent {
  seq: number
  type: string
  execution: string
  pipeline: string
  at: string
  step?: string
  durationMs?: number
  outputBytes?: number
  status?: ExecutionStatus
  error?: { code: string; message: string }
}

export interface ExecutionFilter {
  pipeline?: string
  status?: ExecutionStatus
  /** Only executions started at or after this ISO time. */
  since?: string
  /** Newest first; default 50, at most 1000. */
  limit?: number
}

/** A recorded run: its id at once, its outcome later. */
export interface ExecutionStart {
  id: string
  /** Settles when the execution ends: the pipeline's response, or the error that ended it (cancelled: ERR_EXECUTION_CANCELLED). */
  done: Promise<PipelineResponse>
}

/**
 * Recorded pipeline runs (<dataDir>/executions.db): status, each step's start, end, duration, output size and error,
 * kept under the engine's retention. Events of recorded runs also go on the bus as `islet.pipeline.*` and
 * `islet.step.*`. Unknown id: ERR_EXECUTION_UNKNOWN; unknown pipeline name: ERR_EXECUTION_PIPELINE_UNKNOWN.
 */
export interface ExecutionsService {
  /**
   * Starts a recorded run: a pipeline of the app by name, or one the caller holds (`ctx.pipeline(name)`). The run
   * has its own abort signal (cancel() or the engine's stop aborts it); `signal`, when given, aborts it too
   * (a synchronous caller going away).
   */
  start(pipeline: string | Pipeline, run: RunInput, options?: { signal?: AbortSignalLike; logger?: Logger }): ExecutionStart
  get(id: string): Execution
  list(filter?: ExecutionFilter): ExecutionSummary[]
  /** The recorded events after `after` (a seq), in order. */
  events(id: string, after?: number): ExecutionEvent[]
  /**
   * Replays the events after `after`, then calls `listener` with each new one as it happens; `onEnd` once the
   * execution has ended (after its last event) — at once when it ended already. Returns the unsubscribe.
   */
  follow(id: string, listener: (event: ExecutionEvent) => void, onEnd: () => void, after?: number): () => void
  /** Aborts a running execution's signal; it ends `cancelled`. An execution that already ended: ERR_EXECUTION_ENDED. */
  cancel(id: string): ExecutionSummary
}

/** Every service by name. */
export interface Services {
  events: EventsService
  components: ComponentsService
  status: StatusService
  slots: SlotsService
  admin: AdminService
  outbound: OutboundService
  executions: ExecutionsService
}

export type ServiceName = keyof Services

/** The services a plugin may declare, as a list for checks. */
export const SERVICE_NAMES: readonly ServiceName[] = ['events', 'components', 'status', 'slots', 'admin', 'outbound', 'executions']
