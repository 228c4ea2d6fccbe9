// What one capability declares, in its own folder (runtime/sandbox/capabilities/<name>/index.ts): its grant schema,
// its host operations with their argument caps, the guest shim the bootstrap installs as `ctx.<name>`, its
// `component test` flag, its docs line, and (imported lazily) its host-side factory. The explicit list in list.ts
// is the only place the rest of the runtime learns which capabilities exist.
//
// The sandbox worker reads this file and every capability's index.ts (for the caps and the shims), under Node's
// permission model: they import nothing outside the worker's read allowlist (worker-process.ts). Whatever the engine
// alone needs (SQLite, undici, the event bus) sits behind `host`, a dynamic import the worker never calls.
import type { JsonSchema, Logger } from '@islet/sdk'
import type { EventBus } from '../../events/bus.ts'
import type { FetchCapabilityOptions } from './fetch/fetch.ts'
import type { KvStore } from './kv/kv.ts'

/**
 * The size cap of one capability-call argument, checked inside the isolate before the call leaves it (and the whole
 * call again in the worker, before IPC): an argument of any size would otherwise be copied into the worker, sent to
 * the engine and parsed on its event loop before any grant check could refuse it.
 * `max` counts characters for a string argument and UTF-8 bytes of its JSON for anything else; `fields` caps the
 * named fields of an object argument the same way (their sum is the object's cap).
 */
export interface ArgumentCap {
  /** What the argument is, for the refusal: "the topic is 300 characters; at most 255". */
  name: string
  max: number
  fields?: Readonly<Record<string, ArgumentCap>>
}

/**
 * Source text the guest bootstrap splices into `makeContext(id)`, run once per invocation inside the isolate. It sees
 * only the bootstrap's captured intrinsics, never the guest's globals: `state` (the invocation; pass it to `call`),
 * `call(state, op, args)` (a promise of the host's answer; refused in the isolate when the op is not granted or an
 * argument is over its cap), `then(promise, f)`, `freeze`, `Str`, `P` (Promise), `resolveP`, `apply`, `parse`,
 * `slice` (String.prototype.slice), `serialise(value, cap, strict)`, `refusal`, `toHost`.
 */
export interface GuestShim {
  /** Statements run before the ctx object is built (locals: prefix them with the capability's name). */
  prelude?: string
  /** An expression: the value of `ctx.<name>`. Freeze what you return. */
  value: string
}

/** A grant problem the schema cannot express, at `path` below `grants.<name>`. */
export interface GrantProblem {
  path: readonly (string | number)[]
  message: string
  hint: string
}

export interface CapabilityGrant<G> {
  /** The JSON Schema of `grants.<name>` in the app's YAML, its `default` included when it has one. */
  schema: JsonSchema
  /** Definitions `schema` refers to as `#/definitions/<key>`, merged into the config file schema. */
  definitions?: Readonly<Record<string, JsonSchema>>
  /** `grants.<name>` of a component whose YAML does not mention it; undefined: the key stays absent. */
  none: G | undefined
  /** Whether `grant` grants anything: only then do the capability's ops leave the isolate. */
  grants(grant: G | undefined): boolean
  /** What the config loader reports beyond the schema (ERR_CAPABILITY_GRANT_INVALID at the problem's position). */
  check?(grant: unknown): GrantProblem[]
}

/** The `islet component test` flag that grants this capability to the component under test. */
export interface CapabilityFlag<G> {
  /** `--<flag>`. */
  flag: string
  /** boolean: `--kv`; string: `--emit orders.*`, repeatable. */
  type: 'boolean' | 'string'
  /** How the usage line shows it, e.g. `[--emit topic]`. */
  usage: string
  /** What the flag does, for `islet component test --help`. */
  help: string
  /** The grant the flag stands for (`false` or the empty list when not given); undefined leaves `grants.<name>` absent. */
  grant(value: boolean | string[]): G | undefined
}

/**
 * What the engine hands every capability's host factory. Scratch mode is for examples: the same grants and checks,
 * nothing reaches the app (see ScratchMode).
 */
export interface CapabilityDeps {
  kv?: KvStore
  bus: EventBus
  env: Record<string, string | undefined>
  logger: Logger
  /** Test hook: DNS lookup used by fetch. */
  lookup?: FetchCapabilityOptions['lookup']
  /** Throwaway capabilities for running examples (see ScratchMode); absent for the capabilities live traffic uses. */
  scratch?: ScratchMode
}

/**
 * Scratch mode, for examples (runtime/components/examples.ts): the same grants and checks, but nothing reaches the
 * app. `deps.kv` is then a scratch store; emits are handed to `emitted` and never published on the bus; fetch, which
 * reaches the real network, is refused with `fetchRefusal` unless that is undefined (the example declared it).
 * Secrets read as granted: reading one has no effect outside.
 */
export interface ScratchMode {
  emitted(topic: string, payload: unknown): void
  fetchRefusal?: string
}

/** One host operation: the guest's arguments (unchecked guest data), its invocation, and an abort for calls that wait. */
export type HostHandler = (args: unknown[], invocation: number, signal?: AbortSignal) => unknown

/** One component's side of a capability in the engine, built from its identity and grant. */
export interface CapabilityHost<Op extends string = string> {
  /** A handler for every op the capability declares: ungranted ones refuse (ERR_CAPABILITY_DENIED). */
  ops: Readonly<Record<Op, HostHandler>>
  /** Values that must never leave through an error or a log line (secrets): replaced by `[redacted]`. */
  redact?: readonly string[]
  close?(): Promise<void>
}

/** The engine half of a capability (its folder's host.ts). */
export interface CapabilityHostModule<G, Op extends string = string> {
  create(grant: G | undefined, component: string, deps: CapabilityDeps): CapabilityHost<Op>
  /** Caps the grant tightens (a fetch body to maxRequestBytes), sent to the sandbox with the granted ops. */
  caps?(grant: G): Partial<Record<Op, readonly ArgumentCap[]>>
}

export interface Capability<Name extends string = string, G = unknown, Op extends string = string> {
  /** `ctx.<name>` in the guest, `grants.<name>` in YAML. */
  name: Name
  /** One line for the docs and `islet component test --help`. */
  doc: string
  /** Its host operations, each with the caps of its arguments in order (argument past the list: the default cap). */
  ops: Readonly<Record<Op, readonly ArgumentCap[]>>
  /** How the isolate's refusal of an ungranted op names it: "is not granted <deniedAs>" (default: the op). */
  deniedAs?: string
  guest: GuestShim
  /** Absent for an ambient capability (log): always there, nothing to grant, no ops of its own. */
  grant?: CapabilityGrant<G>
  cli?: CapabilityFlag<NoInfer<G>>
  /** The engine half, loaded only by the engine (the worker may not read what it imports). */
  host?: () => Promise<CapabilityHostModule<G, NoInfer<Op>>>
}

/** Identity helper: infers the name, grant and op types that list.ts derives `HostOp` and `ComponentGrants` from. */
export function defineCapability<const Name extends string, G, const Op extends string = never>(
  capability: Capability<Name, G, Op>,
): Capability<Name, G, Op> {
  return capability
}
