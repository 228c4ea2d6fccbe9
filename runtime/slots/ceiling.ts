// The slot's ceiling: deployed code may ask for (ComponentDefinition.capabilities, .limits) at most what its slot
// grants in YAML. One diagnostic per excess, each naming what the slot does grant, so the fix is one edit.
import type { ComponentCapabilities, ComponentLimits, Diagnostic } from '@islet/sdk'
import { isRecord } from '@islet/sdk'
import type { SlotDecl } from '../config/types.ts'
import { LIMIT_NAMES } from '../config/types.ts'
import { DEFAULT_LIMITS } from '../components/limits.ts'
import { topicMatches } from '../events/topics.ts'

/** What a definition declares, as it came out of the isolate (unchecked JSON). */
export interface CeilingDefinition {
  capabilities?: ComponentCapabilities | unknown
  limits?: ComponentLimits | unknown
}

/**
 * Every way `definition` asks for more than `slot` grants: capabilities not granted, fetch origins, emit topics and
 * secrets outside the grant, limits above the slot's (or, where the slot sets none, the defaults). Public diagnostics
 * at `file` (the entry) when given, with no line (the caller locates them in the source); code ERR_SLOT_CEILING.
 */
export function checkCeiling(definition: CeilingDefinition, slot: SlotDecl, file: string | null = null): Diagnostic[] {
  const out: Diagnostic[] = []
  const grants = slot.grants as Record<string, unknown>
  const excess = (message: string, hint: string) => out.push({
    code: 'ERR_SLOT_CEILING', severity: 'error', message, file, line: null, column: null, hint,
  })
  const asked = definition.capabilities
  if (asked !== undefined && !isRecord(asked)) {
    excess('capabilities must be an object like { kv: true, fetch: [origins…] }', `the slot grants ${describeGrants(grants)}`)
  } else if (asked) {
    for (const [name, want] of Object.entries(asked)) {
      if (want === undefined || want === false || (Array.isArray(want) && want.length === 0)) continue
      if (name === 'kv') {
        if (!grants.kv) excess(`asks for kv, which slot '${slot.name}' does not grant`, `remove capabilities.kv; the slot grants ${describeGrants(grants)}`)
        continue
      }
      if (name !== 'fetch' && name !== 'emit' && name !== 'secrets') {
        excess(`asks for an unknown capability '${name}'`, 'capabilities are kv, fetch, emit and secrets')
        continue
      }
      // fetch also comes in the slot's own shape, { origins: [...], privateOrigins?: [...] } (sdk ComponentCapabilities).
      const objectForm = name === 'fetch' && isRecord(want)
      const list = objectForm ? fetchObjectOrigins(want) : want
      if (!Array.isArray(list) || !list.every((w) => typeof w === 'string')) {
        excess(`capabilities.${name} must be a list of strings${name === 'fetch' ? " (or { origins: ['https://…'] })" : ''}`,
          `e.g. ${name}: ['${name === 'fetch' ? 'https://api.example.com' : name === 'emit' ? 'orders.created' : 'API_KEY'}']`)
        continue
      }
      const granted = grantedList(name, grants[name])
      const refused = list.filter((w) => !covers(name, granted, w))
      if (objectForm) {
        // Asking to reach private addresses is asking for more than the origin: the slot must list it as private too.
        const grantedPrivate = isRecord(grants.fetch) && Array.isArray(grants.fetch.privateOrigins) ? grants.fetch.privateOrigins.filter((g): g is string => typeof g === 'string') : []
        const asked = Array.isArray((want as Record<string, unknown>).privateOrigins) ? (want as { privateOrigins: unknown[] }).privateOrigins : []
        for (const p of asked) {
          if (typeof p === 'string' && !refused.includes(p) && !grantedPrivate.some((g) => origin(g) === origin(p))) refused.push(p)
        }
      }
      if (refused.length === 0) continue
      // `fetch origin 'x'`, `emit topic 'x'`, `secret 'x'` (not `secrets secret 'x'`).
      const what = name === 'fetch' ? 'fetch origin' : name === 'emit' ? 'emit topic' : 'secret'
      excess(`asks for ${what}${refused.length === 1 ? '' : 's'} ${refused.map((r) => `'${r}'`).join(', ')} beyond slot '${slot.name}'`,
        granted.length === 0 ? `the slot grants no ${name}: remove capabilities.${name}`
          : `the slot grants ${name}: ${granted.join(', ')}; ask for those at most, e.g. capabilities: { ${capabilityLiteral(name, granted, objectForm, grants)} }`)
    }
  }
  const limits = definition.limits
  if (isRecord(limits)) {
    for (const name of LIMIT_NAMES) {
      const want = limits[name]
      const ceiling = slot.limits[name] ?? DEFAULT_LIMITS[name]
      if (typeof want === 'number' && want > ceiling) {
        excess(`asks for limits.${name} ${want}, above the ${ceiling} slot '${slot.name}' allows`, `lower limits.${name} to at most ${ceiling} (or leave it out to run under the slot's)`)
      }
    }
  }
  return out
}

