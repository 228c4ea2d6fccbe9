// URL shapes of the npm protocol. A scoped name arrives as `@acme%2fgeo` (packuments, publish, unpublish) or with a
// literal slash (tarball URLs, which the registry itself hands out), so routes match both and decode the capture.
import { RegistryHttpError } from '../http-error.ts'

/** A package name in a path: `@scope/name` (slash literal or `%2f`) or an unscoped name; never the `-` of `/-/…`. */
export const PKG = '(@[^/]+(?:/|%2[fF])[^/]+|(?!-(?:/|$))[^@/][^/]*)'

export function route(pattern: string): RegExp {
  return new RegExp(`^${pattern}$`)
}

export function decoded(capture: string | undefined): string {
  try {
    return decodeURIComponent(capture ?? '')
  } catch {
    throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `'${capture}' is not a valid URL path segment`, 'percent-encode names as npm does (@scope%2fname)')
  }
}
