// The registry's error catalogue (server and client): stable codes, each with what it means. The registry uses only
// the sdk, so it builds on the sdk's CodedError as every package's catalogue does. Keep codes sorted by area.
import { CodedError } from '@islet/sdk'

export const REGISTRY_ERROR_CODES = {
  // Packages and tarballs
  ERR_REGISTRY_TARBALL_UNSAFE: 'a tarball entry is an absolute path, climbs out with .., is a link or device, holds a control character or backslash, collides with another up to case or as file and folder, or the tarball holds too many entries or bytes',
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
  ERR_REGISTRY_SOURCE_UNAVAILABLE: 'a registry the config or lock names is not configured or cannot be opened',
  // Client: resolution and the lock
  ERR_REGISTRY_NO_MATCHING_VERSION: 'no version of a plugin satisfies a range once engine-incompatible, yanked and prerelease versions are dropped',
  ERR_REGISTRY_RESOLVE_CONFLICT: 'the ranges on one plugin (from the app and from other plugins) have no version in common',
  ERR_REGISTRY_LOCK_INVALID: 'islet.lock is not valid JSON or not the lock shape (file:line:col in the message)',
  // Publishing (client side)
  ERR_REGISTRY_PUBLISH_FAILED: 'a publish was refused by the registry (its status, code and message are in the message) or could not reach it',
  // Server answers (RegistryHttpError codes, in npm's error shape)
  ERR_REGISTRY_BAD_REQUEST: 'a request body is malformed JSON or lacks what the endpoint needs',
  ERR_REGISTRY_CONTENT_TYPE: 'a write was not sent as application/json',
  ERR_REGISTRY_BODY_TOO_LARGE: 'a request body is larger than the limit for its endpoint',
  ERR_REGISTRY_BUSY: 'the publish bodies being received already fill what the registry holds at once (503: retry shortly)',
  ERR_REGISTRY_NOT_FOUND: 'no such package, version or tarball (or it was unpublished), on the server or on the registry a scope is bound to',
  ERR_REGISTRY_NO_AUTH: 'a write reached a registry started without an authenticator',
  ERR_REGISTRY_VERSION_EXISTS: 'a publish names a version that exists or existed: versions are immutable, also after unpublish',
  ERR_REGISTRY_MANIFEST_MISMATCH: 'the publish request says something about a version that its tarball does not',
  ERR_REGISTRY_COMPONENTS: "a package's components do not compile",
  ERR_REGISTRY_CHANGE_REFUSED: 'a write without a tarball changes more than a deprecation, or names versions that do not exist',
  ERR_REGISTRY_REV_CONFLICT: 'a write names a package revision (_rev) that is no longer current',
  ERR_REGISTRY_UNPUBLISH_WINDOW: 'an unpublish came more than 72 hours after the version was published (deprecate instead)',
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
