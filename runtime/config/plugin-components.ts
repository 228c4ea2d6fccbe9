// A `components:` entry naming a registry plugin's component: `{ plugin: '@acme/geo', component: geocode, grants }`.
// The component is the package's TypeScript file in the plugin's extracted folder, compiled and run in the sandbox
// like any component, with only what the entry grants; it must grant at least what the package says the component
// requests, or it is refused here with the list (a component that cannot work should not start).
import { join } from 'node:path'
import { isRecord } from '@islet/sdk'
import { namesNonPublicAddress } from '../sandbox/capabilities/fetch/address-policy.ts'
import { didYouMean } from '../suggest.ts'
import { identityOf, kindOf } from './component-files.ts'
import { COMPONENT_NAME, NO_GRANTS } from './component-schema.ts'
import type { Candidate } from './component-candidate.ts'
import { escapeOf } from './confine.ts'
import { where } from './declare.ts'
import type { Diagnostic } from './diagnostics.ts'
import { checkGrants } from './grants.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, type PathSegment } from './locate.ts'
import { missingCapabilities } from './plugin-capabilities.ts'
import type { MaterializedPlugin } from './registry-plugins.ts'
import type { ComponentDecl, ComponentGrants, Limits } from './types.ts'

const NAME = new RegExp(COMPONENT_NAME)

export async function pluginComponent(file: LoadedFile, raw: Record<string, unknown>, path: PathSegment[],
  packages: ReadonlyMap<string, MaterializedPlugin>, diagnostics: Diagnostic[]): Promise<Candidate[]> {
  const at = (key: string) => [...path, key]
  const fail = (key: string, code: Diagnostic['code'], message: string, hint: string) =>
    void diagnostics.push(diagnosticAt(file.parsed, at(key), code, message, hint))
  if (raw.file !== undefined || raw.directory !== undefined) {
    fail('plugin', 'ERR_CONFIG_SCHEMA', 'a component entry takes plugin: or file:/directory:, not both', 'split it into two entries')
    return []
  }
  const { plugin: pluginName, component } = raw
  if (typeof pluginName !== 'string' || typeof component !== 'string') {
    fail(typeof pluginName === 'string' ? 'plugin' : 'component', 'ERR_CONFIG_SCHEMA', 'a plugin component entry needs both plugin: and component:',
      "e.g. { plugin: '@acme/geo', component: geocode, grants: { … } }")
    return []
  }
  diagnostics.push(...checkGrants(file, raw.grants, at('grants')))
  const pkg = packages.get(pluginName)
  if (!pkg) {
    const loaded = [...packages.keys()]
    const meant = didYouMean(pluginName, loaded)
    fail('plugin', 'ERR_PLUGIN_NOT_FOUND', `plugin '${pluginName}' is not among the app's registry plugins${loaded.length ? ` (${loaded.join(', ')})` : ''}`,
      `${meant ? `${meant} Else add` : 'add'} it to the plugins: map (e.g. '${pluginName}': ^1.0.0) with islet plugin add ${pluginName}`)
    return []
  }
  const id = `${pkg.name}@${pkg.version}`
  const provided = pkg.packageJson.islet.components ?? {}
  const provision = Object.hasOwn(provided, component) ? provided[component] : undefined
  if (!provision) {
    const names = Object.keys(provided)
    fail('component', 'ERR_PLUGIN_MANIFEST', `${id} provides no component '${component}'${names.length ? `; it provides ${names.join(', ')}` : '; it provides no components'}`,
      names.length ? `write component: ${names[0]}, or another of those` : `this version of ${pkg.name} has none: pin another, or remove this entry`)
    return []
  }
  const target = join(pkg.dir, provision.file)
  if (escapeOf(pkg.dir, target) || await kindOf(target) !== 'file') {
    fail('component', 'ERR_PLUGIN_MANIFEST', `${id} lists component '${component}' at ${provision.file}, which is not a file in the package`,
      'the package is malformed: pin another version, or report it to its author')
    return []
  }
  const grants = (isRecord(raw.grants) ? structuredClone(raw.grants) : NO_GRANTS) as ComponentGrants
  const missing = missingCapabilities(provision.capabilities, grants as Record<string, unknown>)
  if (missing.length > 0) {
    fail(isRecord(raw.grants) ? 'grants' : 'component', 'ERR_PLUGIN_CAPABILITIES_NOT_GRANTED',
      `${id}'s component '${component}' requests ${missing.join(', ')}, beyond the grants of this entry`,
      `grant them under grants: if you accept that (e.g. ${grantExample(missing)}), or do not use this component`)
    return []
  }
  const name = typeof raw.name === 'string' ? raw.name : component
  if (raw.name === undefined && !NAME.test(name)) {
    fail('component', 'ERR_CONFIG_SCHEMA', `the component name '${name}' taken from ${id} must match ${COMPONENT_NAME}`, 'add a name: for it')
  }
  const source = locate(file.parsed, path)
  const hasConfig = raw.config !== undefined
  const decl: ComponentDecl = { name, file: target, limits: structuredClone(isRecord(raw.limits) ? raw.limits : {}) as Limits, grants,
    config: hasConfig ? structuredClone(raw.config) : {}, source, configSource: hasConfig ? locate(file.parsed, at('config')) : source }
  const key = raw.name === undefined ? 'component' : 'name'
  return [{ decl, identity: await identityOf(target), isExplicit: true, file, at: at(key), label: `at ${where(file, locate(file.parsed, at(key)))} (${id})` }]
}

/** A grants: snippet covering what is missing, to copy. */
function grantExample(missing: readonly string[]): string {
  const by = new Map<string, string[]>()
  for (const item of missing) {
    const [capability, value] = item.split(' ', 2) as [string, string | undefined]
    // `fetch (as true, not a list)`: a shape to report, not an item to grant.
    by.set(capability, [...(by.get(capability) ?? []), ...(value && !value.startsWith('(') ? [value] : [])])
  }
  // A loopback or private origin also needs privateOrigins, or every call is refused at run time.
  const privateOf = (origins: string[]) => origins.filter(namesNonPublicAddress)
  return `{ ${[...by].map(([c, values]) => c === 'kv' ? 'kv: true' : c === 'fetch'
    ? `fetch: { origins: [${values.join(', ')}]${privateOf(values).length ? `, privateOrigins: [${privateOf(values).join(', ')}]` : ''} }`
    : values.length ? `${c}: [${values.join(', ')}]` : `${c}: true`).join(', ')} }`
}
