// Components: sandboxed user TypeScript. This file is bundled into every component, so it stays tiny and pure.
import type { JsonSchema } from './schema.ts'

/** Per-invocation limits; a component may lower the defaults, the app may set or cap them. */
export interface ComponentLimits {
  /** Isolate heap limit in MiB. */
  memoryMb?: number
  /** Wall-clock deadline of one invocation, awaited host calls included. */
  timeoutMs?: number
  /** CPU time one invocation may use inside the isolate. */
  cpuMs?: number
  /** Capability calls (kv, fetch, emit, secrets, log) one invocation may make. */
  hostCalls?: number
  /** Largest accepted input, as JSON bytes. */
  inputBytes?: number
  /** Largest accepted output, as JSON bytes. */
  outputBytes?: number
}

/**
 * A worked example: run by `islet component test`, and before a component serves (at start and as the smoke test of
 * every reload). Examples never touch real data: they run in their own throwaway isolate of the same code (its init
 * included), with throwaway capabilities:
 * - `ctx.kv` is a scratch store per example: empty apart from what init wrote there, plus the `kv` fixture;
 * - `ctx.emit` is checked against the grant as usual, then captured (shown by `islet component test`), never published;
 * - `ctx.fetch` is refused (ERR_CAPABILITY_DENIED) unless the example sets `fetch: true`, which lets it use the
 *   component's own fetch grant (the real network); init may fetch there if any example sets it;
 * - `ctx.secrets` reads the granted secrets.
 */
export interface ComponentExample<I = unknown, O = unknown> {
  name?: string
  input: I
  /** The expected output (deep equality); omit to only require success. */
  output?: O
  /** The expected error code instead of an output, e.g. 'ERR_COMPONENT_INPUT_INVALID'. */
  error?: string
  /** What the component's kv holds when this example starts, key → JSON value (e.g. `{ 'orders:A1': 9 }`). */
  kv?: Record<string, unknown>
  /** Lets this example fetch through the component's fetch grant (real requests); otherwise fetch is refused. */
  fetch?: boolean
}

/**
 * What a component asks for (see `ComponentDefinition.capabilities`): lists of what it needs, each within the app's
 * `grants:` (a slot refuses a deploy asking beyond them).
 */
export interface ComponentCapabilities {
  kv?: boolean
  /**
   * Origins, e.g. `['https://api.example.com']`; or the grant's own shape, `{ origins: [...] }` (with `privateOrigins`,
   * the ones that may resolve to loopback or private addresses — the app must list them as private too).
   */
  fetch?: string[] | { origins: string[]; privateOrigins?: string[] }
  /** Topics or `prefix.*` patterns. */
  emit?: string[]
  secrets?: string[]
}

/** Structured logging from a component; rate- and size-limited per component by the host. */
export interface ComponentLogger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** A stored value with its version, for compare-and-set. */
export interface KvEntry<T = unknown> {
  readonly value: T
  /** Grows with every write to the namespace: a key deleted and written again never gets an earlier version. */
  readonly version: number
}

export interface KvSetOptions {
  /**
   * Compare-and-set: write only if the key is still at this version (from `getEntry`). `0`, `null` or `undefined`
   * mean "only if the key does not exist", so `{ ifVersion: entry?.version }` is right whether or not there was one.
   * Otherwise the set rejects with ERR_CAPABILITY_CONFLICT and writes nothing.
   */
  ifVersion?: number | null
}

/**
 * A key-value store private to this component (its own namespace in the app's SQLite store). Keys are non-empty
 * strings of at most 512 UTF-8 bytes, values any JSON of at most 64 KiB. The namespace has a quota (bytes and keys,
 * set in the app's grant): a write that would exceed it rejects with ERR_CAPABILITY_QUOTA and writes nothing.
 */
export interface KvCapability {
  /** The stored JSON value, or null. */
  get<T = unknown>(key: string): Promise<T | null>
  /** The stored value and its version, or null. */
  getEntry<T = unknown>(key: string): Promise<KvEntry<T> | null>
  /** Stores `value`; resolves with its new version. With `ifVersion`, a compare-and-set (see KvSetOptions). */
  set(key: string, value: unknown, options?: KvSetOptions): Promise<number>
  /**
   * Adds `by` (default 1; may be negative or fractional) to the stored number, a missing key counting as 0, in one
   * atomic step: concurrent increments never lose one. Resolves with the new number; rejects with
   * ERR_CAPABILITY_CONFLICT when the stored value is not a number.
   */
  increment(key: string, by?: number): Promise<number>
  /** True when a value was deleted. */
  delete(key: string): Promise<boolean>
  /** Keys starting with `prefix`, in UTF-8 byte order (code point order), at most `limit` (default 100, max 1000). */
  list(prefix?: string, limit?: number): Promise<string[]>
}

export interface FetchInit {
  method?: string
  headers?: Record<string, string>
  /** A string body; send JSON with JSON.stringify and a content-type header. */
  body?: string
}

export interface FetchResponse {
  readonly status: number
  readonly ok: boolean
  /** The final URL, after redirects. */
  readonly url: string
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  text(): Promise<string>
  json<T = unknown>(): Promise<T>
}

/**
 * What a component may reach. Everything but `log` and `config` must be granted in the app's YAML; an ungranted
 * capability rejects with ERR_CAPABILITY_DENIED.
 */
export interface ComponentContext<C = unknown> {
  /** The component's config from YAML, validated against its `config` schema. */
  readonly config: C
  readonly component: { readonly name: string; readonly generation: number }
  readonly log: ComponentLogger
  readonly kv: KvCapability
  /** HTTP to allowlisted origins only; private and loopback addresses are refused unless granted. */
  fetch(url: string, init?: FetchInit): Promise<FetchResponse>
  /** Publishes an event on the engine's event bus (topics must be granted). */
  emit(topic: string, payload?: unknown): Promise<void>
  readonly secrets: { get(name: string): Promise<string> }
}

/**
 * A component: schemas, examples and the function the sandbox runs.
 * @example
 * export default defineComponent({
 *   name: 'price-quote',
 *   input: { type: 'object', required: ['sku', 'qty'], properties: { sku: { type: 'string' }, qty: { type: 'integer' } } },
 *   output: { type: 'object', required: ['total'], properties: { total: { type: 'number' } } },
 *   examples: [{ input: { sku: 'A1', qty: 2 }, output: { total: 19.98 } }],
 *   async execute(input) { return { total: Math.round(input.qty * 999) / 100 } },
 * })
 */
export interface ComponentDefinition<C = any, I = any, O = any> {
  /** Lower-case, dash-separated; what YAML and pipelines call it. */
  name: string
  description?: string
  config?: JsonSchema
  input?: JsonSchema
  output?: JsonSchema
  limits?: ComponentLimits
  /**
   * The capabilities it needs (`{ kv: true, fetch: ['https://api.example'] }`; fetch may also take the grant's
   * `{ origins: [...] }`).
   * Deployed into a slot, a component asking for more than the slot grants is refused with the list; everywhere the
   * app's grants decide what `ctx` reaches, whatever this says.
   */
  capabilities?: ComponentCapabilities
  examples?: ComponentExample<I, O>[]
  /** Runs once per generation, before the first invocation (and before a reload is swapped in). */
  init?(config: C, ctx: ComponentContext<C>): void | Promise<void>
  execute(input: I, ctx: ComponentContext<C>): O | Promise<O>
}

/** Identity helper: returns its argument, typed. */
export function defineComponent<C = any, I = any, O = any>(definition: ComponentDefinition<C, I, O>): ComponentDefinition<C, I, O> {
  return definition
}
