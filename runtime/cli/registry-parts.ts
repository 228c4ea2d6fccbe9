// The one seam between the registry commands and the parts of issue 11 other helpers build in parallel (the server,
// its auth, the client's sources, resolution and lock). Each part is imported here and nowhere else in runtime/cli,
// with the signature design11.md fixes, so that merging them is a change to this file only. Until a part is on main,
// its import fails and the command says which part is missing (ERR_CLI_UNAVAILABLE) instead of crashing.
import type { NpmPublicKey } from '../../registry/signature.ts'
import type { IsletField } from '../../registry/manifest.ts'
import { IsletError, messageOf } from '../errors.ts'

/** One version in a packument, as the registry serves it (npm's fields, Islet's `_yanked`). */
export interface PackumentVersion {
  name: string
  version: string
  description?: string
  islet?: IsletField
  deprecated?: string
  _yanked?: string
  dist: { integrity: string; shasum?: string; tarball: string; signatures?: { keyid: string; sig: string }[] }
  [field: string]: unknown
}

export interface Packument {
  name: string
  'dist-tags': Record<string, string>
  versions: Record<string, PackumentVersion>
  time?: Record<string, string>
}

/** Where plugins come from (design11 "Client"): every source kind answers these three. */
export interface PluginSource {
  packument(name: string): Promise<Packument | undefined>
  tarball(name: string, version: string, dist: PackumentVersion['dist']): Promise<Uint8Array>
  keys(): Promise<NpmPublicKey[]>
}

/** The source a name is fetched from under the app's `registries:` (a scope bound to a registry only ever uses it). */
export interface Sources {
  sourceFor(name: string): PluginSource
  /** The lock's `registry` value for a name: the URL, or 'embedded'. */
  registryFor(name: string): string
}

export interface ResolveRequest { name: string; range: string; from: string }

export interface LockEntry {
  version: string
  integrity: string
  keyid: string
  sig: string
  registry: string
  engine: string
  plugins?: Record<string, string>
}

export interface Lockfile {
  lockfileVersion: 1
  keys: Record<string, { key: string; registry: string }>
  plugins: Record<string, LockEntry>
}

/** A problem `checkComponents` reports inside a package: the package-relative file and where in it. */
export interface PackageProblem { file: string; line?: number; column?: number; code: string; message: string }

export interface RunningRegistry { url: string; close(): Promise<void> }

export interface StartRegistryOptions {
  dir: string
  host?: string
  port?: number
  checkComponents?: (files: Map<string, Buffer>, pkg: { name: string; version: string; islet: IsletField }) => Promise<PackageProblem[]>
}

export interface IssuedToken { token: string; id: string }
export interface TokenRow { id: string; user: string; scopes: string[]; created: string; expires: string | null; revoked: string | null }

// The modules each part lives in (design11.md). Held in variables so that the type check passes before they exist.
const PARTS = {
  server: '../../registry/server/server.ts',
  auth: '../../registry/server/auth/index.ts',
  sources: '../../registry/client/sources.ts',
  resolve: '../../registry/client/resolve.ts',
  lock: '../../registry/client/lock.ts',
} as const

async function part<T>(which: keyof typeof PARTS): Promise<T> {
  try {
    return await import(PARTS[which]) as T
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && messageOf(error).includes(PARTS[which].slice(6))) {
      throw new IsletError('ERR_CLI_UNAVAILABLE', `this islet has no ${PARTS[which].slice(6)} yet (the registry's ${which} part); this command needs it`)
    }
    throw error
  }
}

export async function startRegistry(options: StartRegistryOptions): Promise<RunningRegistry> {
  return (await part<{ startRegistry(o: StartRegistryOptions): Promise<RunningRegistry> }>('server')).startRegistry(options)
}

/** The app's `registries:` (already interpolated) as sources; with none, the embedded registry in the data dir. */
export async function sourcesFor(registries: unknown, options: { dataDir: string }): Promise<Sources> {
  return (await part<{ createSources(r: unknown, o: { dataDir: string }): Sources }>('sources')).createSources(registries, options)
}

export async function resolvePlugins(requests: ResolveRequest[], options: { sources: Sources; engineVersion: string; includePrerelease?: boolean }): Promise<Map<string, PackumentVersion>> {
  return (await part<{ resolvePlugins: typeof resolvePlugins }>('resolve')).resolvePlugins(requests, options)
}

export async function readLock(file: string): Promise<Lockfile | undefined> {
  return (await part<{ readLock: typeof readLock }>('lock')).readLock(file)
}

export async function writeLock(file: string, lock: Lockfile): Promise<void> {
  return (await part<{ writeLock: typeof writeLock }>('lock')).writeLock(file, lock)
}

/** Yanks (reason) or un-yanks (null) one version where `name` is published. */
export async function setYanked(sources: Sources, name: string, version: string, reason: string | null): Promise<void> {
  return (await part<{ setYanked: typeof setYanked }>('sources')).setYanked(sources, name, version, reason)
}

/** Names the registry's search finds for `text` (for did-you-mean). */
export async function searchNames(sources: Sources, name: string): Promise<string[]> {
  return (await part<{ searchNames: typeof searchNames }>('sources')).searchNames(sources, name)
}

interface AuthPart {
  createUser(dir: string, name: string, password: string): Promise<void> | void
  issueToken(dir: string, request: { user: string; scopes: string[]; expiresIn?: number }): Promise<IssuedToken> | IssuedToken
  revokeToken(dir: string, id: string): Promise<boolean> | boolean
  listTokens(dir: string): Promise<TokenRow[]> | TokenRow[]
}

export async function createUser(dir: string, name: string, password: string): Promise<void> {
  await (await part<AuthPart>('auth')).createUser(dir, name, password)
}
export async function issueToken(dir: string, request: { user: string; scopes: string[]; expiresIn?: number }): Promise<IssuedToken> {
  return (await part<AuthPart>('auth')).issueToken(dir, request)
}
export async function revokeToken(dir: string, id: string): Promise<boolean> {
  return (await part<AuthPart>('auth')).revokeToken(dir, id)
}
export async function listTokens(dir: string): Promise<TokenRow[]> {
  return (await part<AuthPart>('auth')).listTokens(dir)
}
