// What `islet plugin add` shows before it changes anything: what the plugin provides and asks for (host code and the
// engine services it uses, components with the capabilities each requests, YAML files, dependencies), its standing
// (deprecated, yanked, the key that signed it), and the changes to app.yaml and islet.lock — as text or as JSON.
import { namesNonPublicAddress } from '../sandbox/capabilities/fetch/address-policy.ts'
import type { LockChange } from './plugin-lock.ts'
import { formatLockChange } from './plugin-lock.ts'
import type { PackumentVersion } from './registry-parts.ts'

export interface PluginSummary {
  name: string
  version: string
  description?: string
  engine: string
  /** Package-relative module with host code (module, step and trigger types), when the plugin has one. */
  host?: string
  services: string[]
  components: { name: string; file: string; description?: string; capabilities: Record<string, unknown> }[]
  yaml: string[]
  plugins: Record<string, string>
  deprecated?: string
  yanked?: string
  keyid?: string
}

export function summarize(v: PackumentVersion, keyid: string | undefined): PluginSummary {
  const islet = v.islet
  return {
    name: v.name, version: v.version, ...(typeof v.description === 'string' && v.description ? { description: v.description } : {}),
    engine: islet?.engine ?? '*',
    ...(islet?.host ? { host: islet.host } : {}),
    services: [...(islet?.services ?? [])],
    components: Object.entries(islet?.components ?? {}).map(([name, c]) => ({
      name, file: c.file, ...(c.description ? { description: c.description } : {}), capabilities: { ...(c.capabilities ?? {}) },
    })),
    yaml: [...(islet?.yaml ?? [])],
    plugins: { ...(islet?.plugins ?? {}) },
    ...(v.deprecated ? { deprecated: v.deprecated } : {}),
    ...(v._yanked !== undefined ? { yanked: v._yanked || 'yanked' } : {}),
    ...(keyid ? { keyid } : {}),
  }
}

function capabilityText(capabilities: Record<string, unknown>): string {
  const parts = Object.entries(capabilities).map(([name, value]) => {
    if (value === true) return name
    if (Array.isArray(value)) return `${name} ${value.join(', ')}`
    return `${name} ${JSON.stringify(value)}`
  })
  return parts.length === 0 ? 'no capabilities (log only)' : parts.join('; ')
}

/** The text block describing one plugin; `hostAllowed` says whether the app's entry will let its host code load. */
export function describePlugin(s: PluginSummary, hostAllowed: boolean): string[] {
  const lines = [`${s.name}@${s.version}${s.description ? ` — ${s.description}` : ''}`, `  engine      ${s.engine}`]
  if (s.host) {
    lines.push(`  host code   ${s.host}: module, step and trigger types that run in the engine process with its privileges`)
    lines.push(hostAllowed ? '              allowed by this entry (host: true)'
      : '              NOT allowed by this entry: the app is refused (ERR_PLUGIN_HOST_NOT_ALLOWED) until it says host: true (review it, then add --host)')
    lines.push(`  services    ${s.services.length ? s.services.join(', ') : 'none'}`)
  }
  if (s.components.length === 0) lines.push('  components  none')
  else {
    lines.push('  components  (run in the sandbox with only what the app grants them)')
    for (const c of s.components) lines.push(`    ${c.name.padEnd(14)} ${c.file}  requests: ${capabilityText(c.capabilities)}`)
  }
  if (s.yaml.length) lines.push(`  yaml        ${s.yaml.join(', ')}`)
  const deps = Object.entries(s.plugins)
  if (deps.length) lines.push(`  needs       ${deps.map(([n, r]) => `${n} ${r}`).join(', ')}`)
  if (s.deprecated) lines.push(`  DEPRECATED  ${s.deprecated}`)
  if (s.yanked) lines.push(`  YANKED      ${s.yanked}`)
  lines.push(`  signed by   ${s.keyid ?? 'no key known to the registry'}`)
  return lines
}

export interface Plan {
  plugin: PluginSummary
  /** Other plugins the lock gains or changes (dependencies), with what they provide. */
  dependencies: PluginSummary[]
  yaml: { file: string; entry: string }
  lock: { file: string; changes: LockChange[] }
}

export function formatPlan(plan: Plan, hostAllowed: boolean): string {
  const lines = [...describePlugin(plan.plugin, hostAllowed)]
  for (const d of plan.dependencies) lines.push('', 'with', ...describePlugin(d, false))
  lines.push('', `${plan.yaml.file}: plugins:`, `  ${plan.yaml.entry}`)
  lines.push(`${plan.lock.file}:`, ...(plan.lock.changes.length ? plan.lock.changes.map(formatLockChange) : ['  (no change)']))
  if (plan.plugin.components.length) {
    // plugins: only makes the package available: each component the app calls needs its own components: entry, whose
    // grants cover what the package says it requests (else the app is refused). Shown, never written: granting is the
    // app author's decision.
    lines.push('', `to call its components, list them under components: in ${plan.yaml.file}, granting what each requests:`,
      ...componentEntries(plan.plugin).map((line) => `  ${line}`))
  }
  return lines.join('\n')
}

/** `- { plugin: '@acme/geo', component: geocode, grants: { kv: true } }`, one per component, to paste. */
export function componentEntries(s: PluginSummary): string[] {
  return s.components.map((c) => {
    const grants = grantsFor(c.capabilities)
    return `- { plugin: '${s.name}', component: ${c.name}${grants ? `, grants: ${grants}` : ''} }`
  })
}

const quoted = (values: unknown): string => (Array.isArray(values) ? values : []).map((v) => `'${String(v).replaceAll("'", "''")}'`).join(', ')

/** The grants: flow mapping that covers `capabilities` (the package's request), or '' when it asks for nothing. */
function grantsFor(capabilities: Record<string, unknown>): string {
  const parts = Object.entries(capabilities).flatMap(([name, value]) => {
    if (value === false || value === undefined) return []
    if (name === 'kv') return ['kv: true']
    if (name === 'fetch') {
      // A loopback or private address is refused at run time unless the origin is also in privateOrigins.
      const privates = (Array.isArray(value) ? value : []).filter((o) => namesNonPublicAddress(String(o)))
      return [`fetch: { origins: [${quoted(value)}]${privates.length ? `, privateOrigins: [${quoted(privates)}]` : ''} }`]
    }
    return [Array.isArray(value) ? `${name}: [${quoted(value)}]` : `${name}: ${JSON.stringify(value)}`]
  })
  return parts.length ? `{ ${parts.join(', ')} }` : ''
}
