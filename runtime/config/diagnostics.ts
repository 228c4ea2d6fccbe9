// Config diagnostics: one located, coded finding, and the two ways the CLI prints them.
import { relative } from 'node:path'
import type { Diagnostic as PublicDiagnostic } from '@islet/sdk'
import { RegistryError, type RegistryErrorCode } from '../../registry/errors.ts'
import { IsletError, type ErrorCode } from '../errors.ts'

export type { PublicDiagnostic }

/** A position in a config file; 1-based line and column. */
export interface SourceLocation {
  file: string
  line: number
  col: number
}

/** A diagnostic's code: the runtime's, or the registry client's for a plugin it refused (ERR_REGISTRY_INTEGRITY, …). */
export type DiagnosticCode = ErrorCode | RegistryErrorCode

/** The code of an error the runtime or the registry client threw, else `fallback`. */
export function codeOfThrown(error: unknown, fallback: DiagnosticCode): DiagnosticCode {
  return error instanceof IsletError || error instanceof RegistryError ? error.code : fallback
}

/** One problem found in a config, located as precisely as the YAML allows. */
export interface Diagnostic extends SourceLocation {
  severity: 'error' | 'warning'
  code: DiagnosticCode
  /** Dotted path inside the file, e.g. `modules.2.config.port` (empty for the document itself). */
  path: string
  message: string
  /** How to fix it, e.g. "did you mean 'port'?". */
  hint?: string
  /** Where the range ends (1-based line, exclusive 1-based column), when the finder knows it (esbuild, TypeScript). */
  endLine?: number
  endCol?: number
  /** A certain fix: `text` replaces line:col–endLine:endCol (see sdk Diagnostic.replacement). */
  replacement?: { text: string }
}

/** `path:line:col severity CODE message (hint)`, the format editors and `islet validate` use. */
export function formatDiagnostic(d: Diagnostic | PublicDiagnostic, cwd = process.cwd()): string {
  const column = 'col' in d ? d.col : d.column
  const file = d.file === null ? '' : relative(cwd, d.file) || d.file
  const where = file === '' ? '' : d.line === null ? `${file} ` : `${file}:${d.line}:${column} `
  const at = d.path ? ` at ${d.path}` : ''
  return `${where}${d.severity} ${d.code} ${d.message}${at}${d.hint ? ` (${d.hint})` : ''}`
}

export function formatDiagnostics(diagnostics: readonly (Diagnostic | PublicDiagnostic)[], cwd = process.cwd()): string {
  return diagnostics.map((d) => formatDiagnostic(d, cwd)).join('\n')
}

/** Orders diagnostics by file, line and column so output is stable. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col)
}

/** Thrown when a config cannot be used; carries every diagnostic, not just the first. */
export class ConfigError extends IsletError {
  readonly diagnostics: readonly Diagnostic[]
  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error')
    super('ERR_CONFIG_INVALID',
      `config has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${formatDiagnostics(diagnostics)}`,
      { details: { diagnostics } })
    this.diagnostics = diagnostics
  }
}

/**
 * The public shape (sdk `Diagnostic`) of a diagnostic: what `--format json` prints and the admin event stream carries.
 * The file stays absolute: a tool reading it may run elsewhere than the command did.
 */
export function toPublicDiagnostic(d: Diagnostic): PublicDiagnostic {
  return {
    code: d.code, severity: d.severity, message: d.message, file: d.file, line: d.line, column: d.col, hint: d.hint ?? null,
    ...(d.path ? { path: d.path } : {}),
    ...(d.endLine !== undefined && d.endCol !== undefined ? { endLine: d.endLine, endColumn: d.endCol } : {}),
    ...(d.replacement && d.endLine !== undefined ? { replacement: { text: d.replacement.text } } : {}),
  }
}

/** A public diagnostic for an error that has no diagnostics of its own; located when the caller knows where. */
export function diagnosticOfError(code: string, message: string, at?: Partial<SourceLocation>, hint?: string): PublicDiagnostic {
  return { code, severity: 'error', message, file: at?.file ?? null, line: at?.line ?? null, column: at?.col ?? null, hint: hint ?? null }
}
