// Module type `auth.jwt`: verifies `Authorization: Bearer <JWT>` with jose against an HS256 secret, a JWKS file or
// a remote JWKS, and attaches the caller as `locals.principal`. Also an `http.authenticator` (the admin API's way in).
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { createLocalJWKSet, JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose'
import {
  appPath, defineModuleType, httpAuthenticator, httpMiddleware, messageOf, type Authenticator, type HttpRequestView,
  type MiddlewareProvider, type ModuleContext, type ModuleInstance, type Principal,
} from '@islet/sdk'
import { authMiddleware, bearerToken, CHALLENGE } from './credentials.ts'
import { AuthError } from './errors.ts'
import { API_KEY_PREFIX } from './key-format.ts'

export const SYMMETRIC = ['HS256', 'HS384', 'HS512'] as const
export const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const
/** HS256 keys shorter than this are guessable offline from one captured token (RFC 7518 §3.2: at least the hash size). */
export const MIN_SECRET_BYTES = 32

export interface JwtConfig {
  secret?: string
  jwks?: string
  jwksUrl?: string
  algorithms?: string[]
  issuer?: string | string[]
  audience?: string | string[]
  clockToleranceSeconds: number
  requiredClaims: string[]
  requireExp: boolean
  scopesClaim?: string
  optional: boolean
}

export type JwtModule = MiddlewareProvider & Authenticator & ModuleInstance

const stringOrList = (what: string) => ({
  description: what,
  anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }],
})

export default defineModuleType<JwtConfig, JwtModule>({
  type: 'auth.jwt',
  description: 'Verifies bearer JWTs (HS256 secret, JWKS file or JWKS URL) and attaches the caller as locals.principal. ' +
    'List it under a server\'s `middleware`, or under islet.admin `auth`.',
  provides: [httpMiddleware, httpAuthenticator],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      // Checked here too (characters ≥ bytes), so `islet validate` reports a short secret at its line.
      secret: { type: 'string', minLength: MIN_SECRET_BYTES, description: `HS256 shared secret, at least ${MIN_SECRET_BYTES} bytes; write \${JWT_SECRET}, never the secret itself` },
      jwks: appPath('a JSON Web Key Set file (public keys; RS/PS/ES/EdDSA), relative to this YAML'),
      jwksUrl: { type: 'string', pattern: '^https?://', description: 'a remote JSON Web Key Set (https; http only on loopback), fetched on demand and cached' },
      algorithms: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SYMMETRIC, ...ASYMMETRIC] },
        description: 'the accepted `alg` values (never none); default HS256 with secret, every asymmetric one with a key set' },
      issuer: stringOrList('required `iss` (one, or any of a list)'),
      audience: stringOrList('required `aud` (one, or any of a list)'),
      clockToleranceSeconds: { type: 'integer', minimum: 0, maximum: 300, default: 5, description: 'leeway for exp/nbf/iat against clock skew' },
      requiredClaims: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'claims a token must carry (e.g. [sub, exp])' },
      requireExp: { type: 'boolean', default: true, description: 'refuse tokens without an exp claim, which never expire (true); false accepts them, for issuers that leave exp out' },
      scopesClaim: { type: 'string', minLength: 1, description: 'the claim holding the scopes (a space-separated string or an array); default `scope`, else `scp`' },
      optional: { type: 'boolean', default: false, description: 'a request without a token passes on with no principal (true) or gets 401 (false)' },
    },
  },
  create: createJwtModule,
  // A new key set in the file restarts the module on the next config reload, which reads it.
  inputs: (config, ctx) => (config.jwks === undefined ? [] : [ctx.resolvePath(config.jwks)]),
})

