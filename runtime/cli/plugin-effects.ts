// What a newly locked version means for the app as written, said before the next run refuses it: a component whose
// `components:` entry grants less than the new version requests, a component the new version no longer provides,
// host code the entry does not allow. `islet plugin upgrade` prints these; the lock is written all the same (the
// app's author decides: grant more, or pin the old range), and the run fails closed with the same findings.
import { isMap, isSeq } from 'yaml'
import { missingCapabilities } from '../config/plugin-capabilities.ts'
import type { AppYaml } from './plugins-yaml.ts'
import { whereOf } from './plugins-yaml.ts'
import type { PackumentVersion } from './registry-parts.ts'

/** One line per problem the new `version` of `name` makes for the app's own entries (none: it fits). */
export function effectsOf(app: AppYaml, name: string, version: PackumentVersion, hostAllowed: boolean): string[] {
  const id = `${name}@${version.version}`
  const notes: string[] = []
  if (version.islet?.host && !hostAllowed) {
    notes.push(`${id} now ships host code (${version.islet.host}), which its plugins: entry does not allow: the app is refused until it says host: true (review it first), or pin the previous range`)
  }
  const contents = app.doc.contents
  const list = isMap(contents) ? contents.get('components', true) : undefined
  if (!isSeq(list)) return notes
  const provided = version.islet?.components ?? {}
  for (const item of list.items) {
    if (!isMap(item) || item.get('plugin') !== name) continue
    const component = item.get('component')
    if (typeof component !== 'string') continue
    const at = whereOf(app, item)
    if (!Object.hasOwn(provided, component)) {
      notes.push(`${at}: ${id} no longer provides the component '${component}' (it provides ${Object.keys(provided).join(', ') || 'none'})`)
      continue
    }
    const grants = (item.toJSON() as { grants?: unknown }).grants
    const missing = missingCapabilities(provided[component]!.capabilities, grants !== null && typeof grants === 'object' ? grants as Record<string, unknown> : {})
    if (missing.length > 0) {
      notes.push(`${at}: ${id}'s component '${component}' now requests ${missing.join(', ')}, beyond this entry's grants: the app is refused until you grant it, or pin the previous range`)
    }
  }
  return notes
}
