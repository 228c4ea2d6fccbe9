// Every write asks the authenticator; a registry started without one refuses writes instead of allowing them.
import type { Context } from 'koa'
import { RegistryHttpError } from '../http-error.ts'
import type { RouteDeps } from '../options.ts'
import type { Principal } from '../principal.ts'

export async function requireWrite(ctx: Context, deps: RouteDeps, pkg: string): Promise<Principal> {
  if (!deps.auth) {
    throw new RegistryHttpError(401, 'ERR_REGISTRY_NO_AUTH', `this registry was started without authentication, so it refuses writes to ${pkg}`, 'start it with users and tokens (islet registry serve) to publish')
  }
  return deps.auth.requireWrite(ctx, pkg)
}
