// The `components:` sections: entries resolved to files, directories scanned, names derived and checked, one decl each.
import { basename, dirname, relative, resolve } from 'node:path'
import { isRecord } from '@islet/sdk'
import { componentsIn, identityOf, kindOf, nameFromFile, suggestName } from './component-files.ts'
import { COMPONENT_NAME, NO_GRANTS } from './component-schema.ts'
import { escapeOf, outsideMessage } from './confine.ts'
import { where } from './declare.ts'
import type { Diagnostic } from './diagnostics.ts'
import { checkGrants } from './grants.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, type PathSegment } from './locate.ts'
import type { ComponentDecl, ComponentGrants, Limits, SlotDecl } from './types.ts'
import { declareSlot } from './slots.ts'
import type { Candidate } from './component-candidate.ts'
import { pluginComponent } from './plugin-components.ts'
import type { MaterializedPlugin } from './registry-plugins.ts'

export interface DeclaredComponents {
  /** In declaration order; a directory's components sorted by file name, where the directory entry stands. */
  components: ComponentDecl[]
  /** Deploy slots (`- slot: name`), in declaration order; their names are component names too. */
  slots: SlotDecl[]
  /** Every name declared, also those whose declaration has errors: references to them are not the problem. */
  names: string[]
  /** The folders of the `directory:` entries (absolute), also those that hold no component yet. */
  directories: string[]
  diagnostics: Diagnostic[]
}


const NAME = new RegExp(COMPONENT_NAME)
const ENTRY_KEYS = new Set(['file', 'directory', 'name', 'limits', 'grants', 'config'])

/**
 * Declares every component of `files`, in order. Entry files are only located here; the compiler reads them.
 * `packages` are the app's registry plugins, whose components a `{ plugin, component }` entry names.
 */
export async function declareComponents(files: readonly LoadedFile[],
  packages: ReadonlyMap<string, MaterializedPlugin> = new Map()): Promise<DeclaredComponents> {
  const diagnostics: Diagnostic[] = []
  const found: Candidate[] = []
  const refused = new Set<string>()
  const directories = new Set<string>()
  const slots: { decl: SlotDecl; file: LoadedFile; at: PathSegment[] }[] = []
  // The root file comes first; its folder is the app's, and every component lives in it.
  const appDir = files[0] ? dirname(files[0].parsed.file) : ''
  for (const file of files) {
    const list = Array.isArray(file.value.components) ? file.value.components : []
    for (const [i, raw] of list.entries()) {
      if (!isRecord(raw)) continue
      if (raw.slot !== undefined) {
        const decl = declareSlot(file, raw, ['components', i], diagnostics)
        if (decl) slots.push({ decl, file, at: ['components', i, 'slot'] })
        continue
      }
      const fromPlugin = raw.plugin !== undefined || raw.component !== undefined
      const candidates = fromPlugin
        ? await pluginComponent(file, raw, ['components', i], packages, diagnostics)
        : await resolveEntry(file, raw, ['components', i], file.root ?? appDir, diagnostics)
      // A plugin component refused here (grants short of its request, no such plugin) still names a component: a
      // pipeline calling it is not a second problem, only the entry is.
      const named = typeof raw.name === 'string' ? raw.name : raw.component
      if (fromPlugin && candidates?.length === 0 && typeof named === 'string') refused.add(named)
      if (!candidates) continue
      if (typeof raw.directory === 'string' && raw.directory) directories.add(resolve(dirname(file.parsed.file), raw.directory))
      found.push(...candidates)
    }
  }
  // Explicit beats implicit: a `file:` entry takes the place of what a `directory:` entry found for that file.
  const explicit = new Set(found.filter((c) => c.isExplicit).map((c) => c.identity))
  const first = new Map<string, Candidate>()
  const components: ComponentDecl[] = []
  for (const c of found) {
    if (!c.isExplicit && explicit.has(c.identity)) continue
    const prior = first.get(c.decl.name)
    if (!prior) {
      first.set(c.decl.name, c)
      components.push(c.decl)
      continue
    }
    diagnostics.push(diagnosticAt(c.file.parsed, c.at, 'ERR_CONFIG_DUPLICATE_COMPONENT',
      `component '${c.decl.name}' is declared twice: ${prior.label} and ${c.label}`,
      prior.isExplicit || c.isExplicit ? 'give one of them another name with name:; declarations are never merged'
        : prior.identity === c.identity ? 'two directory: entries find the same file: list each directory once'
        : 'rename one of the files, or add a file: entry with a name: for one of them'))
  }
  // Slots share the component namespace: a pipeline names either the same way.
  const slotDecls: SlotDecl[] = []
  const slotAt = new Map<string, string>()
  for (const s of slots) {
    const name = s.decl.name
    const prior = first.get(name)
    const priorSlot = slotAt.get(name)
    if (prior || priorSlot) {
      diagnostics.push(diagnosticAt(s.file.parsed, s.at, 'ERR_CONFIG_DUPLICATE_COMPONENT',
        `slot '${name}' is declared twice: ${prior ? prior.label : priorSlot} and at ${where(s.file, locate(s.file.parsed, s.at))}`,
        'slots and components share one namespace: give one of them another name'))
      continue
    }
    slotAt.set(name, `slot at ${where(s.file, locate(s.file.parsed, s.at))}`)
    slotDecls.push(s.decl)
  }
  return { components, slots: slotDecls, names: [...new Set([...first.keys(), ...refused, ...slotAt.keys()])], directories: [...directories], diagnostics }
}

