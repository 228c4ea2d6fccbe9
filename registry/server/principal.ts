// Who a request acts as, and the interface the write routes ask it through (implemented by registry/server/auth/).
import type { Context } from 'koa'

export interface Principal {
  user: string
  /** The token's id (never the token: only hashes are stored). */
  tokenId: string
  /** Package patterns the token may publish to: `@acme/*`, an exact name, or `*`. */
  scopes: readonly string[]
}

export interface Authenticator {
  /** The bearer token's principal; undefined without a token; throws RegistryHttpError 401 when invalid, expired or revoked. */
  principal(ctx: Context): Promise<Principal | undefined>
  /** For writes: 401 without a valid token, 403 when its scopes (or the package's owner) do not allow `pkg`. */
  requireWrite(ctx: Context, pkg: string): Promise<Principal>
}
