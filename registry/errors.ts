// The registry's error catalogue (server and client): stable codes, each with what it means. The registry uses only
// the sdk, so it builds on the sdk's CodedError as every package's catalogue does. Keep codes sorted by area.
import { CodedError } from '@islet/sdk'

export const REGISTRY_ERROR_CODES = {
  // Packages and tarballs
  ERR_REGISTRY_TARBALL_UNSAFE: 'a tarball entry is an absolute path, climbs out with .., is a link or device, or the tarball holds too many entries or bytes',
  ERR_REGISTRY_TARBALL_CORRUPT: 'a tarball does not gunzip or is not a tar archive',
  ERR_REGISTRY_MANIFEST_INVALID: "a package's package.json or its islet field is malformed (what and where in the message)",
  ERR_REGISTRY_INTEGRITY: "a tarball's bytes do not hash to the integrity recorded for it",
  ERR_REGISTRY_SIGNATURE: "a version's signature is missing, made with a key the lock does not pin, or does not verify",
  ERR_REGISTRY_TAMPERED: "an extracted plugin folder or its package.json differs from the verified tarball (what differed in the message)",
  ERR_REGISTRY_ENGINE_MISMATCH: "a locked plugin's islet.engine range excludes the running engine's version",
  // Client: talking to a registry
  ERR_REGISTRY_UNREACHABLE: 'a registry could not be reached (network failure; the URL in the message)',
  ERR_REGISTRY_RESPONSE: 'a registry answered with an error status, or with something that is not the JSON asked for',
  ERR_REGISTRY_TOO_LARGE: 'a packument or tarball from a registry is larger than the client accepts',
  ERR_REGISTRY_NOT_FOUND: 'a package or tarball does not exist on the registry its scope is bound to',
  ERR_REGISTRY_SOURCE_UNAVAILABLE: 'a registry the config or lock names is not configured or cannot be opened',
  // Client: resolution and the lock
  ERR_REGISTRY_NO_MATCHING_VERSION: 'no version of a plugin satisfies a range once engine-incompatible, yanked and prerelease versions are dropped',
  ERR_REGISTRY_RESOLVE_CONFLICT: 'the ranges on one plugin (from the app and from other plugins) have no version in common',
  ERR_REGISTRY_LOCK_INVALID: 'islet.lock is not valid JSON or not the lock shape (file:line:col in the message)',
  // Publishing (client side)
  ERR_REGISTRY_PUBLISH_FAILED: 'a publish was refused by the registry (its status, code and message are in the message) or could not reach it',
} as const

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES

export class RegistryError extends CodedError<RegistryErrorCode> {}
