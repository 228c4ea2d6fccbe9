// `packFolder(dir)`: a plugin package folder → its tarball, as `npm pack` would choose the files (packlist.ts) but
// byte-for-byte reproducible (tarball/write.ts): packing the same files twice, on another day or after a checkout
// that touched every mtime, gives the same integrity. The `islet` field is checked first, so a package that could
// never be published or loaded is refused here, with what to fix, rather than by the registry.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { RegistryError } from './errors.ts'
import { integrityOf, shasumOf } from './integrity.ts'
import type { PluginPackageJson } from './manifest.ts'
import { checkPackage } from './pack-check.ts'
import { packList } from './packlist.ts'
import { readTarball } from './tarball/read.ts'
import { writeTarball } from './tarball/write.ts'

export interface PackedFile {
  /** Package-relative, `/`-separated (the tarball holds it under `package/`). */
  path: string
  size: number
  mode: number
}

export interface PackResult {
  tarball: Buffer
  /** `sha512-<base64>`, npm's dist.integrity. */
  integrity: string
  /** sha1 hex, npm's dist.shasum. */
  shasum: string
  files: PackedFile[]
  packageJson: PluginPackageJson
  /** npm's file name for it: `acme-geo-1.2.0.tgz` for `@acme/geo@1.2.0`. */
  filename: string
  /** The packed README, which npm copies into the published manifest (`readme`, `readmeFilename`). */
  readme?: { file: string; text: string }
}

export async function packFolder(dir: string): Promise<PackResult> {
  const manifestFile = join(dir, 'package.json')
  let text: string
  try { text = readFileSync(manifestFile, 'utf8') } catch {
    throw new RegistryError('ERR_REGISTRY_MANIFEST_INVALID', `no package.json in ${dir}: a plugin package is a folder with a package.json holding an "islet" field`,
      { details: { file: manifestFile, hint: 'scaffold one with `islet plugin new <name>`' } })
  }
  let pkg: unknown
  try { pkg = JSON.parse(text) } catch (error) {
    throw new RegistryError('ERR_REGISTRY_MANIFEST_INVALID', `${manifestFile} is not JSON: ${(error as Error).message}`, { details: { file: manifestFile } })
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) {
    throw new RegistryError('ERR_REGISTRY_MANIFEST_INVALID', `${manifestFile} must hold a JSON object`, { details: { file: manifestFile } })
  }
  const paths = packList(dir, pkg)
  const files = paths.map((path) => {
    const stat = statSync(join(dir, path))
    return { path, size: stat.size, mode: stat.mode & 0o111 ? 0o755 : 0o644 }
  })
  const packageJson = checkPackage(pkg as Record<string, unknown>, new Set(paths), manifestFile)
  const tarball = writeTarball(files.map((f) => ({ path: `package/${f.path}`, data: readFileSync(join(dir, f.path)), executable: f.mode === 0o755 })))
  // What the registry would refuse at publish (names equal up to case, control characters…) is refused here, by the
  // same reader, with the folder named: on a case-sensitive disk the author would otherwise learn it from the server.
  try {
    readTarball(tarball)
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error
    throw new RegistryError(error.code, `${dir}: ${error.message}; rename or remove it, then pack again`, { details: { ...error.details, dir } })
  }
  // npm's choice among README files: the markdown one if there is one, else the first.
  const readmes = paths.filter((p) => /^readme(?:\.[^.]*)?$/i.test(p))
  const readme = readmes.find((p) => /\.md$/i.test(p)) ?? readmes[0]
  return {
    ...(readme ? { readme: { file: readme, text: readFileSync(join(dir, readme), 'utf8') } } : {}),
    tarball, integrity: integrityOf(tarball), shasum: shasumOf(tarball), files, packageJson,
    filename: `${packageJson.name.replace(/^@/, '').replace('/', '-')}-${packageJson.version}.tgz`,
  }
}
