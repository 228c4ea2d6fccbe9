// Compile failures: esbuild's messages (ours from the plugin, and its own) as located, coded diagnostics.
import { join } from 'node:path'
import type { Message } from 'esbuild'
import { formatDiagnostics, sortDiagnostics, type Diagnostic, type SourceLocation } from '../config/diagnostics.ts'
import { IsletError, type ErrorCode } from '../errors.ts'
import { NAMESPACES, type InputState, type IssueDetail } from './compile-inputs.ts'
import { COMPONENT_SHAPE } from './shape-hint.ts'

/** Thrown when a component cannot be compiled; carries every diagnostic, not just the first. */
export class ComponentCompileError extends IsletError {
  readonly diagnostics: readonly Diagnostic[]
  constructor(entry: string, diagnostics: readonly Diagnostic[]) {
    const count = `${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}`
    super('ERR_COMPONENT_COMPILE', `component ${entry} does not compile (${count}):\n${formatDiagnostics(diagnostics)}`,
      { details: { entry, diagnostics } })
    this.diagnostics = diagnostics
  }
}

interface Rewrite { code: ErrorCode; message: string; hint: string }

const COMPUTED_IMPORT: Rewrite = {
  code: 'ERR_COMPONENT_IMPORT',
  message: 'an import with a computed path is not allowed: a component is bundled ahead of time, so every import is static',
  hint: 'import each file statically at the top: import x from \'./x.ts\'',
}
const REQUIRE: Rewrite = {
  code: 'ERR_COMPONENT_IMPORT',
  message: 'require is not available: components are ES modules in a sandbox with no Node APIs',
  hint: 'use a static import of \'@islet/sdk\' or of a file in the component folder',
}

// esbuild's own messages that compile.ts raises to errors with `logOverride`: they are esbuild's only view of
// module-system uses it cannot bundle, and it sees them in the parsed source (so never in strings or comments).
const BY_ID: Readonly<Record<string, Rewrite>> = {
  'unsupported-dynamic-import': COMPUTED_IMPORT,
  'unsupported-require-call': REQUIRE,
  'indirect-require': REQUIRE,
  'empty-import-meta': {
    code: 'ERR_COMPONENT_IMPORT',
    message: 'import.meta has no meaning in the sandbox: a component has no module URL or resolver',
    hint: 'pass what you need through the component config',
  },
}
export const ESCALATED_MESSAGE_IDS = Object.keys(BY_ID)

/** Diagnostics, sorted, for the errors of a failed build. */
export function diagnosticsOf(errors: readonly Message[], state: InputState): Diagnostic[] {
  return sortDiagnostics(errors.map((message) => diagnosticOf(message, state)))
}

function diagnosticOf(message: Message, state: InputState): Diagnostic {
  const entryStart = { file: state.entryPath, line: 1, col: 1 }
  const where = locate(message, state) ?? entryStart
  const detail = message.detail as Partial<IssueDetail> | undefined
  if (detail?.code) return diagnostic(detail.at ?? where, detail.code, message.text, detail.hint ?? '')
  const rewrite = BY_ID[message.id]
  if (rewrite) return diagnostic(where, rewrite.code, rewrite.message, rewrite.hint)
  // The virtual entry only re-exports the entry's default: any error located there means there is none.
  if (message.location?.file.startsWith(`${NAMESPACES.entry}:`)) {
    return diagnostic(entryStart, 'ERR_COMPONENT_COMPILE', 'no default export; export default defineComponent({...})', COMPONENT_SHAPE)
  }
  // esbuild tries glob-expanding `import(`./x/${name}.ts`)`; with no file namespace it cannot, and says so.
  if (message.text.startsWith('Could not resolve')) return diagnostic(where, COMPUTED_IMPORT.code, COMPUTED_IMPORT.message, COMPUTED_IMPORT.hint)
  if (message.text.startsWith('Top-level await')) {
    return diagnostic(where, 'ERR_COMPONENT_SYNTAX', 'top-level await is not supported: a component is evaluated as a script, not a module',
      'do asynchronous setup in init(), or inside execute()')
  }
  // Everything else esbuild rejects is a parse error or an import of a name the imported file does not export.
  // Types are not checked at all (esbuild strips them): type errors are the editor's and `tsc`'s job.
  const note = message.notes.find((n) => n.text)?.text
  return diagnostic(where, 'ERR_COMPONENT_SYNTAX', message.text, note ?? 'fix the source at this position')
}

function diagnostic(at: SourceLocation & { endLine?: number; endCol?: number }, code: ErrorCode, message: string, hint: string): Diagnostic {
  const end = at.endLine !== undefined && at.endCol !== undefined ? { endLine: at.endLine, endCol: at.endCol } : {}
  return { file: at.file, line: at.line, col: at.col, ...end, severity: 'error', code, path: '', message, hint }
}

/** esbuild's location (`component:lib/x.ts`, 0-based column) as an absolute file and 1-based line and column. */
function locate(message: Message, state: InputState): (SourceLocation & { endLine: number; endCol: number }) | undefined {
  const location = message.location
  if (!location) return undefined
  const colon = location.file.indexOf(':')
  const namespace = location.file.slice(0, colon)
  const key = location.file.slice(colon + 1)
  const file = namespace === NAMESPACES.component ? join(state.root, key)
    : namespace === NAMESPACES.sdk ? join(state.sdkDir, key)
      : namespace === NAMESPACES.entry ? state.entryPath : location.file
  // esbuild's ranges stay on one line (the length is in bytes: close enough for the ASCII of import specifiers).
  return { file, line: location.line, col: location.column + 1, endLine: location.line, endCol: location.column + 1 + location.length }
}
