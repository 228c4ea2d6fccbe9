// The built-in `auth` plugin: who is calling. auth.jwt and auth.apikey attach `locals.principal` as middleware and
// verify credentials for the admin API as `http.authenticator`s. Declared through the public sdk only.
import { definePlugin } from '@islet/sdk'
import apikey from './apikey.ts'
import jwt from './jwt.ts'

export { AUTH_ERROR_CODES, AuthError, type AuthErrorCode } from './errors.ts'
export type { ApiKeyConfig, ApiKeyModule } from './apikey.ts'
export type { JwtConfig, JwtModule } from './jwt.ts'

export default definePlugin({
  name: 'auth',
  version: '0.1.0',
  islet: '^0.1.0',
  description: 'Authentication: bearer JWTs (auth.jwt) and API keys (auth.apikey) attach the caller as locals.principal.',
  moduleTypes: [jwt, apikey],
})
