// A route with `requires:` on a server that lists no authentication middleware can never be passed: no principal is
// ever attached, so every request gets 401. That is a config bug, reported at the route's `requires:` rather than
// discovered by the first caller.
import { httpAuthenticator, httpMiddleware, httpRouter } from '@islet/sdk'
import type { RefSite } from './configs.ts'
import type { Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt } from './locate.ts'
import type { ModuleContracts } from './references.ts'
import type { ModuleDecl } from './types.ts'

/** The module type whose routes carry `requires:` (plugins/http/router.ts). */
const ROUTER_TYPE = 'http.router'

interface Route { method?: string; path?: string; requires?: string[] }

/**
 * One diagnostic per route with `requires:` that a server serves (it lists the route's router under a `moduleRef`
 * to http.router) while none of the modules that server lists as middleware provides http.authenticator.
 */
export function checkRouteAuth(files: readonly LoadedFile[], modules: readonly ModuleDecl[], refs: readonly RefSite[],
  contracts: ModuleContracts): Diagnostic[] {
  const declared = new Map<string, { file: LoadedFile; index: number }>()
  for (const file of files) {
    const list = Array.isArray(file.value.modules) ? file.value.modules : []
    list.forEach((raw: unknown, index) => {
      const name = (raw as { name?: unknown } | null)?.name
      if (typeof name === 'string' && !declared.has(name)) declared.set(name, { file, index })
    })
  }
  // Each server's routers and middleware, from the references its config holds.
  const servers = new Map<string, { routers: string[]; middleware: string[] }>()
  for (const ref of refs) {
    if (ref.kind !== 'module' || (ref.contract !== httpRouter.name && ref.contract !== httpMiddleware.name)) continue
    if (ref.path[0] !== 'modules' || typeof ref.path[1] !== 'number') continue
    const server = (ref.file.value.modules as { name?: unknown }[])[ref.path[1]]?.name
    if (typeof server !== 'string') continue
    const entry = servers.get(server) ?? { routers: [], middleware: [] }
    servers.set(server, entry)
    ;(ref.contract === httpRouter.name ? entry.routers : entry.middleware).push(ref.name)
  }
  const authenticates = (module: string) => {
    const type = contracts.typeOf(module)
    return type === undefined ? undefined : contracts.provides(type).includes(httpAuthenticator.name)
  }
  const decls = new Map(modules.map((m) => [m.name, m]))
  const authModules = modules.filter((m) => authenticates(m.name)).map((m) => m.name).sort()
  const diagnostics: Diagnostic[] = []
  const reported = new Set<string>()
  for (const [server, { routers, middleware }] of servers) {
    const auth = middleware.map(authenticates)
    // A middleware module whose declaration is invalid was reported already; what it provides is unknown.
    if (auth.some((a) => a !== false)) continue
    for (const router of new Set(routers)) {
      const decl = decls.get(router)
      const at = declared.get(router)
      if (decl?.type !== ROUTER_TYPE || !at) continue
      const { prefix = '', routes = [] } = decl.config as { prefix?: string; routes?: Route[] }
      routes.forEach((route, i) => {
        if (!route.requires?.length || reported.has(`${router}\0${i}`)) return
        reported.add(`${router}\0${i}`)
        const hint = authModules.length
          ? `list one of ${authModules.join(', ')} in the middleware of server '${server}'`
          : `declare an authentication module (auth.apikey, auth.jwt, or any type that provides ${httpAuthenticator.name}) and list it in the middleware of server '${server}'`
        diagnostics.push(diagnosticAt(at.file.parsed, ['modules', at.index, 'config', 'routes', i, 'requires'], 'ERR_CONFIG_ROUTE_UNAUTHENTICATED',
          `route ${route.method} ${prefix}${route.path} requires ${route.requires.join(', ')}, but server '${server}' lists no authentication middleware: ` +
          'no request could carry a principal, so every one would be refused with 401', hint))
      })
    }
  }
  return diagnostics
}
