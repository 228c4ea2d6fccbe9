// `imports: ['@acme/geo/pipelines/geo.yaml']`: a YAML file a registry plugin lists in its package.json `islet.yaml`,
// loaded into the app like an import of its own once the plugins are materialized. Only the listed files: a package's
// other files (its tests, its examples) are not part of what it offers. Paths in the file resolve inside the package.
import { join } from 'node:path'
import type { ErrorCode } from '../errors.ts'
import { diagnosticAt } from './locate.ts'
import type { FileSet } from './imports.ts'
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
  // A plugin's YAML cannot add plugins or registries: they were resolved and trusted before it was read.
  for (const file of set.files) {
    if (!file.root) continue
    for (const key of ['plugins', 'registries'] as const) {
      if (file.value[key] === undefined) continue
      set.diagnostics.push(diagnosticAt(file.parsed, [key], 'ERR_CONFIG_SCHEMA', `${file.name}: a plugin's YAML file cannot declare ${key}:`,
        `the app lists plugins and registries itself; ask the author to declare the dependency in package.json islet.plugins`))
    }
  }
}
