// Test support: a small authentication plugin written against the sdk alone, as a third party would: module type
// `test.token` accepts fixed bearer tokens (config: token → subject and scopes) and provides both the middleware
// (sets locals.principal) and the http.authenticator the admin API verifies tokens through.
import {
  CodedError, defineModuleType, definePlugin, httpAuthenticator, httpMiddleware, PRINCIPAL_LOCAL,
  type Authenticator, type HttpMiddleware, type HttpRequestView, type MiddlewareProvider, type Principal,
} from '@islet/sdk'

interface TokenConfig {
  tokens: Record<string, { subject: string; scopes: string[] }>
  /** Requests without a token pass on without a principal (a route's `requires:` then answers 401). */
  optional: boolean
}

class TokenError extends CodedError<'ERR_TEST_TOKEN_INVALID' | 'ERR_TEST_TOKEN_REQUIRED'> {
  readonly status = 401
}

const CHALLENGE = 'Bearer realm="islet"'

export const tokenAuth = definePlugin({
  name: 'test-token', version: '1.0.0',
  moduleTypes: [defineModuleType<TokenConfig, MiddlewareProvider & Authenticator>({
    type: 'test.token',
    provides: [httpMiddleware, httpAuthenticator],
    configSchema: {
      type: 'object', additionalProperties: false, required: ['tokens'],
      properties: {
        tokens: {
          type: 'object',
          additionalProperties: {
            type: 'object', additionalProperties: false, required: ['subject', 'scopes'],
            properties: { subject: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } } },
          },
        },
        optional: { type: 'boolean', default: false },
      },
    },
    create(config) {
      const authenticate = async (request: HttpRequestView): Promise<Principal | undefined> => {
        const header = request.headers.authorization
        const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined
        if (token === undefined) return undefined
        const known = config.tokens[token]
        if (!known) throw new TokenError('ERR_TEST_TOKEN_INVALID', 'the token is not one this module issued')
        return { subject: known.subject, via: 'test-token', scopes: [...known.scopes] }
      }
      const middleware: HttpMiddleware = async (http, next) => {
        if (http.locals[PRINCIPAL_LOCAL] !== undefined) return next()
        let principal: Principal | undefined
        try {
          principal = await authenticate(http.request)
        } catch (error) {
          const e = error as TokenError
          return http.respond({ status: 401, headers: { 'WWW-Authenticate': CHALLENGE }, body: { error: { code: e.code, message: e.message, requestId: http.request.id } } })
        }
        if (principal) http.locals[PRINCIPAL_LOCAL] = principal
        else if (!config.optional) {
          return http.respond({ status: 401, headers: { 'WWW-Authenticate': CHALLENGE },
            body: { error: { code: 'ERR_TEST_TOKEN_REQUIRED', message: 'send a bearer token', requestId: http.request.id } } })
        }
        return next()
      }
      return { middleware, authenticate, challenge: CHALLENGE }
    },
  })],
})
