// `components: - slot: name` entries: a deploy slot is a component name whose code arrives later (runtime/slots). The
// entry holds what the app decides for that code: its grants and limits (the ceiling), its config, who may deploy.
import { isRecord } from '@islet/sdk'
import { ADMIN_SCOPE } from '@islet/sdk'
import { NO_GRANTS } from './component-schema.ts'
import type { Diagnostic } from './diagnostics.ts'
import { checkGrants } from './grants.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, type PathSegment } from './locate.ts'
import type { ComponentGrants, Limits, SlotDecl } from './types.ts'

/** Keys that make an entry a component of files: a slot's code is deployed, never found on disk. */
const NOT_WITH_SLOT = ['file', 'directory', 'plugin', 'component', 'name'] as const

/** The slot `raw` declares, or undefined when its name is unusable (the schema reports it); problems go to `diagnostics`. */
export function declareSlot(file: LoadedFile, raw: Record<string, unknown>, path: PathSegment[], diagnostics: Diagnostic[]): SlotDecl | undefined {
  for (const key of NOT_WITH_SLOT) {
    if (raw[key] === undefined) continue
    diagnostics.push(diagnosticAt(file.parsed, [...path, key], 'ERR_CONFIG_SCHEMA',
      `a slot: entry takes no ${key}: its code is deployed to it (islet deploy, the admin API or MCP), not read from the app folder`,
      key === 'name' ? 'the slot: value is its name' : `remove ${key}:, or make this a component entry without slot:`, { key: true }))
  }
  diagnostics.push(...checkGrants(file, raw.grants, [...path, 'grants']))
  if (typeof raw.slot !== 'string' || !raw.slot) return undefined
  const hasConfig = raw.config !== undefined
  return {
    name: raw.slot,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    grants: structuredClone(isRecord(raw.grants) ? raw.grants as unknown as ComponentGrants : NO_GRANTS),
    limits: structuredClone(isRecord(raw.limits) ? raw.limits as Limits : {}),
    config: hasConfig ? structuredClone(raw.config) : {},
    deployers: Array.isArray(raw.deployers) && raw.deployers.length > 0 ? raw.deployers.filter((s): s is string => typeof s === 'string') : [ADMIN_SCOPE],
    examplesRequired: raw.examples !== 'optional',
    source: locate(file.parsed, path),
  }
}
