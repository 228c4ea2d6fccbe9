// What `islet plugin pack` checks before it writes a tarball: the minimum without which the package could not be
// published or loaded (name and version by npm's rules, the `islet` field's shape, every file it names packed, no
// install scripts). Every problem is reported at once, each saying where and how to fix it.
// TODO(lead): once registry/manifest-check.ts (the core helper's ajv schema of the islet field) is merged, call it
// here for the field's shape and keep only the checks against the packed file list (files named are packed, host
// code is JavaScript, no binding.gyp).
import semver from 'semver'
import { RegistryError } from './errors.ts'
import type { PluginPackageJson } from './manifest.ts'

/** npm's package name rules (validate-npm-package-name, new packages): lower case, URL-safe, ≤ 214 characters. */
const NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall']

export function checkPackage(pkg: Record<string, unknown>, packed: ReadonlySet<string>, file: string): PluginPackageJson {
  const problems: string[] = []
  const { name, version, islet, scripts } = pkg
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 214) {
    problems.push(`"name" ${JSON.stringify(name)} is not an npm package name: lower case letters, digits, '-', '.', '_', optionally under a scope ("@acme/geo")`)
  }
  if (typeof version !== 'string' || semver.valid(version) === null) problems.push(`"version" ${JSON.stringify(version)} is not a semver version, e.g. "1.0.0"`)
  if (scripts && typeof scripts === 'object') {
    for (const s of INSTALL_SCRIPTS) if (s in scripts) problems.push(`"scripts.${s}": install scripts are refused (they would run on every install); do the work at build time and pack the result`)
  }
  if (packed.has('binding.gyp')) problems.push('binding.gyp is packed: npm would compile it at install (an install script); native addons are not allowed in plugins')
  const packedFile = (where: string, path: unknown): void => {
    if (typeof path !== 'string' || path === '') { problems.push(`"${where}" must be a package-relative path`); return }
    const normal = path.replace(/^\.\//, '')
    if (!packed.has(normal)) problems.push(`"${where}" names '${path}', which is not in the package: create it, or add it to "files" in package.json`)
  }
  if (typeof islet !== 'object' || islet === null || Array.isArray(islet)) {
    problems.push('"islet" is missing: a plugin package says what it provides, e.g. "islet": { "engine": "^0.1.0", "components": { … } }')
  } else {
    const field = islet as Record<string, unknown>
    if (typeof field.engine !== 'string' || semver.validRange(field.engine) === null) {
      problems.push(`"islet.engine" ${JSON.stringify(field.engine)} must be a semver range of the Islet engine, e.g. "^0.1.0"`)
    }
    if (field.host !== undefined) {
      packedFile('islet.host', field.host)
      if (typeof field.host === 'string' && !/\.(?:m?js)$/.test(field.host)) {
        problems.push(`"islet.host" '${field.host}' must be JavaScript (.js or .mjs): Node does not strip TypeScript types under node_modules, where npm installs the package`)
      }
    }
    if (field.services !== undefined && (!Array.isArray(field.services) || field.services.some((s) => typeof s !== 'string'))) {
      problems.push('"islet.services" must be a list of engine service names, e.g. ["events"]')
    }
    if (field.components !== undefined) {
      if (typeof field.components !== 'object' || field.components === null || Array.isArray(field.components)) {
        problems.push('"islet.components" must map component names to { "file": … }')
      } else {
        for (const [component, provision] of Object.entries(field.components)) {
          if (!/^[a-z][a-z0-9-]*$/.test(component)) problems.push(`"islet.components.${component}": a component name is lower-case words joined by '-'`)
          const p = provision as { file?: unknown; capabilities?: unknown } | null
          if (typeof p !== 'object' || p === null) { problems.push(`"islet.components.${component}" must be { "file": "components/${component}.ts" }`); continue }
          packedFile(`islet.components.${component}.file`, p.file)
          if (p.capabilities !== undefined && (typeof p.capabilities !== 'object' || p.capabilities === null || Array.isArray(p.capabilities))) {
            problems.push(`"islet.components.${component}.capabilities" must be an object shaped as a component's grants: (kv, fetch, emit, secrets)`)
          }
        }
      }
    }
    if (field.yaml !== undefined) {
      if (!Array.isArray(field.yaml)) problems.push('"islet.yaml" must be a list of package-relative YAML files')
      else field.yaml.forEach((y, i) => { packedFile(`islet.yaml[${i}]`, y) })
    }
    if (field.plugins !== undefined) {
      if (typeof field.plugins !== 'object' || field.plugins === null || Array.isArray(field.plugins)) problems.push('"islet.plugins" must map plugin names to semver ranges')
      else for (const [dep, range] of Object.entries(field.plugins)) {
        if (typeof range !== 'string' || semver.validRange(range) === null) problems.push(`"islet.plugins.${dep}" ${JSON.stringify(range)} is not a semver range`)
      }
    }
  }
  if (problems.length > 0) {
    throw new RegistryError('ERR_REGISTRY_MANIFEST_INVALID', `${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`}`,
      { details: { file, problems } })
  }
  return pkg as PluginPackageJson
}
