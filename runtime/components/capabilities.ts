// Each component's capability object, built from its identity and grants: every guest host call lands here and
// is checked against what YAML granted. Nothing is ambient. The capabilities themselves are declared in
// runtime/sandbox/capabilities/<name>/ and listed in list.ts; this assembles their host halves per component.
import type { ComponentDecl } from '../config/types.ts'
import type { CapabilityDeps, CapabilityHostModule, HostHandler } from '../sandbox/capabilities/capability.ts'
import { CAPABILITY_LIST } from '../sandbox/capabilities/list.ts'
import { deny, quoteGuest } from '../sandbox/capabilities/refusal.ts'
import type { GrantedDto, HostOp } from '../sandbox/protocol.ts'

export type { CapabilityDeps, ScratchMode } from '../sandbox/capabilities/capability.ts'

export interface Capabilities {
  /** `signal` aborts when the invocation no longer waits for the answer (cancelled, or its isolate reset). */
  handle(op: HostOp, args: unknown[], invocation: number, signal?: AbortSignal): Promise<unknown>
  /** Replaces every granted secret's value in `text`, so it never leaves through an error or a log line. */
  redact(text: string): string
  close(): Promise<void>
}

type Grants = Record<string, unknown>
type Host = CapabilityHostModule<unknown>

/**
 * The host half of every capability that has one, loaded once with this module (dynamically: the capability folders'
 * index.ts files are read by the sandbox worker too, which may not load what the host halves import).
 */
const HOSTS: readonly { name: string; ops: readonly string[]; isGranted: (grant: unknown) => boolean; host: Host }[] =
  await Promise.all(CAPABILITY_LIST.flatMap(({ name, ops, grant, host }) => host && grant
    ? [host().then((loaded) => ({ name, ops: Object.keys(ops), isGranted: (g: unknown) => grant.grants(g), host: loaded as Host }))]
    : []))

/**
 * What `decl` is granted, for its sandbox: calls for anything else are refused inside its isolate, before IPC, and
 * caps its grants tighten (a fetch body to maxRequestBytes) apply there and in its worker. The engine still checks
 * every call it receives.
 */
export function grantedOf(decl: ComponentDecl): GrantedDto {
  const grants = decl.grants as Grants
  const ops: string[] = []
  let caps: GrantedDto['caps']
  for (const { name, ops: own, isGranted, host } of HOSTS) {
    const grant = grants[name]
    if (!isGranted(grant)) continue
    ops.push(...own)
    if (host.caps) caps = { ...caps, ...host.caps(grant) }
  }
  return { ops: ops as HostOp[], ...(caps ? { caps } : {}) }
}

export function createCapabilities(decl: ComponentDecl, deps: CapabilityDeps): Capabilities {
  const grants = decl.grants as Grants
  // Null prototype: an op the guest names that no capability declares (`toString`) finds nothing.
  const ops: Record<string, HostHandler> = Object.create(null)
  const secretValues: string[] = []
  const closers: (() => Promise<void>)[] = []
  for (const { name, host } of HOSTS) {
    const made = host.create(grants[name], decl.name, deps)
    Object.assign(ops, made.ops)
    if (made.redact) secretValues.push(...made.redact)
    if (made.close) closers.push(made.close)
  }
  // Longest first, so a secret containing another is redacted whole. Log fields are redacted as JSON text, where a
  // secret with a quote, backslash or control character appears escaped: its escaped form is redacted too.
  const values = [...new Set(secretValues.filter((v) => v.length >= 4).flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))]
    .sort((a, b) => b.length - a.length)

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
      for (const close of closers) await close()
    },
  }
}
