// The set of files an app is made of: the root and its imports, depth-first, each read, parsed, interpolated, checked.
import { realpath } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
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
  /** Its path relative to the root file's folder, as messages and the hash name it (`@acme/geo/x.yaml` for a plugin's). */
  name: string
  value: Record<string, unknown>
  /** The folder its paths must stay in when it is not the app's: a registry plugin's package folder. */
  root?: string
}

/** Where an import comes from: the file, the `imports:` item, and the folder the imported file's paths stay in. */
export interface ImportFrom {
  parsed: ParsedFile
  path: PathSegment[]
  written: string
  /** A registry plugin's folder (imports from a plugin's YAML stay in its package); unset: the app folder. */
  root?: string
  /** How messages name the file (`@acme/geo/pipelines/geo.yaml`). */
  shown?: string
}

/** An `imports:` item that names a registry plugin's YAML file, loaded once the plugins are (plugin-imports.ts). */
export interface PluginImport {
  written: string
  from: ImportFrom
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
  /** Imports of registry plugins' YAML files, in order: loaded by loadPluginImports once the plugins are. */
  pluginImports: PluginImport[]
  /** Loads one more file into the set, as an import from `from` (and what it imports). */
  importFile(file: string, from: ImportFrom): Promise<void>
}

const SUPPORTED: readonly string[] = SUPPORTED_API_VERSIONS

/** Loads `root` (absolute) and everything it imports; never throws for a problem in the files. */
export async function loadFiles(root: string, options: FileSetOptions): Promise<FileSet> {
  const rootDir = dirname(root)
  const done = new Set<string>()
  const stack: { key: string; file: string }[] = []
  const name = (file: string) => relative(rootDir, file) || file
  const set: FileSet = { files: [], texts: [], diagnostics: [], env: new Map(), failed: new Set(), pluginImports: [],
    importFile: (file, from) => visit(file, from) }

  async function visit(file: string, from?: ImportFrom): Promise<void> {
    // The real path identifies a file however it is reached (`./a.yaml`, `sub/../a.yaml`, a symlink).
    const key = await realpath(file).catch(() => file)
    const report = (code: Diagnostic['code'], message: string, hint?: string) => set.diagnostics.push(from
      ? diagnosticAt(from.parsed, from.path, code, message, hint)
      : { file, line: 1, col: 1, severity: 'error', code, path: '', message, ...(hint ? { hint } : {}) })
    // Refused before it is read: a file outside the app is not the app's to load, nor to quote in a message.
    const escape = from && escapeOf(from.root ?? rootDir, file)
    if (from && escape) {
      const { message, hint } = outsideMessage(from.written, file, escape, { dir: from.root ?? rootDir, kind: from.root ? 'plugin' : 'app' })
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
    const shown = from?.shown ?? name(file)
    set.files.push({ parsed, name: shown, value: checked.value, ...(from?.root ? { root: from.root } : {}) })

    const imports = checked.value.imports
    if (!Array.isArray(imports)) return
    stack.push({ key, file })
    for (const [i, entry] of imports.entries()) {
      if (typeof entry !== 'string' || !entry) continue
      const at = { parsed, path: ['imports', i], written: entry }
      if (!from?.root && isPluginImport(entry, checked.value, set.files[0]?.value)) { set.pluginImports.push({ written: entry, from: at }); continue }
      await visit(resolve(dirname(file), entry), { ...at, ...(from?.root ? { root: from.root, shown: join(dirname(shown), entry) } : {}) })
    }
    stack.pop()
  }

  await visit(root)
  return set
}

/**
 * An import of a registry plugin's YAML (`@acme/geo/pipelines/geo.yaml`): a scoped name, or a name the file's (or the
 * root's) `plugins:` map lists. Anything else is a path relative to the file, as imports always were.
 */
function isPluginImport(written: string, file: Record<string, unknown>, root: Record<string, unknown> | undefined): boolean {
  if (written.startsWith('@')) return true
  const first = written.split('/')[0]!
  return !written.startsWith('.') && [file, root].some((v) => isRecord(v?.plugins) && Object.hasOwn(v.plugins, first))
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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
