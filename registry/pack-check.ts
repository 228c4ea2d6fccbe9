// What `islet plugin pack` checks before it writes a tarball: the same rules the registry applies at publish
// (manifest-check.ts), against the files that will be packed, so a package that packs is one the registry takes.
// Every problem is reported at once, each saying where and how to fix it.
import { RegistryError } from './errors.ts'
import { checkManifest } from './manifest-check.ts'
import type { PluginPackageJson } from './manifest.ts'

export function checkPackage(pkg: Record<string, unknown>, packed: ReadonlySet<string>, file: string): PluginPackageJson {
  const problems = checkManifest(pkg, packed).map((p) => `${p.path || 'package.json'}: ${p.message} (${p.hint})`)
  if (problems.length > 0) {
    throw new RegistryError('ERR_REGISTRY_MANIFEST_INVALID', `${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`}`,
      { details: { file, problems } })
  }
  return pkg as PluginPackageJson
}