export async function createJwtModule(config: JwtConfig, ctx: ModuleContext): Promise<JwtModule> {
  // jose loads with the first auth.jwt module, not with every engine (`islet validate` never creates modules).
  const jose = await import('jose')
  const module = `auth.jwt '${ctx.name}'`
  const sources = (['secret', 'jwks', 'jwksUrl'] as const).filter((k) => config[k] !== undefined)
  if (sources.length !== 1) {
    throw new AuthError('ERR_AUTH_CONFIG', sources.length === 0
      ? `${module} has no key to verify tokens with: set one of secret (HS256, e.g. secret: \${JWT_SECRET}), jwks (a key set file) or jwksUrl (the issuer's key set URL)`
      : `${module} sets ${sources.join(' and ')}: tokens are verified with one key source; keep one of them`, { details: { module: ctx.name } })
  }
  const symmetric = config.secret !== undefined
  if (!symmetric && config.audience === undefined) {
    // An issuer's key set signs tokens for every API it serves: without an audience, one minted for another API (with
    // its own `admin` scope) passes here too.
    ctx.logger.warn({ module: ctx.name }, `${module} verifies tokens against a public key set but checks no audience: a token the issuer ` +
      'minted for any other API passes as well; set audience: to the name this app has at the issuer')
  }
  const algorithms = config.algorithms ?? (symmetric ? ['HS256'] : [...ASYMMETRIC])
  // Algorithm confusion: an HMAC "signed" with a public key, or a secret used as a public key, must never verify.
  const wrong = algorithms.filter((a) => (SYMMETRIC as readonly string[]).includes(a) !== symmetric)
  if (wrong.length > 0) {
    throw new AuthError('ERR_AUTH_CONFIG', symmetric
      ? `${module}: algorithms ${wrong.join(', ')} need a public key set (jwks or jwksUrl), not a shared secret: list only ${SYMMETRIC.join(', ')} with secret`
      : `${module}: algorithms ${wrong.join(', ')} are HMAC with a shared secret; with a key set list only asymmetric ones (${ASYMMETRIC.join(', ')})`,
    { details: { module: ctx.name, algorithms: wrong } })
  }
  let key: Uint8Array | JWTVerifyGetKey | undefined
  if (config.secret !== undefined) {
    key = new TextEncoder().encode(config.secret)
    if (key.byteLength < MIN_SECRET_BYTES) {
      // Never the secret itself in the message: it goes to logs and terminals.
      throw new AuthError('ERR_AUTH_CONFIG',
        `${module}: the HS256 secret is ${key.byteLength} bytes long; it must be at least ${MIN_SECRET_BYTES} bytes (random): ` +
        'generate one with `openssl rand -base64 48` and pass it through the environment (secret: ${JWT_SECRET})',
        { details: { module: ctx.name, bytes: key.byteLength, minimum: MIN_SECRET_BYTES } })
    }
  } else if (config.jwksUrl !== undefined) {
    key = jose.createRemoteJWKSet(remoteUrl(config.jwksUrl, module), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
  }
  const jwksFile = config.jwks === undefined ? undefined : ctx.resolvePath(config.jwks)

  const options: JWTVerifyOptions = {
    // A token without exp is valid forever once leaked: refused unless the operator says the issuer omits it.
    algorithms, clockTolerance: config.clockToleranceSeconds,
    requiredClaims: [...new Set([...config.requiredClaims, ...(config.requireExp ? ['exp'] : [])])],
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
  }

  async function authenticate(request: HttpRequestView): Promise<Principal | undefined> {
    const token = bearerToken(request)
    // An API key is auth.apikey's to read; so is an X-API-Key header (bearerToken ignores it).
    if (token === undefined || token.startsWith(API_KEY_PREFIX)) return undefined
    if (key === undefined) throw new AuthError('ERR_AUTH_CONFIG', `${module} has not started: its key set is not loaded`)
    let payload: JWTPayload
    try {
      // The cast picks one of jwtVerify's overloads; both key kinds are valid at run time.
      payload = (await jose.jwtVerify(token, key as Uint8Array, options)).payload
    } catch (error) {
      throw refusal(jose.errors, error, module, algorithms, config.jwksUrl)
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new AuthError('ERR_AUTH_INVALID_TOKEN', 'the token has no sub claim: it does not say who the caller is')
    }
    return {
      subject: payload.sub, via: 'jwt', scopes: scopesOf(payload, config.scopesClaim),
      ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
      claims: payload as Record<string, unknown>,
    }
  }

  return {
    challenge: CHALLENGE,
    authenticate,
    middleware: authMiddleware({ authenticate, challenge: CHALLENGE }, { optional: config.optional, module, reads: 'a JWT (Authorization: Bearer <token>)' }),
    start() {
      if (jwksFile === undefined) return
      let text: string
      try {
        text = readFileSync(jwksFile, 'utf8')
      } catch (error) {
        throw new AuthError('ERR_AUTH_CONFIG', `${module}: cannot read the key set ${jwksFile}: ${messageOf(error)}`, { details: { module: ctx.name, file: jwksFile }, cause: error })
      }
      try {
        const set = JSON.parse(text) as { keys?: unknown }
        if (!Array.isArray(set?.keys)) throw new Error('it has no "keys" array')
        if (set.keys.some((k) => typeof k === 'object' && k !== null && ('d' in k || (k as { kty?: unknown }).kty === 'oct'))) {
          throw new Error('it holds private or symmetric keys ("d" or kty "oct"); publish only the public keys')
        }
        key = jose.createLocalJWKSet(set as Parameters<typeof createLocalJWKSet>[0])
      } catch (error) {
        throw new AuthError('ERR_AUTH_CONFIG', `${module}: ${jwksFile} is not a usable JSON Web Key Set: ${messageOf(error)}`, { details: { module: ctx.name, file: jwksFile }, cause: error })
      }
    },
  }
}

/** The key set URL: https, or http to a loopback host (a key set fetched in clear could be replaced on the way). */
function remoteUrl(text: string, module: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new AuthError('ERR_AUTH_CONFIG', `${module}: jwksUrl '${text}' is not a URL`)
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1'
  if (url.protocol !== 'https:' && !loopback) {
    throw new AuthError('ERR_AUTH_CONFIG', `${module}: jwksUrl must use https (http is accepted only on loopback): anyone on the way could swap the keys; write https://${url.host}${url.pathname}`)
  }
  return url
}

/** Scopes from the configured claim, else `scope` (space-separated) or `scp` (array, or a string). */
export function scopesOf(payload: JWTPayload, claim: string | undefined): string[] {
  const value = claim !== undefined ? payload[claim] : payload.scope ?? payload.scp
  if (typeof value === 'string') return value.split(/\s+/).filter((s) => s !== '')
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s !== '')
  return []
}

