// What a registry server is started with, and what its routes share.
import type Router from '@koa/router'
import type { TarballLimits } from '../tarball/read.ts'
import type { BodyBudget } from './body-budget.ts'
import type { Authenticator } from './principal.ts'
import type { CheckComponents } from './publish.ts'
import type { RegistryStore } from './store.ts'

export interface RegistryLimits {
  /** Largest publish (or other package document) body, in bytes; default 100 MiB (the tarball travels as base64). */
  publishBytes?: number
  /** Bytes of publish bodies all requests in flight may hold together (past it: 503); default twice publishBytes. */
  inflightBytes?: number
  /** Largest body of the small JSON endpoints (yank); default 64 KiB. */
  jsonBytes?: number
  /** What a published tarball may unpack to. */
  tarball?: TarballLimits
  /** Writes (PUT, DELETE, POST) one user (one IP without a token) may make a minute; default 120. */
  writesPerMinute?: number
  /** Writes allowed at once before the per-minute rate applies; default 30. */
  writeBurst?: number
}

/** An authenticator that also brings routes (login, whoami, tokens, dist-tags, search: registry/server/auth/). */
export type AuthenticatorWithRoutes = Authenticator & { routes?: (router: Router) => void }

export interface RegistryOptions {
  /** Holds registry.db, tarballs/ and keys/signing-key.pem. */
  dir: string
  host?: string
  port?: number
  /** The authenticator, or how to build it on the store's database. Without one every write is refused (401). */
  auth?: AuthenticatorWithRoutes | ((store: RegistryStore) => AuthenticatorWithRoutes)
  /** Compiles a package's components at publish (injected by the CLI: the runtime's compiler); problems refuse it. */
  checkComponents?: CheckComponents
  /** The clock (tests inject one to step past the unpublish window). */
  now?: () => Date
  limits?: RegistryLimits
  /** The base URL tarball links use (ends with /); default: from each request's Host. */
  publicUrl?: string
}

export interface RouteDeps {
  store: RegistryStore
  auth: AuthenticatorWithRoutes | undefined
  checkComponents: CheckComponents | undefined
  limits: { publishBytes: number; jsonBytes: number; tarball: TarballLimits | undefined }
  /** Shared by every publish body being received (registry/server/body-budget.ts). */
  bodies: BodyBudget
  publicUrl: string | undefined
}
