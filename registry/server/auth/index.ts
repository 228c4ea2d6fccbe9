// The registry's Authenticator: bearer JWTs checked against the `tokens` table on every request, scopes and package
// ownership for writes, and the npm endpoints that hand out tokens (`npm login --auth-type=legacy`), tell who a
// token is (`npm whoami`) and give one up (`npm logout`).
import type Router from '@koa/router'
import type BetterSqlite3 from 'better-sqlite3'
import type { Context } from 'koa'
import { RegistryHttpError } from '../http-error.ts'
import type { Authenticator, Principal } from '../principal.ts'
import { distTagRoutes } from '../routes/dist-tags.ts'
import { jsonBody } from '../routes/json-body.ts'
import { pingRoutes } from '../routes/ping.ts'
import { searchRoutes } from '../routes/search.ts'
import { npmTokenRoutes } from './npm-tokens.ts'
import { checkPassword } from './passwords.ts'
import { auditAuth, ensureAuthTables } from './schema.ts'
import { scopeCovers } from './scopes.ts'
import { resolveSecret, type SecretOptions } from './secret.ts'
import { DEFAULT_TOKEN_TTL, NEW_TOKEN_HINT, issueToken, revokeToken, verifyToken } from './tokens.ts'
import { ownedPackages, ownerOf, passwordHashOf } from './users.ts'

export { createUser } from './users.ts'
export { issueToken, listTokens, revokeToken, type IssuedToken, type TokenInfo } from './tokens.ts'
export { scopeCovers } from './scopes.ts'
export { rateLimit, type RateLimitOptions } from '../rate-limit.ts'

export interface AuthOptions extends SecretOptions {
  /** The clock tokens are checked against (tests inject one). */
  now?: () => Date
  /** Lifetime of tokens `npm login` gets; default 30d. */
  tokenTtlDefault?: string | number
}

export interface Auth extends Authenticator {
  /**
   * Adds this module's endpoints: `PUT /-/user/org.couchdb.user::name` (login), `POST /-/v1/login` (404: no web
   * login), `GET /-/whoami`, `DELETE /-/user/token/:token` (logout), `npm token` (`/-/npm/v1/tokens`), `GET /-/ping`,
   * `GET /-/v1/search` and the dist-tag routes. Register them before any `/:pkg…` route.
   */
  routes(router: Router): void
}

/** Where the verified principal of a request is kept, so the rate limiter and the route verify once. */
const VERIFIED = Symbol('islet.registry.principal')

/** The scopes a login token gets: the user's own npm scope and every name the user owns at login time. */
export function loginScopes(db: BetterSqlite3.Database, user: string): string[] {
  return [`@${user}/*`, ...ownedPackages(db, user).filter((name) => !name.startsWith(`@${user}/`))]
}

