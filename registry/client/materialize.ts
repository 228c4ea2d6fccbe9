// The one call the runtime makes per locked plugin: find the tarball (vendor, cache, registry), verify it (integrity,
// signature with the lock-pinned key), extract it safely once per version and integrity, check the folder against
// the tarball on every load, and check the package.json it holds against the lock and the engine.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import semver from 'semver'
import { RegistryError } from '../errors.ts'
import { integrityFileName } from '../integrity.ts'
import type { PluginPackageJson } from '../manifest.ts'
import { findTarball } from './cache.ts'
import { readTarball } from '../tarball/read.ts'
import { extract } from './extract.ts'
import { isExactVersion, isSha512Integrity, pluginNameProblem } from './identifiers.ts'
import type { LockedKey, LockedPlugin } from './lock.ts'
import { sourceById, type RegistryMap } from './source.ts'
import { assertFolderMatches, verifyIntegrity, verifySignature } from './verify.ts'

export interface MaterializeOptions {
  dataDir: string
  /** The folder of the app's root YAML (where islet.lock and islet-vendor/ live). */
  appDir: string
  sources: RegistryMap
  engineVersion: string
  /** The lock's pinned keys (`lock.keys`). */
  keys: Readonly<Record<string, LockedKey>>
}

export interface Materialized {
  /** The verified, extracted package folder the runtime imports from. */
  dir: string
  packageJson: PluginPackageJson
  /** Where the tarball was found this time. */
  from: 'vendor' | 'cache' | 'registry'
}

export function packagesDir(dataDir: string): string {
  return join(dataDir, 'plugins', 'packages')
}

/**
 * The files of a verified tarball. The registry's reader refuses at publish whatever would not extract the same
 * everywhere, so this only fails for a tarball that came from elsewhere (another registry, a hand-made vendor file).
 */
function readVerified(name: string, version: string, bytes: Uint8Array): Map<string, Buffer> {
  try {
    return readTarball(bytes).files
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error
    throw new RegistryError(error.code, `${name}@${version}: ${error.message}`, { details: { name, version, ...error.details } })
  }
}

export async function materialize(entry: LockedPlugin & { name: string }, options: MaterializeOptions): Promise<Materialized> {
  const { name } = entry
  // The lock may come from anywhere (a pull request): what ends up in a path is checked before any path is built.
  const problem = pluginNameProblem(name) ??
    (isExactVersion(entry.version) ? undefined : `${name}'s version ${JSON.stringify(entry.version)} is not an exact semver version`) ??
    (isSha512Integrity(entry.integrity) ? undefined : `${name}@${entry.version}'s integrity ${JSON.stringify(entry.integrity)} is not a sha512 integrity`)
  if (problem) {
    throw new RegistryError('ERR_REGISTRY_LOCK_INVALID', `islet.lock is refused: ${problem}. Delete the entry and run \`islet plugin add\` to lock it again`,
      { details: { name, version: entry.version } })
  }
  // The signature first: it needs no bytes, and a lock that pins nothing verifiable is refused before any fetch.
  verifySignature(name, entry, options.keys)
  const found = await findTarball(name, entry, {
    appDir: options.appDir, dataDir: options.dataDir,
    source: () => {
      const source = sourceById(options.sources, entry.registry)
      if (!source) {
        throw new RegistryError('ERR_REGISTRY_SOURCE_UNAVAILABLE',
          `${name}@${entry.version} is locked from ${entry.registry}, which registries: no longer names, and no cached or vendored tarball has it: ` +
          `add that registry back, or re-lock with \`islet plugin upgrade ${name}\``, { details: { name, registry: entry.registry } })
      }
      return source
    },
  })
  verifyIntegrity(name, entry, found.bytes, found.origin)
  const files = readVerified(name, entry.version, found.bytes)

  const dir = join(packagesDir(options.dataDir), `${name}@${entry.version}-${integrityFileName(entry.integrity).slice('sha512-'.length, 'sha512-'.length + 16)}`)
  if (!existsSync(dir)) extract(dir, files)
  assertFolderMatches(name, entry.version, dir, files)

  const raw = files.get('package.json')
  let packageJson: PluginPackageJson
  try {
    packageJson = JSON.parse(raw?.toString('utf8') ?? '') as PluginPackageJson
  } catch {
    throw new RegistryError('ERR_REGISTRY_MANIFEST_INVALID', `the tarball of ${name}@${entry.version} has ${raw ? 'a package.json that is not JSON' : 'no package.json'}`,
      { details: { name, version: entry.version } })
  }
  if (packageJson.name !== name || packageJson.version !== entry.version) {
    throw new RegistryError('ERR_REGISTRY_TAMPERED',
      `the tarball locked as ${name}@${entry.version} holds the package.json of ${String(packageJson.name)}@${String(packageJson.version)}: refused; re-lock with \`islet plugin upgrade ${name}\``,
      { details: { name, version: entry.version, packageName: packageJson.name, packageVersion: packageJson.version } })
  }
  const engine = packageJson.islet?.engine
  if (typeof engine !== 'string' || !semver.satisfies(options.engineVersion, engine, { includePrerelease: true })) {
    throw new RegistryError('ERR_REGISTRY_ENGINE_MISMATCH',
      `${name}@${entry.version} needs engine ${String(engine)}, but this engine is ${options.engineVersion}: upgrade the engine, or lock a version of ${name} made for it (\`islet plugin upgrade ${name}\`)`,
      { details: { name, version: entry.version, engine, engineVersion: options.engineVersion } })
  }
  return { dir, packageJson, from: found.from }
}
