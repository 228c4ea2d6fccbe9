// Names, versions and integrities that reach file paths and URLs (`<dataDir>/plugins/packages/<name>@<version>-…`,
// `tarballs/sha512-<hex>.tgz`, `<registry>/<name>`) come from places an attacker may write: islet.lock, a packument.
// These checks keep them to what npm itself allows, so none can climb out of a folder or aim a request elsewhere.
import semver from 'semver'
import { packageNameProblem } from '../package-name.ts'

const MAX_VERSION = 256
const SHA512 = /^sha512-[A-Za-z0-9+/]{86}==$/

/**
 * Why `name` is not a package name, or undefined when it is one. The registry's rule (registry/package-name.ts, npm's
 * for new packages) is the only one: a name it would refuse to publish is never fetched or locked. That rule keeps
 * to URL-safe parts without a leading dot or underscore, which rules out `.`, `..`, `__proto__` and extra slashes.
 */
export function pluginNameProblem(name: unknown): string | undefined {
  const problem = packageNameProblem(name)
  if (problem === undefined) return undefined
  return `${JSON.stringify(typeof name === 'string' && name.length > 80 ? `${name.slice(0, 80)}…` : name)} is not a package name (${problem})`
}

/** Whether `version` is an exact semver version written the canonical way (no `v`, no spaces), of a sane length. */
export function isExactVersion(version: unknown): version is string {
  return typeof version === 'string' && version.length <= MAX_VERSION && semver.valid(version) === version
}

/** Whether `integrity` is one sha512 Subresource Integrity digest (sha1 alone is no verification). */
export function isSha512Integrity(integrity: unknown): integrity is string {
  return typeof integrity === 'string' && SHA512.test(integrity)
}
