// Registry tokens: JWTs (HS256) carrying sub, jti, scopes and exp. Only the token's SHA-256 is stored, in `tokens`,
// and a token is valid only while its row exists, its hash matches and it is not revoked: revoking is one UPDATE
// and the very next request with that token is refused.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type BetterSqlite3 from 'better-sqlite3'
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose'
import { RegistryError } from '../../errors.ts'
import { RegistryHttpError } from '../http-error.ts'
import type { Principal } from '../principal.ts'
import { secondsOf } from './duration.ts'
import { auditAuth, ensureAuthTables } from './schema.ts'
import { badScopes } from './scopes.ts'
import { resolveSecret, type SecretOptions } from './secret.ts'

export const DEFAULT_TOKEN_TTL = '30d'

/** How to get a new token, appended to every 401. */
export const NEW_TOKEN_HINT = 'get a new one with `npm login --auth-type=legacy --registry <this registry>` or `islet registry token create --user <name> --scope <pattern>`'

export interface IssueTokenOptions extends SecretOptions {
  user: string
  scopes: readonly string[]
  /** Seconds or a duration such as `30d`; default 30 days. */
  expiresIn?: string | number
  now?: () => Date
  /** What issued it, for the audit log (`cli`, `login`). */
  via?: string
}

export interface IssuedToken {
  token: string
  id: string
  /** ISO time. */
  expires: string
}

export interface TokenInfo {
  id: string
  user: string
  scopes: string[]
  created: string
  expires: string
  revokedAt: string | null
}

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex')

export async function issueToken(db: BetterSqlite3.Database, options: IssueTokenOptions): Promise<IssuedToken> {
  ensureAuthTables(db)
  const now = (options.now ?? (() => new Date()))()
  if (!db.prepare('SELECT 1 FROM users WHERE name = ?').get(options.user)) {
    throw new RegistryError('ERR_REGISTRY_USER_NOT_FOUND', `there is no registry user "${options.user}": add one with \`islet registry user add ${options.user}\``)
  }
  const bad = badScopes(options.scopes)
  if (options.scopes.length === 0 || bad.length > 0) {
    throw new RegistryError('ERR_REGISTRY_AUTH_CONFIG', `token scopes ${bad.length ? bad.map((s) => JSON.stringify(s)).join(', ') + ' do not parse' : 'are empty'}: use \`@scope/*\`, an exact package name, or \`*\``)
  }
  const secret = resolveSecret(db, options)
  const id = randomBytes(9).toString('base64url')
  const iat = Math.floor(now.getTime() / 1000)
  const exp = iat + secondsOf(options.expiresIn ?? DEFAULT_TOKEN_TTL)
  const token = await new SignJWT({ scopes: [...options.scopes] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.user)
    .setJti(id)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(secret)
  const expires = new Date(exp * 1000).toISOString()
  db.transaction(() => {
    db.prepare('INSERT INTO tokens (id, user, hash, scopes, created, expires, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)')
      .run(id, options.user, hashOf(token), JSON.stringify(options.scopes), now.toISOString(), expires)
    auditAuth(db, now, options.user, 'token.create', { id, scopes: options.scopes, expires, via: options.via ?? 'cli' })
  })()
  return { token, id, expires }
}

export function revokeToken(db: BetterSqlite3.Database, id: string, options: { now?: () => Date; actor?: string } = {}): TokenInfo {
  ensureAuthTables(db)
  const now = (options.now ?? (() => new Date()))()
  const row = db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined
  if (!row) throw new RegistryError('ERR_REGISTRY_TOKEN_NOT_FOUND', `there is no token with id "${id}": \`islet registry token list\` shows the ids`)
  if (row.revoked_at === null) {
    db.transaction(() => {
      db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(now.toISOString(), id)
      auditAuth(db, now, options.actor ?? row.user, 'token.revoke', { id, user: row.user })
    })()
  }
  return infoOf(db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow)
}

export function listTokens(db: BetterSqlite3.Database, user?: string): TokenInfo[] {
  ensureAuthTables(db)
  const rows = (user === undefined
    ? db.prepare('SELECT * FROM tokens ORDER BY created, id').all()
    : db.prepare('SELECT * FROM tokens WHERE user = ? ORDER BY created, id').all(user)) as TokenRow[]
  return rows.map(infoOf)
}

interface TokenRow {
  id: string
  user: string
  hash: string
  scopes: string
  created: string
  expires: string
  revoked_at: string | null
}

function infoOf(row: TokenRow): TokenInfo {
  return { id: row.id, user: row.user, scopes: JSON.parse(row.scopes) as string[], created: row.created, expires: row.expires, revokedAt: row.revoked_at }
}

const unauthorized = (code: string, message: string): RegistryHttpError =>
  new RegistryHttpError(401, code, `${message}: ${NEW_TOKEN_HINT}`, NEW_TOKEN_HINT)

/** The principal a token stands for, or a 401 saying whether it is malformed, expired or revoked. */
export async function verifyToken(db: BetterSqlite3.Database, secret: Uint8Array, token: string, now: Date): Promise<Principal> {
  let claims: { sub?: string; jti?: string; scopes?: unknown; exp?: number }
  try {
    claims = (await jwtVerify(token, secret, { algorithms: ['HS256'], currentDate: now })).payload
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) {
      const exp = (error.payload as { exp?: number }).exp
      throw unauthorized('ERR_REGISTRY_TOKEN_EXPIRED', `the token expired${exp ? ` at ${new Date(exp * 1000).toISOString()}` : ''}`)
    }
    throw unauthorized('ERR_REGISTRY_TOKEN_INVALID', 'the token is malformed or was not issued by this registry')
  }
  const row = claims.jti ? (db.prepare('SELECT * FROM tokens WHERE id = ?').get(claims.jti) as TokenRow | undefined) : undefined
  const hash = Buffer.from(hashOf(token), 'hex')
  if (!row || row.user !== claims.sub || !timingSafeEqual(Buffer.from(row.hash, 'hex'), hash)) {
    throw unauthorized('ERR_REGISTRY_TOKEN_INVALID', 'the token is not known to this registry (was its database replaced?)')
  }
  if (row.revoked_at !== null) throw unauthorized('ERR_REGISTRY_TOKEN_REVOKED', `the token ${row.id} was revoked at ${row.revoked_at}`)
  if (Date.parse(row.expires) <= now.getTime()) throw unauthorized('ERR_REGISTRY_TOKEN_EXPIRED', `the token expired at ${row.expires}`)
  return { user: row.user, tokenId: row.id, scopes: JSON.parse(row.scopes) as string[] }
}
