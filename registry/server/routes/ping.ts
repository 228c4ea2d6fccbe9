// `npm ping` (GET /-/ping). With `?write=true` (older clients, and a cheap credentials check) it also needs a valid token.
import type Router from '@koa/router'
import { RegistryHttpError } from '../http-error.ts'
import type { Authenticator } from '../principal.ts'

export function pingRoutes(router: Router, auth: Authenticator): void {
  router.get('/-/ping', async (ctx) => {
    if (ctx.query['write'] === 'true' && !(await auth.principal(ctx))) {
      throw new RegistryHttpError(401, 'ERR_REGISTRY_AUTH_REQUIRED', 'ping?write=true checks write access and the request has no token: log in with `npm login --auth-type=legacy`')
    }
    ctx.set('Cache-Control', 'no-store')
    ctx.body = {}
  })
}
