// The set of files an app is made of: the root and its imports, depth-first, each read, parsed, interpolated, checked.
import { realpath } from 'node:fs/promises'
import { dirname, relative, resolve } from 'node:path'
import { isMap, isScalar, isSeq } from 'yaml'
import { escapeOf, outsideMessage } from './confine.ts'
import type { Diagnostic } from './diagnostics.ts'
import { interpolate, type Env } from './interpolate.ts'
import { diagnosticAt, type PathSegment } from './locate.ts'
import { parseYaml, readYamlFile, toValue, type ParsedFile } from './parse.ts'
import { FILE_SCHEMA } from './schema.ts'
import { schemaDiagnostics, show } from './schema-errors.ts'
import { SUPPORTED_API_VERSIONS } from './types.ts'
import { check } from './validate.ts'

/** A file whose structure is usable (its own errors, if any, are already reported). */
export interface LoadedFile {
  parsed: ParsedFile
  /** Its path relative to the root file's folder, as messages and the hash name it. */
  name: string
  value: Record<string, unknown>
}

export interface FileSetOptions {
  env: Env
  maxFileBytes?: number
}

export interface FileSet {
  /** Root first, then imports depth-first in order; each file once. */
  files: LoadedFile[]
  /** Every file read, root first, in import order (also those with errors). */
  texts: { name: string; text: string }[]
  diagnostics: Diagnostic[]
  /** Environment variables consulted, for the hash. */
  env: Map<string, string | undefined>
  /** `file\0path` of values whose interpolation failed (see InterpolateResult.failed). */
  failed: Set<string>
}

const SUPPORTED: readonly string[] = SUPPORTED_API_VERSIONS

/** Loads `root` (absolute) and everything it imports; never throws for a problem in the files. */
export async function loadFiles(root: string, options: FileSetOptions): Promise<FileSet> {
  const rootDir = dirname(root)
  const set: FileSet = { files: [], texts: [], diagnostics: [], env: new Map(), failed: new Set() }
  const done = new Set<string>()
  const stack: { key: string; file: string }[] = []
  const name = (file: string) => relative(rootDir, file) || file

  async function visit(file: string, from?: { parsed: ParsedFile; path: PathSegment[]; written: string }): Promise<void> {
    // The real path identifies a file however it is reached (`./a.yaml`, `sub/../a.yaml`, a symlink).
    const key = await realpath(file).catch(() => file)
    const report = (code: Diagnostic['code'], message: string, hint?: string) => set.diagnostics.push(from
      ? diagnosticAt(from.parsed, from.path, code, message, hint)
      : { file, line: 1, col: 1, severity: 'error', code, path: '', message, ...(hint ? { hint } : {}) })
    // Refused before it is read: a file outside the app is not the app's to load, nor to quote in a message.
    const escape = from && escapeOf(rootDir, file)
    if (from && escape) {
      const { message, hint } = outsideMessage(from.written, file, escape, { dir: rootDir, kind: 'app' })
      return void report('ERR_CONFIG_PATH_OUTSIDE', `imports: ${message}`, hint)
    }
    const open = stack.findIndex((f) => f.key === key)
    if (open >= 0) {
      const chain = [...stack.slice(open).map((f) => f.file), file].map(name).join(' → ')
      return void report('ERR_CONFIG_IMPORT_CYCLE', `import cycle: ${chain}`,
        'move what both files need into a third file that both import')
    }
    if (done.has(key)) return // imported again through another path (a diamond): loaded once
    done.add(key)

    const read = await readYamlFile(file, options.maxFileBytes)
    if ('failure' in read) return void report(read.failure.code, read.failure.message.replace(file, name(file)), read.failure.hint)
    set.texts.push({ name: name(file), text: read.text })
    const { parsed, diagnostics } = parseYaml(file, read.text)
    set.diagnostics.push(...diagnostics)
    if (!parsed) return
    const foreign = notAConfig(parsed)
    if (foreign) return void set.diagnostics.push(foreign)
    const interpolated = interpolate(parsed, options.env)
    set.diagnostics.push(...interpolated.diagnostics)
    for (const [key, value] of interpolated.used) set.env.set(key, value)
    for (const path of interpolated.failed) set.failed.add(`${file}\0${path}`)

    let value: unknown
    try {
      value = toValue(parsed)
    } catch (error) {
      // checkNodes bounds aliases first; this is yaml's own guard, kept should the two ever disagree.
      return void set.diagnostics.push(diagnosticAt(parsed, [], 'ERR_CONFIG_ALIAS_LIMIT', (error as Error).message))
    }
    const checked = checkFile(parsed, value)
    set.diagnostics.push(...checked.diagnostics)
    if (!checked.value) return
    set.files.push({ parsed, name: name(file), value: checked.value })

    const imports = checked.value.imports
    if (!Array.isArray(imports)) return
    stack.push({ key, file })
    for (const [i, entry] of imports.entries()) {
      if (typeof entry === 'string' && entry) await visit(resolve(dirname(file), entry), { parsed, path: ['imports', i], written: entry })
    }
    stack.pop()
  }

  await visit(root)
  return set
}

