// The registry's error catalogue (server and client): stable codes, each with what it means. The registry uses only
// the sdk, so it builds on the sdk's CodedError as every package's catalogue does. Keep codes sorted by area.
import { CodedError } from '@islet/sdk'

export const REGISTRY_ERROR_CODES = {
  // Packages and tarballs
  ERR_REGISTRY_TARBALL_UNSAFE: 'a tarball entry is an absolute path, climbs out with .., is a link or device, or the tarball holds too many entries or bytes',
  ERR_REGISTRY_TARBALL_CORRUPT: 'a tarball does not gunzip or is not a tar archive',
  ERR_REGISTRY_MANIFEST_INVALID: "a package's package.json or its islet field is malformed (what and where in the message)",
  ERR_REGISTRY_INTEGRITY: "a tarball's bytes do not hash to the integrity recorded for it",
  // Users, tokens and the small endpoints (registry/server/auth/, routes/)
  ERR_REGISTRY_AUTH_CONFIG: 'the token key or a token request (scopes, lifetime) is unusable (what in the message)',
  ERR_REGISTRY_AUTH_REQUIRED: 'a write (or whoami) came without a token (401)',
  ERR_REGISTRY_TOKEN_INVALID: 'a token is malformed, badly signed or unknown to this registry (401)',
  ERR_REGISTRY_TOKEN_EXPIRED: "a token's expiry has passed (401)",
  ERR_REGISTRY_TOKEN_REVOKED: 'a token was revoked (401; revocation holds from the next request on)',
  ERR_REGISTRY_TOKEN_NOT_FOUND: 'no token has that id (token revoke)',
  ERR_REGISTRY_FORBIDDEN: "a valid token whose scopes (or user, not the package's owner) do not cover the package (403)",
  ERR_REGISTRY_LOGIN_FAILED: 'npm login with an unknown user name or a wrong password (401)',
  ERR_REGISTRY_USER_INVALID: 'a user to add has a bad name, a too short password, or exists already',
  ERR_REGISTRY_USER_NOT_FOUND: 'a token was asked for a user that does not exist',
  ERR_REGISTRY_RATE_LIMITED: 'too many writes from one principal or IP (429 with Retry-After)',
  ERR_REGISTRY_DIST_TAG_INVALID: 'a dist-tag name is a semver range or malformed, or `latest` was to be removed (422)',
  ERR_REGISTRY_DIST_TAG_TARGET: 'a dist-tag was to point at a version that does not exist or was unpublished',
  ERR_REGISTRY_DIST_TAG_NOT_FOUND: 'the package or the dist-tag to remove does not exist (404)',
} as const

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES

export class RegistryError extends CodedError<RegistryErrorCode> {}
