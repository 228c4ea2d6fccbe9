// The `plugins:` map of an app's YAML, read and edited in place. yaml's Document API finds the nodes (with their
// source ranges); the edit splices only the text of the entry it changes, so every comment, the spacing, the quoting
// and the order of everything else stay byte for byte as the author wrote them.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { isMap, isScalar, isSeq, parseDocument, stringify, type Document, type Node, type Pair, type YAMLMap } from 'yaml'
import { IsletError } from '../errors.ts'

/** One `plugins:` map entry: `name: range` or `name: { version, host, services }`. */
export interface PluginEntry { range: string; host?: boolean; services?: string[]; /** Binds the plugin's scope, as in registries:. */ registry?: string }

export interface AppYaml {
  file: string
  text: string
  doc: Document
}

export function readAppYaml(file: string): AppYaml {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no app file '${file}'; pass the app's YAML as the last argument, e.g. islet plugin list path/to/app.yaml`)
  }
  return parsed(file, text)
}

function parsed(file: string, text: string): AppYaml {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const at = e.linePos?.[0]
    throw new IsletError('ERR_CONFIG_YAML_SYNTAX', `${file}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]}; fix the YAML first`)
  }
  if (doc.contents !== null && !isMap(doc.contents)) throw new IsletError('ERR_CONFIG_SCHEMA', `${file}: the app file is not a mapping (apiVersion:, modules:, …)`)
  return { file, text, doc }
}

/** `file:line:col` of a node, for messages. */
export function whereOf(app: AppYaml, node: unknown): string {
  const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0]
  if (offset === undefined) return app.file
  const before = app.text.slice(0, offset)
  const line = before.split('\n').length
  return `${app.file}:${line}:${offset - before.lastIndexOf('\n')}`
}

/** The `plugins:` map, undefined when the file has none; the list form (paths, installed packages) is refused. */
function pluginsMap(app: AppYaml): YAMLMap | undefined {
  const node = (app.doc.contents as YAMLMap | null)?.get('plugins', true) as Node | undefined
  if (node === undefined || (isScalar(node) && node.value === null)) return undefined
  if (isSeq(node)) {
    throw new IsletError('ERR_CONFIG_SCHEMA', `${whereOf(app, node)}: plugins: is in the list form (paths and installed packages); registry plugins by version range use the map form ('@acme/geo': ^1.2.0). Keep the listed plugins in an imported file, or turn the list into the map form`)
  }
  if (!isMap(node)) throw new IsletError('ERR_CONFIG_SCHEMA', `${whereOf(app, node)}: plugins: must be a map of plugin names to version ranges`)
  return node
}

function keyOf(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key)
}

/** The app's registry plugins: name → entry (and where it is written), in file order. */
export function pluginEntries(app: AppYaml): Map<string, PluginEntry & { where: string }> {
  const entries = new Map<string, PluginEntry & { where: string }>()
  for (const pair of pluginsMap(app)?.items ?? []) {
    const name = keyOf(pair)
    const value = pair.value
    const where = whereOf(app, pair.key)
    if (isScalar(value)) entries.set(name, { range: String(value.value), where })
    else if (isMap(value)) {
      const services = value.get('services')
      const registry = value.get('registry')
      entries.set(name, {
        range: String(value.get('version') ?? '*'), where,
        ...(value.get('host') === true ? { host: true } : {}),
        ...(typeof registry === 'string' ? { registry } : {}),
        ...(isSeq(services) ? { services: services.items.map((s) => String(isScalar(s) ? s.value : s)) } : {}),
      })
    } else throw new IsletError('ERR_CONFIG_SCHEMA', `${where}: plugins: '${name}' must be a version range or { version, host, services }`)
  }
  return entries
}

/** A scalar as YAML writes it plainly when it can (`^1.2.0`), quoted when it must (`'*'`, `'>=1.0.0'`). */
function scalarText(value: string): string {
  return stringify(value, { defaultStringType: 'PLAIN', singleQuote: true }).trimEnd()
}

function keyText(name: string): string {
  // '@' cannot start a plain YAML scalar: quote it the way the docs write it.
  return name.startsWith('@') ? `'${name}'` : scalarText(name)
}

function entryText(entry: PluginEntry): string {
  if (entry.host !== true && entry.services === undefined) return scalarText(entry.range)
  const parts = [`version: ${scalarText(entry.range)}`]
  if (entry.host) parts.push('host: true')
  if (entry.services) parts.push(`services: [${entry.services.map(scalarText).join(', ')}]`)
  return `{ ${parts.join(', ')} }`
}

function splice(app: AppYaml, start: number, end: number, text: string): void {
  const next = parsed(app.file, app.text.slice(0, start) + text + app.text.slice(end))
  app.text = next.text
  app.doc = next.doc
}

function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset)
  return nl < 0 ? text.length : nl
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1
}

/**
 * Adds or changes one entry. An entry already in the map keeps its place, its form and its comments: a plain range
 * has its range replaced; a `{ version, … }` map its version (and the whole value only when host/services change).
 * A new entry goes after the last one, at their indentation; a file without `plugins:` gets the map at its end.
 */