export function createAuth(db: BetterSqlite3.Database, options: AuthOptions = {}): Auth {
  ensureAuthTables(db)
  const secret = resolveSecret(db, options)
  const now = options.now ?? (() => new Date())

  async function principal(ctx: Context): Promise<Principal | undefined> {
    const state = ctx.state as Record<symbol, Promise<Principal | undefined>>
    state[VERIFIED] ??= verify(ctx)
    return state[VERIFIED]
  }

  async function verify(ctx: Context): Promise<Principal | undefined> {
    const header = ctx.get('authorization')
    if (!header) return undefined
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match) {
      throw new RegistryHttpError(401, 'ERR_REGISTRY_TOKEN_INVALID', `the Authorization header is not \`Bearer <token>\` (this registry takes no passwords on requests): ${NEW_TOKEN_HINT}`, NEW_TOKEN_HINT)
    }
    return verifyToken(db, secret, match[1]!, now())
  }

  async function requireWrite(ctx: Context, pkg: string): Promise<Principal> {
    const who = await principal(ctx)
    if (!who) {
      throw new RegistryHttpError(401, 'ERR_REGISTRY_AUTH_REQUIRED', `writing ${pkg} needs a token and the request has none: ${NEW_TOKEN_HINT}`, NEW_TOKEN_HINT)
    }
    if (!scopeCovers(who.scopes, pkg)) {
      throw new RegistryHttpError(403, 'ERR_REGISTRY_FORBIDDEN',
        `token ${who.tokenId} of ${who.user} may write ${who.scopes.join(', ')}, which does not cover ${pkg}: create a token with \`islet registry token create --user ${who.user} --scope ${pkg}\``)
    }
    const owner = ownerOf(db, pkg)
    if (owner !== undefined && owner !== who.user) {
      throw new RegistryHttpError(403, 'ERR_REGISTRY_FORBIDDEN', `${pkg} is owned by ${owner}, not ${who.user}: only its owner may write it`,
        `publish under a name of your own (a scope your token covers), or ask ${owner} to publish it`)
    }
    return who
  }

  async function login(ctx: Context): Promise<void> {
    const name = String(ctx.params['name'] ?? '')
    const body = await jsonBody(ctx)
    const fields = (body ?? {}) as { name?: unknown; password?: unknown }
    if (typeof fields.name !== 'string' || typeof fields.password !== 'string') {
      throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', 'a login body needs "name" and "password" strings (as `npm login --auth-type=legacy` sends them)')
    }
    if (fields.name !== name) {
      throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `the body's name "${fields.name}" is not the user in the path, "${name}"`, 'log in with `npm login --auth-type=legacy`, which sends both the same')
    }
    const at = now()
    if (!(await checkPassword(fields.password, passwordHashOf(db, name)))) {
      auditAuth(db, at, name, 'login.failed', { user: name, ip: ctx.ip })
      throw new RegistryHttpError(401, 'ERR_REGISTRY_LOGIN_FAILED',
        `wrong user name or password for "${name}": an administrator adds users with \`islet registry user add <name>\` (this registry has no sign-up)`)
    }
    const { token, id, expires } = await issueToken(db, {
      user: name, scopes: loginScopes(db, name), expiresIn: options.tokenTtlDefault ?? DEFAULT_TOKEN_TTL, now: () => at, secret, via: 'login',
    })
    auditAuth(db, at, name, 'login', { user: name, token: id, ip: ctx.ip })
    ctx.status = 201
    ctx.body = { ok: `you are authenticated as '${name}'`, id: `org.couchdb.user:${name}`, token, expires }
  }

  const auth: Auth = {
    principal,
    requireWrite,
    routes(router: Router): void {
      // npm's default `npm login` tries web login first and falls back to the username/password prompts on any 4xx.
      router.post('/-/v1/login', () => {
        throw new RegistryHttpError(404, 'ERR_REGISTRY_LOGIN_FAILED', 'this registry has no web login: npm falls back to `npm login --auth-type=legacy` (username and password)')
      })
      router.put('/-/user/org.couchdb.user\\::name', login)
      router.put('/-/user/org.couchdb.user\\::name/-rev/:rev', login)
      router.get('/-/whoami', async (ctx) => {
        const who = await principal(ctx)
        if (!who) throw new RegistryHttpError(401, 'ERR_REGISTRY_AUTH_REQUIRED', `the request carries no token: ${NEW_TOKEN_HINT}`, NEW_TOKEN_HINT)
        ctx.body = { username: who.user }
      })
      // `npm logout` gives up the token it holds.
      router.delete('/-/user/token/:token', async (ctx) => {
        const who = await principal(ctx)
        if (!who) throw new RegistryHttpError(401, 'ERR_REGISTRY_AUTH_REQUIRED', `logging out needs the token to give up: ${NEW_TOKEN_HINT}`, NEW_TOKEN_HINT)
        const given = await verifyToken(db, secret, String(ctx.params['token']), now()).catch(() => undefined)
        if (given && given.user === who.user) revokeToken(db, given.tokenId, { now, actor: who.user })
        ctx.body = { ok: 'logged out' }
      })
      npmTokenRoutes(router, { db, secret, now, principal, tokenTtlDefault: options.tokenTtlDefault })
      pingRoutes(router, auth)
      searchRoutes(router, { db })
      distTagRoutes(router, { db, auth, now })
    },
  }
  return auth
}
