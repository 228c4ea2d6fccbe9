// `npm token list|create|revoke` (GET/POST /-/npm/v1/tokens, DELETE /-/npm/v1/tokens/token/:key) for a logged-in
// user's own tokens. A token made this way never reaches further than the token that asked for it: npm's
// `--scopes @acme` becomes `@acme/*`, `--packages foo` stays `foo`, each must be covered by the caller's scopes
// (without either, the new token gets the caller's scopes). The password is checked again, as npm sends it.
import type Router from '@koa/router'
import type BetterSqlite3 from 'better-sqlite3'
import type { Context } from 'koa'
import { RegistryHttpError } from '../http-error.ts'
import type { Principal } from '../principal.ts'
import { jsonBody } from '../routes/json-body.ts'
import { checkPassword } from './passwords.ts'
import { badScopes, scopeCovers } from './scopes.ts'
import { DEFAULT_TOKEN_TTL, NEW_TOKEN_HINT, issueToken, listTokens, revokeToken, verifyToken } from './tokens.ts'
import { passwordHashOf } from './users.ts'

/** The longest lifetime `npm token create --expires <days>` may ask for. */
const MAX_EXPIRES_DAYS = 365

export interface NpmTokenRouteOptions {
  db: BetterSqlite3.Database
  secret: Uint8Array
  now: () => Date
  principal: (ctx: Context) => Promise<Principal | undefined>
  tokenTtlDefault: string | number | undefined
}

/** Whether `scope` (a pattern) asks for nothing beyond `held`: `@acme/*` needs `@acme/*` or `*`; a name needs a pattern covering it. */
function within(held: readonly string[], scope: string): boolean {
  if (scope === '*') return held.includes('*')
  if (scope.endsWith('/*')) return held.includes('*') || held.includes(scope)
  return scopeCovers(held, scope)
}

export function npmTokenRoutes(router: Router, options: NpmTokenRouteOptions): void {
  const { db, now } = options

  async function caller(ctx: Context): Promise<Principal> {
    const who = await options.principal(ctx)
    if (!who) throw new RegistryHttpError(401, 'ERR_REGISTRY_AUTH_REQUIRED', `managing tokens needs a token and the request has none: ${NEW_TOKEN_HINT}`, NEW_TOKEN_HINT)
    return who
  }

  router.get('/-/npm/v1/tokens', async (ctx) => {
    const who = await caller(ctx)
    const objects = listTokens(db, who.user).filter((t) => t.revokedAt === null && Date.parse(t.expires) > now().getTime()).map((t) => ({
      key: t.id, token: t.id.slice(0, 6), name: t.id, created: t.created, updated: t.created, expires: t.expires,
      readonly: false, cidr_whitelist: null, scopes: t.scopes,
    }))
    ctx.body = { objects, total: objects.length, urls: {} }
  })

  router.post('/-/npm/v1/tokens', async (ctx) => {
    const who = await caller(ctx)
    const body = ((await jsonBody(ctx)) ?? {}) as { password?: unknown; scopes?: unknown; packages?: unknown; expires?: unknown; readonly?: unknown }
    if (typeof body.password !== 'string' || !(await checkPassword(body.password, passwordHashOf(db, who.user)))) {
      throw new RegistryHttpError(401, 'ERR_REGISTRY_LOGIN_FAILED', `wrong password for "${who.user}": creating a token asks for the account's password again`)
    }
    if (body.readonly === true) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_BAD_REQUEST', 'this registry has no read-only tokens (reading needs none): leave out --read-only')
    }
    const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [])
    const asked = [...strings(body.scopes).map((s) => `${s.startsWith('@') ? s : `@${s}`}/*`), ...strings(body.packages)]
    const scopes = asked.length > 0 ? asked : [...who.scopes]
    const beyond = scopes.filter((scope) => !within(who.scopes, scope))
    if (beyond.length > 0) {
      throw new RegistryHttpError(403, 'ERR_REGISTRY_FORBIDDEN',
        `token ${who.tokenId} of ${who.user} may write ${who.scopes.join(', ')}, so it cannot create a token for ${beyond.join(', ')}: an administrator can, with \`islet registry token create\``)
    }
    const bad = badScopes(scopes)
    if (bad.length > 0) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_AUTH_CONFIG', `token scopes ${bad.map((s) => JSON.stringify(s)).join(', ')} do not parse: use --scopes <scope> or --packages <exact package name>`)
    }
    // A lifetime in days, as npm sends --expires; beyond a year no date arithmetic is needed to call it a mistake.
    if (body.expires !== undefined && body.expires !== null
      && !(typeof body.expires === 'number' && Number.isInteger(body.expires) && body.expires > 0 && body.expires <= MAX_EXPIRES_DAYS)) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_AUTH_CONFIG', `--expires ${JSON.stringify(body.expires)} is not a number of days from 1 to ${MAX_EXPIRES_DAYS}`, `npm token create --expires 30`)
    }
    const expiresIn = typeof body.expires === 'number' ? `${body.expires}d` : (options.tokenTtlDefault ?? DEFAULT_TOKEN_TTL)
    const issued = await issueToken(db, { user: who.user, scopes, expiresIn, now, secret: options.secret, via: `npm token create (token ${who.tokenId})` })
    ctx.status = 201
    ctx.body = { token: issued.token, key: issued.id, id: issued.id, created: now().toISOString(), expires: issued.expires, readonly: false, cidr_whitelist: null, scopes }
  })

  router.delete('/-/npm/v1/tokens/token/:key', async (ctx) => {
    const who = await caller(ctx)
    const key = String(ctx.params['key'])
    // npm sends a key from the list, or the whole token when given one.
    const id = key.includes('.') ? (await verifyToken(db, options.secret, key, now()).catch(() => undefined))?.tokenId : key
    const mine = id !== undefined && listTokens(db, who.user).some((t) => t.id === id)
    if (!mine) throw new RegistryHttpError(404, 'ERR_REGISTRY_TOKEN_NOT_FOUND', `${who.user} has no token "${key.slice(0, 12)}": \`npm token list\` shows the ids`)
    revokeToken(db, id, { now, actor: who.user })
    ctx.status = 204
  })
}
