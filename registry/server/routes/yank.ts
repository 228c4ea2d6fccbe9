// Islet's extension: `PUT /-/islet/yank/:pkg/:version` with `{ "reason": "…" }` yanks (ranges never choose the version;
// a pin or a lock still installs it), `DELETE` unyanks. The packument shows `_yanked: "<reason>"`.
import type Router from '@koa/router'
import { RegistryHttpError } from '../http-error.ts'
import type { RouteDeps } from '../options.ts'
import { setYanked } from '../yank.ts'
import { objectBody, readJson } from './body.ts'
import { PKG, decoded, route } from './paths.ts'
import { requireWrite } from './write-access.ts'

export function yankRoutes(router: Router, deps: RouteDeps): void {
  const path = route(`/-/islet/yank/${PKG}/([^/]+)`)
  router.put(path, async (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const version = decoded(ctx.captures?.[1])
    const principal = await requireWrite(ctx, deps, name)
    const body = objectBody(await readJson(ctx, deps.limits.jsonBytes), '{ "reason": "<why>" }')
    if (typeof body.reason !== 'string' || body.reason.trim() === '') {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_BAD_REQUEST', `yanking ${name}@${version} needs a reason: the body must be { "reason": "<why, and what to use instead>" }`, 'say why, so people who pinned it know')
    }
    setYanked(deps.store, name, version, body.reason.trim(), principal.user)
    ctx.body = { ok: `yanked ${name}@${version}` }
  })
  router.delete(path, async (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const version = decoded(ctx.captures?.[1])
    const principal = await requireWrite(ctx, deps, name)
    setYanked(deps.store, name, version, null, principal.user)
    ctx.body = { ok: `unyanked ${name}@${version}` }
  })
}
