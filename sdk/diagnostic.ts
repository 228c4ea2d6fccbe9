// The one diagnostic shape Islet reports problems in, to people and to tools: `islet validate --format json`,
// `islet component test --format json`, `islet dev --format json` and the admin event stream (`/admin/events`) all
// carry exactly this. It is a public interface: fields are only ever added, as optional ones.

/**
 * One located, coded problem. Every key is always present; what is unknown is `null` (an error with no place in a
 * file, such as a port already in use, has `file`, `line` and `column` null).
 */
export interface Diagnostic {
  /** Stable `ERR_*` code; match on it, never on `message`. */
  code: string
  severity: 'error' | 'warning'
  /** What is wrong, in one sentence (may hold more lines for a nested cause). */
  message: string
  /** Absolute path of the file the problem is in. */
  file: string | null
  /** 1-based line in `file`. */
  line: number | null
  /** 1-based column in `line`. */
  column: number | null
  /** Where the problem's range ends (1-based, inclusive line, exclusive column); null when it is a point or unknown. */
  endLine?: number | null
  endColumn?: number | null
  /** How to fix it, e.g. "did you mean 'port'?"; null when there is nothing more to say than the message. */
  hint: string | null
  /**
   * For config files: the dotted path of the value inside the YAML document (`modules.4.config.port`), so an editor
   * can find the node even after the text moved; absent for other files.
   */
  path?: string
  /**
   * A machine-applicable fix: `text` replaces the range line:column–endLine:endColumn of `file` (e.g. an import of
   * `node:crypto` removed, a wrong component name corrected). Only where the fix is certain.
   */
  replacement?: { text: string }
}

/** JSON Schema (draft 2020-12) of `Diagnostic`; tools may validate what they read against it. */
export const DIAGNOSTIC_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://islet.dev/schemas/diagnostic.json',
  title: 'Islet diagnostic',
  type: 'object',
  // Open: a later version may add optional fields, and a tool validating with this schema must still accept them.
  required: ['code', 'severity', 'message', 'file', 'line', 'column', 'hint'],
  properties: {
    code: { type: 'string', pattern: '^ERR_[A-Z0-9_]+$' },
    severity: { enum: ['error', 'warning'] },
    message: { type: 'string', minLength: 1 },
    file: { type: ['string', 'null'], minLength: 1 },
    line: { type: ['integer', 'null'], minimum: 1 },
    column: { type: ['integer', 'null'], minimum: 1 },
    hint: { type: ['string', 'null'] },
    path: { type: 'string' },
    endLine: { type: ['integer', 'null'], minimum: 1 },
    endColumn: { type: ['integer', 'null'], minimum: 1 },
    replacement: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
  },
} as const
