// What a component's grants must satisfy beyond their schema, as each capability checks its own
// (runtime/sandbox/capabilities/<name>/index.ts `grant.check`: fetch origins that are real URLs, private ⊆ allowed;
// emit topic patterns no longer than a topic may be), located at the grant's file:line:col.
import { isRecord } from '@islet/sdk'
import { CAPABILITY_LIST } from '../sandbox/capabilities/list.ts'
import type { Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, type PathSegment } from './locate.ts'


/**
 * Checks the `grants` at `path`. Problems the schema finds (an origin not written `scheme://host[:port]`) are
 * reported by it; these carry ERR_CAPABILITY_GRANT_INVALID, the code the sandbox would raise for them at startup.
 */
export function checkGrants(file: LoadedFile, grants: unknown, path: readonly PathSegment[]): Diagnostic[] {
  if (!isRecord(grants)) return []
  const diagnostics: Diagnostic[] = []
  for (const c of CAPABILITY_LIST) {
    for (const problem of c.grant?.check?.(grants[c.name]) ?? []) {
      diagnostics.push(diagnosticAt(file.parsed, [...path, c.name, ...problem.path], 'ERR_CAPABILITY_GRANT_INVALID', problem.message, problem.hint))
    }
  }
  return diagnostics
}