/**
 * apiVersion first (an unknown one makes the rest meaningless), then the file structure. Returns the value when it
 * is a mapping worth declaring from.
 */
function checkFile(parsed: ParsedFile, value: unknown): { value?: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const versions = SUPPORTED.join(', ')
  const add = `add 'apiVersion: ${SUPPORTED.at(-1)}' at the top; every file needs it, imported ones too`
  if (value === null || value === undefined) {
    return { diagnostics: [diagnosticAt(parsed, [], 'ERR_CONFIG_VERSION', 'the file is empty: missing apiVersion', add)] }
  }
  if (typeof value !== 'object' || Array.isArray(value)) return { diagnostics: [] } // notAConfig reported it
  const record = value as Record<string, unknown>
  const diagnostics: Diagnostic[] = []
  const version = record.apiVersion
  if (version === undefined) {
    diagnostics.push(diagnosticAt(parsed, ['apiVersion'], 'ERR_CONFIG_VERSION', 'missing apiVersion', add))
  } else if (typeof version !== 'string' || !SUPPORTED.includes(version)) {
    diagnostics.push(diagnosticAt(parsed, ['apiVersion'], 'ERR_CONFIG_VERSION',
      `unsupported apiVersion '${show(version)}'; this engine reads ${versions}`,
      `write the file for apiVersion ${SUPPORTED.at(-1)}, or run an Islet that reads '${show(version)}'`))
    return { diagnostics }
  }
  const result = check(FILE_SCHEMA, record)
  diagnostics.push(...schemaDiagnostics(parsed, [], result.errors))
  return { value: record, diagnostics }
}

const FILE_KEYS = new Set(Object.keys(FILE_SCHEMA.properties))
const NOT_A_CONFIG_HINT = 'is this the file you meant? a config file is a mapping that starts with apiVersion: and ' +
  'holds keys such as imports:, modules: and pipelines:'

/**
 * The one diagnostic for a file that is no config at all (a scalar, a list, a mapping without a single config key),
 * or undefined. It says what the file is, never what it holds: such a file may be anything (a key, a password
 * file), and nothing else is checked in it, not even its ${…} references, so no message quotes it.
 */
function notAConfig(parsed: ParsedFile): Diagnostic | undefined {
  const root = parsed.doc.contents
  if (root === null || isMap(root) && root.items.some((p) => isScalar(p.key) && FILE_KEYS.has(String(p.key.value)))) {
    return undefined
  }
  const kind = isMap(root) ? 'a mapping without any config key' : isSeq(root) ? 'a list'
    : isScalar(root) ? `a ${root.value === null ? 'null' : typeof root.value === 'object' ? 'scalar' : typeof root.value}`
    : 'an alias'
  return diagnosticAt(parsed, [], isMap(root) ? 'ERR_CONFIG_VERSION' : 'ERR_CONFIG_SCHEMA',
    `not a config file: a config file must be a mapping (apiVersion, imports, modules, pipelines, components, sandbox), got ${kind}`,
    NOT_A_CONFIG_HINT)
}
