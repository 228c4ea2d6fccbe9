// Each component's capability object, built from its identity and grants: every guest host call lands here and
// is checked against what YAML granted. Nothing is ambient.
import type { Logger } from '@islet/sdk'
import type { ComponentDecl } from '../config/types.ts'
import { IsletError } from '../errors.ts'
import type { EventBus } from '../events/bus.ts'
import { topicMatches, topicProblem } from '../events/topics.ts'
import type { GrantedDto, HostOp } from '../sandbox/protocol.ts'
import { validateFetchGrant } from '../sandbox/capabilities/fetch/fetch-grant.ts'
import { kvQuota, type KvStore } from '../sandbox/capabilities/kv/kv.ts'
import { createFetchCapability, type FetchCapabilityOptions, type FetchRequestDto } from '../sandbox/capabilities/fetch/fetch.ts'

const MAX_EVENT_BYTES = 65_536
/** Fetch counters per invocation; bounded so a long-running engine does not grow it forever. */
const MAX_TRACKED_INVOCATIONS = 10_000

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

export interface Capabilities {
  /** `signal` aborts when the invocation no longer waits for the answer (cancelled, or its isolate reset). */
  handle(op: HostOp, args: unknown[], invocation: number, signal?: AbortSignal): Promise<unknown>
  /** Replaces every granted secret's value in `text`, so it never leaves through an error or a log line. */
  redact(text: string): string
  close(): Promise<void>
}

/**
 * Guest-supplied text as a refusal may quote it: at most 60 characters, JSON-escaped (no newline or control
 * character reaches a log line raw). A refusal that echoed a whole 8 MiB argument cost the engine its copy again.
 */
export function quoteGuest(text: unknown): string {
  const s = typeof text === 'string' ? text : String(text)
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s)
}

/**
 * What `decl` is granted, for its sandbox: calls for anything else are refused inside its isolate, before IPC, and
 * a fetch body is held to the grant's maxRequestBytes there and in its worker. The engine still checks every call it receives.
 */
export function grantedOf(decl: ComponentDecl): GrantedDto {
  const { grants } = decl
  const ops: HostOp[] = []
  if (grants.kv) ops.push('kv.get', 'kv.getEntry', 'kv.set', 'kv.increment', 'kv.delete', 'kv.list')
  if (grants.fetch) ops.push('fetch')
  if (grants.emit.length > 0) ops.push('emit')
  if (grants.secrets.length > 0) ops.push('secrets.get')
  return { ops, ...(grants.fetch ? { fetchBodyBytes: validateFetchGrant(grants.fetch).maxRequestBytes } : {}) }
}

export function deny(capability: string, reason: string, message: string): IsletError {
  return new IsletError('ERR_CAPABILITY_DENIED', message, { details: { capability, reason } })
}

export function createCapabilities(decl: ComponentDecl, deps: CapabilityDeps): Capabilities {
  const { grants, name } = decl
  const quota = kvQuota(grants.kv)
  const kv = quota && deps.kv ? deps.kv.namespace(name, quota) : undefined
  const fetcher = grants.fetch ? createFetchCapability(grants.fetch, deps.lookup ? { lookup: deps.lookup } : {}) : undefined
  const fetches = new Map<number, number>()
  const secrets = new Map<string, string>()
  for (const secret of grants.secrets) {
    const value = deps.env[secret]
    if (value === undefined || value === '') {
      throw new IsletError('ERR_COMPONENT_CONFIG_INVALID', `component '${name}' is granted secret ${secret}, but ${secret} is not set in the environment`,
        { details: { component: name, secret } })
    }
    secrets.set(secret, value)
  }
  // Longest first, so a secret containing another is redacted whole. Log fields are redacted as JSON text, where a
  // secret with a quote, backslash or control character appears escaped: its escaped form is redacted too.
  const values = [...new Set([...secrets.values()].filter((v) => v.length >= 4).flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))]
    .sort((a, b) => b.length - a.length)

  // kv, emit and secrets answer synchronously, before any abort can arrive; only fetch takes the signal.
  const ops: Record<HostOp, (args: unknown[], invocation: number, signal?: AbortSignal) => unknown> = {
    'kv.get': ([key]) => needKv().get(key),
    'kv.getEntry': ([key]) => needKv().getEntry(key),
    'kv.set': ([key, value, options]) => needKv().set(key, value, options),
    'kv.increment': ([key, by]) => needKv().increment(key, by),
    'kv.delete': ([key]) => needKv().delete(key),
    'kv.list': ([prefix, limit]) => needKv().list(prefix, limit),
    fetch([request], invocation, signal) {
      if (!fetcher || !grants.fetch) throw deny('fetch', 'not-granted', `component '${name}' is not granted fetch; grant it in the app's components section`)
      if (deps.scratch?.fetchRefusal !== undefined) throw deny('fetch', 'example-fetch-not-declared', deps.scratch.fetchRefusal)
      const used = (fetches.get(invocation) ?? 0) + 1
      if (used > grants.fetch.maxRequests) throw deny('fetch', 'quota', `component '${name}' may make ${grants.fetch.maxRequests} fetch requests per invocation`)
      fetches.delete(invocation)
      fetches.set(invocation, used)
      if (fetches.size > MAX_TRACKED_INVOCATIONS) fetches.delete(fetches.keys().next().value!)
      return fetcher.fetch(request as FetchRequestDto, signal)
    },
    emit([topic, payload]) {
      // The topic's grammar first: a grant of `orders.*` must not let `orders.#`, `orders..` or a newline through.
      const problem = topicProblem(topic)
      if (problem) throw deny('emit', 'invalid-topic', `component '${name}' cannot emit ${typeof topic === 'string' ? quoteGuest(topic) : 'that'}: ${problem}`)
      if (!grants.emit.some((p) => topicMatches(p, topic as string))) {
        throw deny('emit', 'topic-not-granted', `component '${name}' may not emit ${quoteGuest(topic)}${grants.emit.length ? `; granted: ${grants.emit.join(', ')}` : '; no topics are granted'}`)
      }
      if (Buffer.byteLength(JSON.stringify(payload ?? null)) > MAX_EVENT_BYTES) throw deny('emit', 'payload-too-large', `event payloads are at most ${MAX_EVENT_BYTES} bytes`)
      if (deps.scratch) deps.scratch.emitted(topic as string, payload ?? null)
      else deps.bus.publish({ topic: topic as string, payload, source: `component:${name}`, at: new Date().toISOString() })
      return null
    },
    'secrets.get'([secret]) {
      const value = typeof secret === 'string' ? secrets.get(secret) : undefined
      if (value === undefined) throw deny('secrets', 'not-granted', `component '${name}' is not granted secret ${quoteGuest(secret)}`)
      return value
    },
  }
  function needKv() {
    if (!kv) throw deny('kv', 'not-granted', `component '${name}' is not granted kv; grant it with grants: { kv: true }`)
    return kv
  }

  return {
    async handle(op, args, invocation, signal) {
      const handler = ops[op]
      if (!handler) throw deny(String(op).slice(0, 60), 'unknown-operation', `unknown capability ${quoteGuest(op)}`)
      return handler(args, invocation, signal)
    },
    redact(text) {
      let out = text
      for (const v of values) out = out.split(v).join('[redacted]')
      return out
    },
    async close() {
      await fetcher?.close()
    },
  }
}