/** The candidates one entry yields; its problems go to `diagnostics`. Undefined when its path leaves the app folder. */
async function resolveEntry(file: LoadedFile, raw: Record<string, unknown>, path: PathSegment[], appDir: string,
  diagnostics: Diagnostic[]): Promise<Candidate[] | undefined> {
  const report = (at: PathSegment[], message: string, hint: string, opts: { key?: boolean } = {}) =>
    diagnostics.push(diagnosticAt(file.parsed, at, 'ERR_CONFIG_SCHEMA', message, hint, opts))
  const hasFile = raw.file !== undefined
  const hasDirectory = raw.directory !== undefined
  if (hasFile && hasDirectory) {
    report(path, 'a component entry takes file: or directory:, not both',
      'split it into two entries: file: for one component, directory: for every component in a folder')
    return []
  }
  if (!hasFile && !hasDirectory) {
    // An unknown key is most likely a misspelt one of these, and the schema already says which.
    if (Object.keys(raw).every((k) => ENTRY_KEYS.has(k))) {
      report(path, 'a component entry needs file: or directory: (or plugin: with component:)',
        "file: ./components/quote.ts for one component, directory: ./components for every component in a folder, { plugin: '@acme/geo', component: geocode } for a plugin's")
    }
    return []
  }
  diagnostics.push(...checkGrants(file, raw.grants, [...path, 'grants']))
  const key = hasFile ? 'file' : 'directory'
  const written = raw[key]
  if (typeof written !== 'string' || !written) return [] // the schema reports it
  const target = resolve(dirname(file.parsed.file), written)
  const shown = relative(dirname(file.parsed.file), target) || '.'
  // Before anything is looked at: whether a file outside exists is not the config's to learn either.
  const escape = escapeOf(appDir, target)
  if (escape) {
    const { message, hint } = outsideMessage(written, target, escape, { dir: appDir, kind: 'app' })
    diagnostics.push(diagnosticAt(file.parsed, [...path, key], 'ERR_CONFIG_PATH_OUTSIDE', `${key}: ${message}`, hint))
    return undefined
  }
  const kind = await kindOf(target)
  if (kind !== key) {
    const why = kind === undefined ? 'does not exist' : kind === 'other' ? 'is not a regular file or directory'
      : kind === 'directory' ? 'is a directory, not a file' : 'is a file, not a directory'
    const hint = kind === 'directory' ? `use directory: ${written} for every component in it, or point file: at one of its files`
      : kind === 'file' ? `use file: ${written}` : `check the path; it is relative to ${file.name}`
    diagnostics.push(diagnosticAt(file.parsed, [...path, key], 'ERR_CONFIG_COMPONENT_NOT_FOUND', `${shown} ${why}`, hint))
    return []
  }
  const source = locate(file.parsed, path)
  // Fresh copies per component: a directory's components share one entry, YAML aliases share parsed objects.
  const limits = (): Limits => structuredClone(isRecord(raw.limits) ? raw.limits : {})
  const grants = (): ComponentGrants => structuredClone(isRecord(raw.grants) ? raw.grants as unknown as ComponentGrants : NO_GRANTS)

  if (hasFile) {
    const name = typeof raw.name === 'string' ? raw.name : nameFromFile(target)
    if (raw.name === undefined && !NAME.test(name)) {
      const fixed = suggestName(name)
      report([...path, 'file'], `the component name '${name}' taken from ${shown} must match ${COMPONENT_NAME}`,
        fixed ? `add name: ${fixed}, or rename the file` : 'add a name:, or rename the file')
    }
    const hasConfig = raw.config !== undefined
    const decl: ComponentDecl = { name, file: target, limits: limits(), grants: grants(),
      config: hasConfig ? structuredClone(raw.config) : {},
      source, configSource: hasConfig ? locate(file.parsed, [...path, 'config']) : source }
    const at = [...path, raw.name === undefined ? 'file' : 'name']
    return [{ decl, identity: await identityOf(target), isExplicit: true, file, at,
      label: `at ${where(file, locate(file.parsed, at))}` }]
  }

  // A directory entry: one name or config cannot fit every component in it.
  for (const k of ['name', 'config'] as const) {
    if (raw[k] !== undefined) {
      report([...path, k], `${k}: belongs to a single component; a directory: entry ${k === 'name'
        ? 'names each component after its file or folder' : 'gives the components in it grants and limits only'}`,
      `give that component its own file: entry with ${k}: there; it replaces the one found in ${written}`, { key: true })
    }
  }
  let entries: string[]
  try {
    entries = await componentsIn(target)
  } catch (error) {
    diagnostics.push(diagnosticAt(file.parsed, [...path, 'directory'], 'ERR_CONFIG_COMPONENT_NOT_FOUND',
      `${shown} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'check its permissions'))
    return []
  }
  if (entries.length === 0) {
    diagnostics.push({ ...diagnosticAt(file.parsed, [...path, 'directory'], 'ERR_CONFIG_COMPONENTS_EMPTY',
      `the directory ${shown} holds no components: no *.ts files and no folders with an index.ts`,
      'add a component, or remove this entry'), severity: 'warning' })
  }
  const candidates: Candidate[] = []
  for (const entry of entries) {
    const name = nameFromFile(entry)
    const entryShown = relative(dirname(file.parsed.file), entry)
    // A symlink in the folder (to a file, or a subfolder holding an index.ts) may lead out of the app folder.
    const entryEscape = escapeOf(appDir, entry)
    if (entryEscape) {
      const { message, hint } = outsideMessage(`./${entryShown}`, entry, entryEscape, { dir: appDir, kind: 'app' })
      diagnostics.push(diagnosticAt(file.parsed, [...path, 'directory'], 'ERR_CONFIG_PATH_OUTSIDE',
        `the component ${message}, found in ${written}`, hint))
      continue
    }
    if (!NAME.test(name)) {
      const fixed = suggestName(name)
      report([...path, 'directory'], `the component name '${name}' taken from ${entryShown} must match ${COMPONENT_NAME}`,
        `rename ${basename(entry) === 'index.ts' ? 'the folder' : 'the file'}${fixed ? ` (e.g. to ${fixed})` : ''}, or add an ` +
        `entry '- file: ./${entryShown}' with a name:${fixed ? ` ${fixed}` : ''}`)
    }
    const decl: ComponentDecl = { name, file: entry, directory: target, limits: limits(), grants: grants(), config: {}, source,
      configSource: source }
    const at = [...path, 'directory']
    candidates.push({ decl, identity: await identityOf(entry), isExplicit: false, file, at,
      label: `at ${where(file, locate(file.parsed, at))} (found there as ${entryShown})` })
  }
  return candidates
}
