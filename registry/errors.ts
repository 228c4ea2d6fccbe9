// The registry's error catalogue (server and client): stable codes, each with what it means. The registry uses only
// the sdk, so it builds on the sdk's CodedError as every package's catalogue does. Keep codes sorted by area.
import { CodedError } from '@islet/sdk'

export const REGISTRY_ERROR_CODES = {
  // Packages and tarballs
  ERR_REGISTRY_TARBALL_UNSAFE: 'a tarball entry is an absolute path, climbs out with .., is a link or device, or the tarball holds too many entries or bytes',
  ERR_REGISTRY_TARBALL_CORRUPT: 'a tarball does not gunzip or is not a tar archive',
  ERR_REGISTRY_MANIFEST_INVALID: "a package's package.json or its islet field is malformed (what and where in the message)",
  ERR_REGISTRY_INTEGRITY: "a tarball's bytes do not hash to the integrity recorded for it",
  // Publishing (client side)
  ERR_REGISTRY_PUBLISH_FAILED: 'a publish was refused by the registry (its status, code and message are in the message) or could not reach it',
} as const

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES

export class RegistryError extends CodedError<RegistryErrorCode> {}
