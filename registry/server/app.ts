// The registry as a Koa app: npm's error shape around everything, scoped names normalised, then the routes. The
// `/-/…` routes (keys, yank, and the authenticator's: login, whoami, ping, search, dist-tags) come before the
// package routes so a package name never shadows them.
import Router from '@koa/router'
import Koa from 'koa'
import { createBodyBudget } from './body-budget.ts'
import { npmErrors } from './http-error.ts'
import { rateLimit } from './rate-limit.ts'
import type { RegistryOptions, RouteDeps } from './options.ts'
import { keysRoutes } from './routes/keys.ts'
import { readRoutes } from './routes/read.ts'
import { writeRoutes } from './routes/write.ts'
import { yankRoutes } from './routes/yank.ts'
import { openStore, type RegistryStore } from './store.ts'

const MiB = 1024 * 1024

export function createRegistryApp(options: RegistryOptions & { store?: RegistryStore }): Koa {
  const store = options.store ?? openStore(options.dir, { now: options.now })
  const auth = typeof options.auth === 'function' ? options.auth(store) : options.auth
  const publishBytes = options.limits?.publishBytes ?? 100 * MiB
  const deps: RouteDeps = {
    store,
    auth,
    checkComponents: options.checkComponents,
    bodies: createBodyBudget(options.limits?.inflightBytes ?? 2 * publishBytes),
    limits: {
      publishBytes,
      jsonBytes: options.limits?.jsonBytes ?? 64 * 1024,
      tarball: options.limits?.tarball,
    },
    publicUrl: options.publicUrl,
  }
  const router = new Router()
  keysRoutes(router, deps)
  yankRoutes(router, deps)
  auth?.routes?.(router)
  writeRoutes(router, deps)
  readRoutes(router, deps)

  const app = new Koa()
  app.use(npmErrors)
  // Before any route reads a body: a flood of writes costs the sender a 429, not the registry a parse.
  app.use(rateLimit({ perMinute: options.limits?.writesPerMinute ?? 120, burst: options.limits?.writeBurst ?? 30, auth,
    now: () => store.now().getTime() }))
  app.use(async (ctx, next) => {
    // npm sends `/@acme%2fgeo` for packuments, publish and unpublish, and `/@acme/geo/-/…` for tarballs: one form.
    if (/^\/@[^/]+%2f/i.test(ctx.path)) ctx.path = ctx.path.replace(/%2f/i, '/')
    await next()
  })
  app.use(router.routes())
  app.use(router.allowedMethods())
  app.use((ctx) => {
    ctx.status = 404
    ctx.body = { error: `${ctx.method} ${ctx.path} is not an endpoint of this registry`, code: 'ERR_REGISTRY_NOT_FOUND' }
  })
  return app
}
