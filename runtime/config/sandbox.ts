// The `sandbox:` section: app-wide, so declared in at most one file; defaults filled where it says nothing.
import { isRecord } from '@islet/sdk'
import { DEFAULT_SANDBOX } from './component-schema.ts'
import { where } from './declare.ts'
import type { Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate } from './locate.ts'
import type { SandboxConfig } from './types.ts'

/** The one `sandbox:` of `files` (the schema has checked and defaulted its values), or the defaults. */
export function declareSandbox(files: readonly LoadedFile[]): { sandbox: SandboxConfig; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  let first: { file: LoadedFile; raw: Record<string, unknown> } | undefined
  for (const file of files) {
    if (!('sandbox' in file.value)) continue
    const here = where(file, locate(file.parsed, ['sandbox'], { key: true }))
    if (first) {
      const there = where(first.file, locate(first.file.parsed, ['sandbox'], { key: true }))
      diagnostics.push(diagnosticAt(file.parsed, ['sandbox'], 'ERR_CONFIG_DUPLICATE_SANDBOX',
        `sandbox: is declared twice: at ${there} and at ${here}`,
        'keep one: sandbox settings are app-wide and never merged', { key: true }))
      continue
    }
    first = { file, raw: isRecord(file.value.sandbox) ? file.value.sandbox : {} }
  }
  if (!first) return { sandbox: structuredClone(DEFAULT_SANDBOX), diagnostics }
  const { raw, file } = first
  const quarantine = { ...DEFAULT_SANDBOX.quarantine, ...(isRecord(raw.quarantine) ? raw.quarantine : {}) } as
    SandboxConfig['quarantine']
  if (typeof quarantine.baseMs === 'number' && typeof quarantine.maxMs === 'number' && quarantine.baseMs > quarantine.maxMs) {
    diagnostics.push(diagnosticAt(file.parsed, ['sandbox', 'quarantine', 'maxMs'], 'ERR_CONFIG_SCHEMA',
      `quarantine maxMs (${quarantine.maxMs}) is shorter than baseMs (${quarantine.baseMs})`,
      'maxMs caps the doubling quarantine period, so it must be at least baseMs'))
  }
  const sandbox: SandboxConfig = {
    workers: typeof raw.workers === 'number' ? raw.workers : DEFAULT_SANDBOX.workers,
    isolation: raw.isolation === 'dedicated' ? 'dedicated' : 'shared',
    limits: structuredClone(isRecord(raw.limits) ? raw.limits : {}),
    quarantine,
  }
  return { sandbox, diagnostics }
}
