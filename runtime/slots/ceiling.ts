// The ceiling of a deploy slot: deployed code may ask for (ComponentDefinition.capabilities, limits) only what the
// slot's YAML grants. Each excess is one diagnostic naming what the slot does grant, so one edit fixes it.
import type { ComponentCapabilities, Diagnostic } from '@islet/sdk'
import { missingCapabilities } from '../config/plugin-capabilities.ts'
import type { SlotDecl } from '../config/types.ts'

export interface CeilingDefinition {
  capabilities?: ComponentCapabilities | Record<string, unknown>
  limits?: Record<string, number>
}

/** One ERR_SLOT_CEILING diagnostic per capability or limit `definition` asks beyond `slot`; at `file` (the entry) when given. */
export function checkCeiling(definition: CeilingDefinition, slot: SlotDecl, file: string | null = null): Diagnostic[] {
  const grants = slot.grants as unknown as Record<string, unknown>
  const granted = describeGrants(grants)
  const at = { file, line: null, column: null }
  const out: Diagnostic[] = []
  for (const item of missingCapabilities(definition.capabilities as never, grants)) {
    out.push({ code: 'ERR_SLOT_CEILING', severity: 'error', ...at,
      message: `the component asks for ${item}, which slot '${slot.name}' does not grant (it grants: ${granted})`,
      hint: `remove it from capabilities (the slot grants: ${granted}), or ask the app's owner to add it to the slot's grants:` })
  }
  for (const [name, asked] of Object.entries(definition.limits ?? {})) {
    const ceiling = (slot.limits as Record<string, number | undefined>)[name]
    if (typeof asked !== 'number' || ceiling === undefined || asked <= ceiling) continue
    out.push({ code: 'ERR_SLOT_CEILING', severity: 'error', ...at,
      message: `the component asks for limits.${name} ${asked}, above slot '${slot.name}''s ${ceiling}`,
      hint: `lower limits.${name} to ${ceiling} or less (or drop it: the slot's limit applies)` })
  }
  return out
}

/** The slot's grants in one phrase: `kv, fetch http://127.0.0.1:9999`, or `nothing`. */
export function describeGrants(grants: Record<string, unknown>): string {
  const parts: string[] = []
  for (const [name, value] of Object.entries(grants)) {
    if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) continue
    if (Array.isArray(value)) parts.push(`${name} ${value.join(', ')}`)
    else if (name === 'fetch' && typeof value === 'object' && value !== null && Array.isArray((value as { origins?: unknown }).origins)) {
      parts.push(`fetch ${((value as { origins: string[] }).origins).join(', ')}`)
    } else parts.push(name)
  }
  return parts.length > 0 ? parts.join('; ') : 'nothing'
}
