// Publishing one version: everything the registry records is derived from the tarball itself (its package.json and
// file list), never from what the request says about it; a request that says something else is refused naming the
// field. The version is checked (manifest-check, the components hook), signed, stored and audited in one
// transaction. Used by the PUT route and, in-process, by the embedded registry.
import semver from 'semver'
import { isDeepStrictEqual } from 'node:util'
import { checkManifest, type ManifestProblem } from '../manifest-check.ts'
import type { PluginPackageJson } from '../manifest.ts'
import { RegistryError } from '../errors.ts'
import { integrityOf, shasumOf } from '../integrity.ts'
import { readTarball, type TarballLimits } from '../tarball/read.ts'
import { signVersion } from '../signature.ts'
import { RegistryHttpError } from './http-error.ts'
import { MAX_JSON_DEPTH, nestsDeeperThan } from './routes/json-depth.ts'
import type { RegistryStore, VersionRow } from './store.ts'

export type CheckComponents = (files: Map<string, Buffer>, pkg: PluginPackageJson) => Promise<ManifestProblem[]>

export interface PublishInput {
  /** The name the request was addressed to (the URL's); in-process publishes leave it out (the tarball's is used). */
  name?: string
  tarball: Uint8Array
  /**
   * What an npm publish document says besides the tarball: its `versions` (the entry for the tarball's version is
   * compared with the tarball) and `dist-tags` (those naming the tarball's version are set; none → `latest`).
   */
  request?: { versions?: unknown; distTags?: unknown }
  /** Dist-tags to set, for in-process publishes (wins over the request's); default `latest`. */
  tags?: readonly string[]
  actor: string
  checkComponents?: CheckComponents
  limits?: TarballLimits
}

/**
 * Fields npm itself rewrites between package.json and the publish request (normalize-package-data, @npmcli/package-json:
 * readme, repository URLs, bin paths, people) — comparing them would refuse plain `npm publish`. The stored manifest
 * takes them from the tarball all the same.
 */
const NORMALIZED_BY_NPM = new Set(['readme', 'readmeFilename', 'repository', 'bugs', 'homepage', 'bin', 'man', 'directories',
  'author', 'contributors', 'maintainers', 'gitHead', 'description', 'types', 'bundleDependencies', 'bundledDependencies', 'keywords'])