/** A grant's list: fetch origins (the YAML's list, or its object form's origins and privateOrigins), topics, secret names. */
function grantedList(name: string, grant: unknown): string[] {
  if (Array.isArray(grant)) return grant.filter((g): g is string => typeof g === 'string')
  if (name === 'fetch' && isRecord(grant)) {
    // privateOrigins is a subset of origins (the loader checks that).
    return [...new Set((Array.isArray(grant.origins) ? grant.origins : []).filter((g): g is string => typeof g === 'string'))]
  }
  return []
}

/** The origins a component's `fetch: { origins, privateOrigins }` asks for; undefined when the shape is wrong. */
function fetchObjectOrigins(want: Record<string, unknown>): unknown[] | undefined {
  if (!Array.isArray(want.origins)) return undefined
  const extra = want.privateOrigins === undefined ? [] : Array.isArray(want.privateOrigins) ? want.privateOrigins : undefined
  return extra === undefined ? undefined : [...new Set([...want.origins, ...extra])]
}

/**
 * A grant as the component writes it in `capabilities` (a list; for fetch in the object form when the component used
 * it, with the slot's privateOrigins), e.g. `fetch: ['https://rates.example']`.
 */
function capabilityLiteral(name: string, granted: readonly string[], objectForm: boolean, grants: Record<string, unknown>): string {
  const list = (items: readonly string[]) => `[${items.map((g) => `'${g}'`).join(', ')}]`
  if (!objectForm) return `${name}: ${list(granted)}`
  const priv = isRecord(grants.fetch) && Array.isArray(grants.fetch.privateOrigins) ? grants.fetch.privateOrigins.filter((g): g is string => typeof g === 'string') : []
  return `${name}: { origins: ${list(granted)}${priv.length ? `, privateOrigins: ${list(priv)}` : ''} }`
}

function covers(name: string, granted: readonly string[], want: string): boolean {
  if (name === 'fetch') return granted.some((g) => origin(g) === origin(want))
  if (name === 'emit') return granted.some((g) => g === want || (want.endsWith('.*') ? g.endsWith('.*') && want.startsWith(g.slice(0, -1)) : topicMatches(g, want)))
  return granted.includes(want)
}

function origin(text: string): string {
  try {
    return new URL(text).origin
  } catch {
    return text.replace(/\/+$/, '').toLowerCase()
  }
}

/**
 * What a slot grants, in the shape a component's `capabilities` takes — `{ kv: true, fetch: ['http://127.0.0.1:9999'] }`
 * — or `nothing`, for hints: the fix is then a copy.
 */
export function describeGrants(grants: Record<string, unknown>): string {
  const parts: string[] = []
  if (grants.kv) parts.push('kv: true')
  for (const name of ['fetch', 'emit', 'secrets']) {
    const list = grantedList(name, grants[name])
    if (list.length > 0) parts.push(capabilityLiteral(name, list, false, grants))
  }
  return parts.length === 0 ? 'nothing (log and config only)' : `{ ${parts.join(', ')} }`
}