export function setPluginEntry(app: AppYaml, name: string, entry: PluginEntry): void {
  const map = pluginsMap(app)
  const pair = map?.items.find((p) => keyOf(p) === name)
  const value = pair?.value as Node | undefined
  if (pair && value?.range) {
    const sameTrust = entry.host === undefined && entry.services === undefined
    if (isMap(value) && sameTrust) {
      const version = value.get('version', true) as Node | undefined
      if (version?.range) return splice(app, version.range[0], version.range[1], scalarText(entry.range))
    }
    if (isScalar(value) && sameTrust) return splice(app, value.range![0], value.range![1], scalarText(entry.range))
    const current = pluginEntries(app).get(name)!
    return splice(app, value.range[0], value.range[1], entryText({ ...current, ...entry, range: entry.range }))
  }
  const line = `${keyText(name)}: ${entryText(entry)}`
  if (map && map.items.length > 0 && !map.flow) {
    const last = map.items.at(-1)!
    const keyNode = map.items[0]!.key as Node
    const indent = keyNode.range![0] - lineStart(app.text, keyNode.range![0])
    const after = lineEnd(app.text, ((last.value ?? last.key) as Node).range![1])
    return splice(app, after, after, `\n${' '.repeat(indent)}${line}`)
  }
  if (map) {
    // `plugins: {}` or a flow map: rewrite that value as a block map.
    const items = [...pluginEntries(app)].map(([n, e]) => `  ${keyText(n)}: ${entryText(e)}`)
    const node = (app.doc.contents as YAMLMap).get('plugins', true) as Node
    return splice(app, node.range![0], node.range![1], `\n${[...items, `  ${line}`].join('\n')}`)
  }
  const root = app.doc.contents as YAMLMap | null
  const empty = root?.get('plugins', true) as Node | undefined
  if (empty?.range) return splice(app, empty.range[0], empty.range[1], `\n  ${line}`)
  const end = app.text.length === 0 || app.text.endsWith('\n') ? '' : '\n'
  splice(app, app.text.length, app.text.length, `${end}plugins:\n  ${line}\n`)
}

/** The entry's line as setPluginEntry writes it, for showing before writing. */
export function entryLine(name: string, entry: PluginEntry): string {
  return `${keyText(name)}: ${entryText(entry)}`
}

/** Removes one entry (its lines; comments above it stay); false when the app has no such entry. */
export function removePluginEntry(app: AppYaml, name: string): boolean {
  const map = pluginsMap(app)
  const pair = map?.items.find((p) => keyOf(p) === name)
  if (!map || !pair) return false
  if (map.items.length === 1) {
    // The last one: an empty map stays a map (`plugins: {}`), and comments around it stay too.
    if (map.flow) {
      splice(app, map.range![0], map.range![1], '{}')
      return true
    }
    // A block map starts at its first key, on the line below `plugins:`: writing `{}` there would leave it alone on
    // a line of its own. Drop the entry's lines, then put `{}` after the colon.
    const start = lineStart(app.text, (pair.key as Node).range![0])
    const end = lineEnd(app.text, ((pair.value ?? pair.key) as Node).range![1])
    const key = (app.doc.contents as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === 'plugins')!.key as Node
    const colon = app.text.indexOf(':', key.range![1])
    splice(app, start, Math.min(end + 1, app.text.length), '')
    splice(app, colon + 1, colon + 1, ' {}')
    return true
  }
  if (map.flow) {
    const rest = [...pluginEntries(app)].filter(([n]) => n !== name).map(([n, e]) => `${keyText(n)}: ${entryText(e)}`)
    splice(app, map.range![0], map.range![1], `{ ${rest.join(', ')} }`)
    return true
  }
  const start = lineStart(app.text, (pair.key as Node).range![0])
  const end = lineEnd(app.text, ((pair.value ?? pair.key) as Node).range![1])
  splice(app, start, Math.min(end + 1, app.text.length), '')
  return true
}

/** Where the file's `components:` entries call `plugin`'s components (file:line:col each): they break without it. */
export function componentUses(app: AppYaml, plugin: string): string[] {
  const contents = app.doc.contents
  const list = isMap(contents) ? contents.get('components', true) : undefined
  if (!isSeq(list)) return []
  return list.items.filter((item) => isMap(item) && item.get('plugin') === plugin).map((item) => whereOf(app, item))
}

/** The app's `registries:` as written (the caller interpolates), undefined when absent. */
export function registriesOf(app: AppYaml): unknown {
  return (app.doc.toJS() as Record<string, unknown> | null)?.registries
}

/** Writes the edited file through a temporary file and a rename: a crash never leaves half a YAML file. */
export function writeAppYaml(app: AppYaml): void {
  const temporary = `${app.file}.${process.pid}.tmp`
  writeFileSync(temporary, app.text)
  renameSync(temporary, app.file)
}
