// What a component's grants must satisfy beyond their schema: fetch origins that are real URLs, private ⊆ allowed,
// emit topic patterns no longer than a topic may be.
import { isRecord } from '@islet/sdk'
import { TOPIC_MAX_CHARS } from '../events/topics.ts'
import { ORIGIN } from './component-schema.ts'
import type { Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, type PathSegment } from './locate.ts'

const ORIGIN_FORM = new RegExp(ORIGIN)

/**
 * Checks the `grants` at `path`. Problems the schema finds (an origin not written `scheme://host[:port]`) are
 * reported by it; these carry ERR_CAPABILITY_GRANT_INVALID, the code the sandbox would raise for them at startup.
 */
export function checkGrants(file: LoadedFile, grants: unknown, path: readonly PathSegment[]): Diagnostic[] {
  if (!isRecord(grants)) return []
  return [...checkEmit(file, grants.emit, [...path, 'emit']), ...checkFetch(file, grants, path)]
}

/** Emit patterns: the schema checks their grammar (topics.ts); their length is checked here, with a clearer word. */
function checkEmit(file: LoadedFile, emit: unknown, path: readonly PathSegment[]): Diagnostic[] {
  if (!Array.isArray(emit)) return []
  const diagnostics: Diagnostic[] = []
  emit.forEach((pattern: unknown, j) => {
    if (typeof pattern !== 'string' || pattern.length <= TOPIC_MAX_CHARS) return
    diagnostics.push(diagnosticAt(file.parsed, [...path, j], 'ERR_CAPABILITY_GRANT_INVALID',
      `emit topic pattern '${pattern.slice(0, 60)}…' is ${pattern.length} characters long`,
      `topics and their patterns are at most ${TOPIC_MAX_CHARS} characters: shorten it`))
  })
  return diagnostics
}

function checkFetch(file: LoadedFile, grants: Record<string, unknown>, path: readonly PathSegment[]): Diagnostic[] {
  if (!isRecord(grants.fetch)) return []
  const fetch = grants.fetch
  const fetchPath = [...path, 'fetch']
  const diagnostics: Diagnostic[] = []
  const originOf = (list: 'origins' | 'privateOrigins', value: unknown, j: number): string | undefined => {
    if (typeof value !== 'string' || !ORIGIN_FORM.test(value)) return undefined // the schema's to report
    try {
      return new URL(value).origin
    } catch {
      diagnostics.push(diagnosticAt(file.parsed, [...fetchPath, list, j], 'ERR_CAPABILITY_GRANT_INVALID',
        `fetch origin '${value}' is not a valid URL`,
        'write scheme://host[:port]: a host name or IP address, and a port from 1 to 65535'))
      return undefined
    }
  }
  const list = (name: 'origins' | 'privateOrigins') => {
    const values: unknown[] = Array.isArray(fetch[name]) ? fetch[name] : []
    return values.map((v, j) => ({ value: v, j, origin: originOf(name, v, j) }))
  }
  // Compared as URL.origin serialises them, so `https://API.example.com/` and `https://api.example.com` are one.
  const allowed = new Set(list('origins').map((o) => o.origin))
  for (const { value, j, origin } of list('privateOrigins')) {
    if (origin === undefined || allowed.has(origin)) continue
    diagnostics.push(diagnosticAt(file.parsed, [...fetchPath, 'privateOrigins', j], 'ERR_CAPABILITY_GRANT_INVALID',
      `private origin '${value}' is not listed in origins`,
      `add '${value}' to origins as well: privateOrigins only lets origins already allowed reach private addresses`))
  }
  return diagnostics
}
