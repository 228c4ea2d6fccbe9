// `GET /-/npm/v1/keys`: the registry's public signing keys, where `npm audit signatures` (and Islet's client) read them.
import type Router from '@koa/router'
import { keysDocument } from '../../signature.ts'
import type { RouteDeps } from '../options.ts'

export function keysRoutes(router: Router, deps: RouteDeps): void {
  router.get('/-/npm/v1/keys', (ctx) => {
    ctx.body = keysDocument([deps.store.signingKey])
  })
}
