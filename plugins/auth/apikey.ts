// Module type `auth.apikey`: API keys (`isk_<id>_<secret>`) from `Authorization: Bearer` or `X-API-Key`, checked
// against the SQLite store `islet apikey` manages. Also an `http.authenticator` (the admin API's way in).
import { resolve } from 'node:path'
import {
  dataPath, defineModuleType, httpAuthenticator, httpMiddleware, messageOf, type Authenticator, type HttpRequestView,
  type MiddlewareProvider, type ModuleContext, type ModuleInstance, type Principal,
} from '@islet/sdk'
import { apiKeyHeader, authMiddleware, bearerToken, CHALLENGE } from './credentials.ts'
import { AuthError } from './errors.ts'
import { API_KEY_PREFIX, keyId, keyMatches } from './key-format.ts'
import { openKeyStore, type KeyStore } from './key-store.ts'

export interface ApiKeyConfig {
  store: string
  optional: boolean
}

export type ApiKeyModule = MiddlewareProvider & Authenticator & ModuleInstance & { readonly storeFile: string }

/** last_used_at is news to an operator at this resolution; writing it on every request would make reads into writes. */
export const LAST_USED_RESOLUTION_MS = 60_000

export const DEFAULT_STORE = 'keys.db'

export default defineModuleType<ApiKeyConfig, ApiKeyModule>({
  type: 'auth.apikey',
  description: 'API keys (isk_…) from Authorization: Bearer or X-API-Key, managed with `islet apikey`, stored hashed in SQLite; ' +
    'attaches the caller as locals.principal. List it under a server\'s `middleware`, or under islet.admin `auth`.',
  provides: [httpMiddleware, httpAuthenticator],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      store: { ...dataPath('the key store (SQLite), relative to the data directory; `islet apikey` opens the same file'), default: DEFAULT_STORE },
      optional: { type: 'boolean', default: false, description: 'a request without a key passes on with no principal (true) or gets 401 (false)' },
    },
  },
  create: createApiKeyModule,
})

export function createApiKeyModule(config: ApiKeyConfig, ctx: ModuleContext): ApiKeyModule {
  const module = `auth.apikey '${ctx.name}'`
  // The config loader confines `store` to the data directory (symlinks resolved); here it only becomes absolute.
  const storeFile = resolve(ctx.dataDir, config.store)
  let store: KeyStore | undefined

  async function authenticate(request: HttpRequestView): Promise<Principal | undefined> {
    const bearer = bearerToken(request)
    const presented = bearer !== undefined && bearer.startsWith(API_KEY_PREFIX) ? bearer : apiKeyHeader(request)
    if (presented === undefined) return undefined
    const id = keyId(presented)
    if (id === undefined) throw new AuthError('ERR_AUTH_INVALID_TOKEN', 'the API key is malformed: keys look like isk_<16 hex>_<43 base64url characters>')
    if (!store) throw new AuthError('ERR_AUTH_STORE', `${module} has not started: its key store is not open`)
    let row
    try {
      // Read on every request, never cached: a revocation committed by `islet apikey revoke` holds from the next one.
      row = store.find(id)
    } catch (error) {
      throw new AuthError('ERR_AUTH_STORE', `${module} cannot read its key store ${storeFile}: ${messageOf(error)}`, { cause: error })
    }
    // Unknown id and wrong secret read alike: the answer must not tell which ids exist.
    if (!row || !keyMatches(presented, row.hash)) throw new AuthError('ERR_AUTH_INVALID_TOKEN', 'the API key is not valid')
    if (row.revokedAt !== null) throw new AuthError('ERR_AUTH_INVALID_TOKEN', `the API key was revoked at ${row.revokedAt}`)
    noteUse(row.id, row.lastUsedAt)
    return { subject: row.id, via: 'apikey', name: row.name, scopes: row.scopes }
  }

  function noteUse(id: string, last: string | null): void {
    const now = Date.now()
    if (last !== null && now - Date.parse(last) < LAST_USED_RESOLUTION_MS) return
    try {
      store!.touch(id, new Date(now).toISOString())
    } catch (error) {
      // A busy store must not fail a request that verified: the timestamp is bookkeeping.
      ctx.logger.warn({ err: messageOf(error), key: id }, 'could not record the API key\'s last use')
    }
  }

  return {
    storeFile,
    challenge: CHALLENGE,
    authenticate,
    middleware: authMiddleware({ authenticate, challenge: CHALLENGE }, { optional: config.optional, module, reads: 'an API key (Authorization: Bearer isk_… or X-API-Key)' }),
    start() {
      store ??= openKeyStore(storeFile)
      ctx.logger.info({ store: storeFile }, 'API key store open')
    },
    stop() {
      store?.close()
      store = undefined
    },
  }
}
