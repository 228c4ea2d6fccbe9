// A package's document as npm reads it (the "packument"): every live version's manifest with its `dist` (digests,
// tarball URL, registry signatures), dist-tags and times, plus `deprecated` and Islet's `_yanked`. The abbreviated
// form (`Accept: application/vnd.npm.install-v1+json`) carries only what an installer needs.
import { baseNameOf } from '../package-name.ts'
import type { RegistryStore, VersionRow } from './store.ts'

export const ABBREVIATED_TYPE = 'application/vnd.npm.install-v1+json'

/** The version fields of npm's abbreviated metadata (plus Islet's `_yanked`, which npm ignores). */
const ABBREVIATED_FIELDS = [
  'name', 'version', 'deprecated', 'dependencies', 'optionalDependencies', 'devDependencies', 'bundleDependencies',
  'peerDependencies', 'peerDependenciesMeta', 'acceptDependencies', 'bin', 'directories', 'dist', 'engines',
  '_hasShrinkwrap', 'hasInstallScript', 'cpu', 'os', 'libc', 'funding', 'license', '_yanked',
] as const

export type Packument = Record<string, unknown> & {
  name: string
  'dist-tags': Record<string, string>
  versions: Record<string, Record<string, unknown>>
}

/** `<base>@acme/geo/-/geo-1.2.0.tgz`: where a version's tarball is served. */
export function tarballUrl(base: string, name: string, version: string): string {
  return `${base}${name}/-/${baseNameOf(name)}-${version}.tgz`
}

/** One version as served: the stored manifest, its dist, and its deprecation and yank. */
export function versionDocument(row: VersionRow, base: string): Record<string, unknown> {
  return {
    ...row.manifest,
    ...(row.deprecated ? { deprecated: row.deprecated } : {}),
    ...(row.yanked ? { _yanked: row.yanked } : {}),
    dist: {
      integrity: row.integrity,
      shasum: row.shasum,
      tarball: tarballUrl(base, row.name, row.version),
      fileCount: row.fileCount,
      unpackedSize: row.unpackedSize,
      signatures: row.signatures,
    },
  }
}

/** The package's packument, or undefined when it was never published or every version is unpublished. */
export function packumentOf(store: RegistryStore, name: string, base: string, options: { abbreviated?: boolean } = {}): Packument | undefined {
  const pkg = store.package(name)
  if (!pkg) return undefined
  const live = store.versions(name).filter((v) => v.unpublished_at === null)
  if (live.length === 0) return undefined
  const versions: Record<string, Record<string, unknown>> = {}
  for (const row of live) {
    const doc = versionDocument(row, base)
    versions[row.version] = options.abbreviated ? pick(doc) : doc
  }
  const distTags = store.distTags(name)
  if (options.abbreviated) return { name, modified: pkg.modified, 'dist-tags': distTags, versions }
  const latest = live.find((v) => v.version === distTags.latest) ?? live[live.length - 1]
  const time: Record<string, string> = { created: pkg.created, modified: pkg.modified }
  for (const row of live) time[row.version] = row.published_at
  const owner = { name: pkg.owner, email: '' } // npm view prints `name <email>`: users have no email here
  return {
    _id: name,
    _rev: store.revOf(pkg),
    name,
    ...(typeof latest?.manifest.description === 'string' ? { description: latest.manifest.description } : {}),
    'dist-tags': distTags,
    versions,
    time,
    maintainers: [owner],
  }
}

function pick(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const field of ABBREVIATED_FIELDS) if (doc[field] !== undefined) out[field] = doc[field]
  return out
}