export async function publishVersion(store: RegistryStore, request: PublishInput): Promise<VersionRow> {
  const { files, pkg } = readPackage(request.tarball, request.limits)
  const version = String(pkg.version)
  if (request.name !== undefined && pkg.name !== request.name) {
    throw mismatch('name', `the tarball's package.json names '${String(pkg.name)}', but the request is for '${request.name}'`)
  }
  const input = { ...request, name: String(pkg.name) }
  const problems = checkManifest(pkg, files.keys())
  if (problems.length > 0) throw invalid(input.name, version, problems, 'ERR_REGISTRY_MANIFEST_INVALID')
  const manifest = pkg as PluginPackageJson
  const tags = input.tags && input.tags.length > 0 ? [...input.tags] : requestedTags(input.request?.distTags, version)
  if (input.request) compareRequest(requestedManifest(input.request.versions, version), manifest, input.tarball)
  for (const tag of tags) {
    if (semver.validRange(tag) !== null) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_BAD_REQUEST', `the dist-tag '${tag}' reads as a semver range, so installs could not tell it from one`, 'use a tag name such as next or beta')
    }
  }
  checkNotPublished(store, input.name, version)
  if (input.checkComponents) {
    const componentProblems = await input.checkComponents(files, manifest)
    if (componentProblems.length > 0) throw invalid(input.name, version, componentProblems, 'ERR_REGISTRY_COMPONENTS')
  }
  const stored = store.writeTarball(input.tarball)
  const signature = signVersion(store.signingKey, input.name, version, stored.integrity)
  const at = store.now().toISOString()
  const derived = derivedManifest(manifest, input.actor)
  let unpackedSize = 0
  for (const data of files.values()) unpackedSize += data.length
  store.transaction(() => {
    checkNotPublished(store, input.name, version) // again, inside the transaction: two publishes may race
    if (!store.package(input.name)) {
      store.db.prepare('INSERT INTO packages (name, owner, created, modified, rev) VALUES (?, ?, ?, ?, 0)').run(input.name, input.actor, at, at)
    }
    store.db.prepare(`INSERT INTO versions (name, version, manifest, integrity, shasum, tarball, size, file_count, unpacked_size,
      published_at, published_by, signatures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(input.name, version, JSON.stringify(derived), stored.integrity, stored.shasum, stored.file, input.tarball.length,
        files.size, unpackedSize, at, input.actor, JSON.stringify([signature]))
    const setTag = store.db.prepare('INSERT INTO dist_tags (name, tag, version) VALUES (?, ?, ?) ON CONFLICT (name, tag) DO UPDATE SET version = excluded.version')
    for (const tag of tags) setTag.run(input.name, tag, version)
    store.touch(input.name)
    store.audit({ actor: input.actor, action: 'publish', name: input.name, version, integrity: stored.integrity, detail: { tags, keyid: signature.keyid } })
  })
  const row = store.version(input.name, version)
  if (!row) throw new Error(`published ${input.name}@${version} but cannot read it back`)
  return row
}

function requestedManifest(versions: unknown, version: string): Record<string, unknown> {
  const entry = typeof versions === 'object' && versions !== null ? (versions as Record<string, unknown>)[version] : undefined
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw mismatch('version', `the tarball's package.json says version ${version}, but the request's versions do not describe ${version}`)
  }
  return entry as Record<string, unknown>
}

function requestedTags(distTags: unknown, version: string): string[] {
  if (distTags === undefined || distTags === null) return ['latest']
  if (typeof distTags !== 'object' || Array.isArray(distTags)) throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', "the publish document's dist-tags is not an object", 'send dist-tags as { "<tag>": "<version>" }')
  const tags = Object.entries(distTags).filter(([, v]) => v === version).map(([tag]) => tag)
  return tags.length > 0 ? tags : ['latest']
}

function readPackage(tarball: Uint8Array, limits: TarballLimits | undefined): { files: Map<string, Buffer>; pkg: Record<string, unknown> } {
  let files: Map<string, Buffer>
  try {
    files = readTarball(tarball, limits).files
  } catch (error) {
    if (error instanceof RegistryError) {
      // An unsafe entry comes back from any packer: the fix is in the package's files, not in packing again.
      const hint = error.code === 'ERR_REGISTRY_TARBALL_UNSAFE'
        ? 'rename, move or remove the entry named (every path must be a plain file under package/, unique even when case is ignored), then pack again'
        : 'pack the package again with `npm pack` or `islet plugin pack`'
      throw new RegistryHttpError(422, error.code, `the tarball is refused: ${error.message}`, hint, error.details)
    }
    throw error
  }
  const json = files.get('package.json')
  if (!json) throw new RegistryHttpError(422, 'ERR_REGISTRY_MANIFEST_INVALID', 'the tarball has no package/package.json', 'pack the package with `npm pack` or `islet plugin pack`')
  const text = json.toString('utf8')
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new RegistryHttpError(422, 'ERR_REGISTRY_MANIFEST_INVALID', `the tarball's package.json nests deeper than ${MAX_JSON_DEPTH} levels`, 'fix package.json and pack again')
  }
  let pkg: unknown
  // A `__proto__` key is an own property after JSON.parse, but becomes the prototype wherever the manifest is copied
  // by assignment (this registry's derived manifest, a client's normalisation): what one reader sees, another would
  // not (an install script in an inherited `scripts`). Refused, as the one key whose meaning depends on the reader.
  let hasProto = false
  try {
    pkg = JSON.parse(text, function (this: unknown, key: string, value: unknown) {
      if (key === '__proto__') hasProto = true
      return value
    })
  } catch (error) {
    throw new RegistryHttpError(422, 'ERR_REGISTRY_MANIFEST_INVALID', `the tarball's package.json is not JSON: ${(error as Error).message}`, 'fix package.json and pack again')
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) {
    throw new RegistryHttpError(422, 'ERR_REGISTRY_MANIFEST_INVALID', "the tarball's package.json is not a JSON object", 'fix package.json and pack again')
  }
  if (hasProto) {
    throw new RegistryHttpError(422, 'ERR_REGISTRY_MANIFEST_INVALID', "the tarball's package.json has a \"__proto__\" key, which JavaScript readers disagree about (an own field to some, the object's prototype to others)", 'remove the __proto__ key from package.json and pack again')
  }
  return { files, pkg: pkg as Record<string, unknown> }
}

function checkNotPublished(store: RegistryStore, name: string, version: string): void {
  const existing = store.version(name, version)
  if (!existing) return
  const when = existing.unpublished_at ? `was published at ${existing.published_at} and unpublished at ${existing.unpublished_at}` : `was published at ${existing.published_at}`
  throw new RegistryHttpError(409, 'ERR_REGISTRY_VERSION_EXISTS', `cannot publish over ${name}@${version}: it ${when}, and a name@version never changes or comes back`, 'bump the version in package.json (npm version patch) and publish again')
}

/** The request's own say about the version must agree with the tarball on every field both have. */
function compareRequest(request: Record<string, unknown>, pkg: PluginPackageJson, tarball: Uint8Array): void {
  for (const [field, value] of Object.entries(request)) {
    if (field.startsWith('_') || field === 'dist' || NORMALIZED_BY_NPM.has(field)) continue
    if (field === 'deprecated') throw mismatch(field, 'a publish cannot carry a deprecation', 'publish, then run npm deprecate')
    if (field === 'dependencies' && isDeepStrictEqual(value, withOptionalDependencies(pkg))) continue
    if (!isDeepStrictEqual(value, pkg[field])) {
      const tarball = field in pkg ? `the tarball's package.json says ${brief(pkg[field])}` : "the tarball's package.json has no such field"
      throw mismatch(field, `the request says ${field} is ${brief(value)}, but ${tarball}`)
    }
  }
  const dist = request.dist as Record<string, unknown> | undefined
  if (dist && typeof dist === 'object') {
    const digests = digestsOf(tarball)
    if (dist.integrity !== undefined && dist.integrity !== digests.integrity) throw mismatch('dist.integrity', `the request says the tarball's integrity is ${brief(dist.integrity)}, but its bytes hash to ${digests.integrity}`)
    if (dist.shasum !== undefined && dist.shasum !== digests.shasum) throw mismatch('dist.shasum', `the request says the tarball's shasum is ${brief(dist.shasum)}, but its bytes hash to ${digests.shasum}`)
  }
}

/** normalize-package-data copies optionalDependencies into dependencies before npm sends the manifest. */
function withOptionalDependencies(pkg: PluginPackageJson): unknown {
  const optional = pkg.optionalDependencies
  if (typeof optional !== 'object' || optional === null) return pkg.dependencies
  return { ...(pkg.dependencies as Record<string, unknown> | undefined), ...(optional as Record<string, unknown>) }
}

function digestsOf(bytes: Uint8Array): { integrity: string; shasum: string } {
  return { integrity: integrityOf(bytes), shasum: shasumOf(bytes) }
}

/** The tarball's package.json as the registry records it: no `_`-fields, dist or deprecation of its own. */
function derivedManifest(pkg: PluginPackageJson, actor: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(pkg)) {
    if (field.startsWith('_') || field === 'dist' || field === 'deprecated') continue
    out[field] = value
  }
  return { ...out, _id: `${pkg.name}@${pkg.version}`, _npmUser: { name: actor, email: '' } }
}

function mismatch(field: string, message: string, hint = 'publish what the tarball says: pack again and let the client derive the request from it'): RegistryHttpError {
  return new RegistryHttpError(422, 'ERR_REGISTRY_MANIFEST_MISMATCH', `${field}: ${message}`, hint, { field })
}

function invalid(name: string, version: string, problems: ManifestProblem[], code: string): RegistryHttpError {
  const what = code === 'ERR_REGISTRY_COMPONENTS' ? 'its components do not compile' : 'its package.json is not a valid Islet plugin'
  const lines = problems.map((p) => `${p.path || 'package.json'}: ${p.message} (${p.hint})`)
  return new RegistryHttpError(422, code, `${name}@${version} is refused: ${what}:\n  ${lines.join('\n  ')}`, problems[0]?.hint, { problems })
}

function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined'
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