/** A failed verification as what the caller is told: invalid_token with what was wrong, or 503 when keys are unreachable. */
function refusal(errors: typeof import('jose').errors, error: unknown, module: string, algorithms: readonly string[], jwksUrl: string | undefined): AuthError {
  const invalid = (message: string) => new AuthError('ERR_AUTH_INVALID_TOKEN', message, { cause: error })
  if (error instanceof errors.JWTExpired) return invalid('the token has expired')
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'exp' && error.reason === 'missing') {
    return invalid('the token has no exp claim: a token that never expires is refused here (the issuer must set exp)')
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(error.claim === 'nbf' ? 'the token is not valid yet (nbf)' : `the token's ${error.claim} claim is not accepted: ${error.message}`)
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid(`the token's algorithm is not accepted here (accepted: ${algorithms.join(', ')})`)
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('the token\'s signature does not verify')
  if (error instanceof errors.JWKSNoMatchingKey) return invalid('no key of the key set matches the token (kid, alg)')
  if (error instanceof errors.JWKSTimeout || (jwksUrl !== undefined && !(error instanceof errors.JOSEError))) {
    return new AuthError('ERR_AUTH_JWKS_UNAVAILABLE', `${module} cannot verify tokens now: the key set at ${jwksUrl} could not be fetched (${messageOf(error)})`, { cause: error })
  }
  if (error instanceof errors.JOSEError && error.message.startsWith('Expected 200 OK')) {
    return new AuthError('ERR_AUTH_JWKS_UNAVAILABLE', `${module} cannot verify tokens now: the key set at ${jwksUrl} answered with an error`, { cause: error })
  }
  if (error instanceof errors.JOSEError) return invalid(`the token is malformed or unsupported: ${error.message}`)
  throw error
}
