// `imports: ['@acme/geo/pipelines/geo.yaml']`: a YAML file a registry plugin lists in its package.json `islet.yaml`,
// loaded into the app like an import of its own once the plugins are materialized. Only the listed files: a package's
// other files (its tests, its examples) are not part of what it offers. Paths in the file resolve inside the package.
import { join } from 'node:path'
import { isMap, isPair, isScalar, isSeq } from 'yaml'
import { isRecord } from '@islet/sdk'
import type { ErrorCode } from '../errors.ts'
import { diagnosticAt, nodeAt, type PathSegment } from './locate.ts'
import type { FileSet } from './imports.ts'
import { substitute } from './interpolate.ts'
import type { ParsedFile } from './parse.ts'
import type { MaterializedPlugin } from './registry-plugins.ts'

/** Loads `set.pluginImports` into `set` (files appended, problems to its diagnostics). */
export async function loadPluginImports(set: FileSet, packages: ReadonlyMap<string, MaterializedPlugin>): Promise<void> {
  for (const { written, from } of set.pluginImports) {
    const name = written.startsWith('@') ? written.split('/').slice(0, 2).join('/') : written.split('/')[0]!
    const subpath = written.slice(name.length + 1)
    const report = (code: ErrorCode, message: string, hint: string) =>
      void set.diagnostics.push(diagnosticAt(from.parsed, from.path, code, message, hint))
    const pkg = packages.get(name)
    if (!pkg) {
      report('ERR_PLUGIN_NOT_FOUND', `imports: '${written}' names plugin '${name}', which is not among the app's registry plugins`,
        `add it to the plugins: map ('${name}': ^1.0.0), or write a path relative to this file ('./…')`)
      continue
    }
    const listed = [...(pkg.packageJson.islet.yaml ?? [])].map((p) => p.replace(/^\.\//, ''))
    if (!listed.includes(subpath)) {
      report('ERR_PLUGIN_MANIFEST', `imports: ${pkg.name}@${pkg.version} does not offer '${subpath || '(nothing named)'}' for import; ` +
        (listed.length ? `it lists ${listed.map((p) => `${name}/${p}`).join(', ')}` : 'it lists no YAML files (islet.yaml)'),
        listed.length ? `import one of those: imports: ['${name}/${listed[0]}']` : `this version of ${name} offers no YAML: pin another, or remove the import`)
      continue
    }
    await set.importFile(join(pkg.dir, subpath), { ...from, root: pkg.dir, shown: written })
  }
  // A plugin's YAML is the package's say, and the app decides what the package gets: it cannot add plugins or
  // registries (resolved and trusted before it was read), set the sandbox of every component of the app, grant
  // capabilities (to its own components or any other), nor read the app's environment (a `${DATABASE_URL}` in a
  // respond body would publish it).
  for (const file of set.files) {
    if (!file.root) continue
    const refuse = (path: PathSegment[], code: ErrorCode, message: string, hint: string) =>
      void set.diagnostics.push(diagnosticAt(file.parsed, path, code, `${file.name}: ${message}`, hint))
    for (const key of ['plugins', 'registries', 'sandbox'] as const) {
      if (file.value[key] === undefined) continue
      refuse([key], 'ERR_CONFIG_SCHEMA', `a plugin's YAML file cannot declare ${key}:`, key === 'sandbox'
        ? 'the sandbox is the app\'s to size: ask the author to drop it; set sandbox: in your own YAML'
        : 'the app lists plugins and registries itself; ask the author to declare the dependency in package.json islet.plugins')
    }
    const components = Array.isArray(file.value.components) ? file.value.components : []
    for (const [i, entry] of components.entries()) {
      // As written: the schema fills in default grants on every entry.
      if (!isRecord(entry) || !nodeAt(file.parsed, ['components', i, 'grants']).exact) continue
      refuse(['components', i, 'grants'], 'ERR_PLUGIN_CAPABILITIES_NOT_GRANTED', "a plugin's YAML file cannot grant capabilities: only the app grants",
        "declare the component in your own YAML with the grants you accept: { plugin: '<name>', component: '<component>', grants: { … } }")
    }
    for (const path of environmentReads(file.parsed)) {
      refuse(path, 'ERR_CONFIG_SCHEMA', "a plugin's YAML file cannot read the app's environment (${…})",
        'the package is at fault: ask its author to take the value as a component config or a step input instead')
    }
  }
}

/** Paths of the scalars whose source text references an environment variable (`${NAME…}`, not `${{ … }}` nor `$${`). */
function environmentReads(parsed: ParsedFile): PathSegment[][] {
  const found: PathSegment[][] = []
  const visit = (node: unknown, path: PathSegment[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) if (isPair(pair)) visit(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)])
    } else if (isSeq(node)) node.items.forEach((item, i) => visit(item, [...path, i]))
    else if (isScalar(node) && node.range) {
      // The value was substituted already; the source still says what was asked.
      if (substitute(parsed.text.slice(node.range[0], node.range[1]), {}).used.size > 0) found.push(path)
    }
  }
  visit(parsed.doc.contents, [])
  return found
}
