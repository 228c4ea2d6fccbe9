// The one door from the CLI to registry/: the client (sources; resolution and the lock it makes, through the
// runtime's plugins/locked-plugins.ts; lockDrift, refreshStanding, readLock, writeLock), the server (startRegistry,
// openStore, openEmbeddedRegistry) and its auth (createAuth, createUser, issueToken, revokeToken, listTokens). This
// module is imported only by the commands that use it.
import { userInfo } from 'node:os'
import { join } from 'node:path'
import {
  lockDrift as clientLockDrift, refreshStanding as refreshClientStanding,
  type Drift, type Lockfile, type LockedPlugin, type Packument, type PackumentVersion,
  sourceFor, type RegistryMap, type RegistrySource, type RegistrySpec, type StandingChange,
} from '../../registry/client/index.ts'
import type { PluginPackageJson } from '../../registry/manifest.ts'
import { createAuth, createUser as addUser, issueToken as issue, listTokens as tokens, revokeToken as revoke, type IssuedToken, type TokenInfo } from '../../registry/server/auth/index.ts'
import { openEmbeddedRegistry } from '../../registry/server/embedded.ts'
import { startRegistry as start } from '../../registry/server/server.ts'
import { openStore, type RegistryStore } from '../../registry/server/store.ts'
import { IsletError } from '../errors.ts'
import { registryIds, resolvePlugins as resolveKeeping } from '../plugins/locked-plugins.ts'
import { openAppSources } from '../plugins/registry-sources.ts'

export type { Drift, IssuedToken, Lockfile, Packument, PackumentVersion, StandingChange, TokenInfo }
/** The client's islet.lock reading (file:line:col errors) and atomic, sorted writing. */
export { readLock, writeLock } from '../../registry/client/index.ts'
export type LockEntry = LockedPlugin
export type PluginSource = RegistrySource

/** The app's registries, opened: the source a name is fetched from (a bound scope only ever uses its registry). */
export interface Sources {
  sourceFor(name: string): PluginSource
  /** The lock's `registry` value for a name: the URL, or 'embedded'. */
  registryFor(name: string): string
  /** @internal what the client's own functions take. */
  readonly map: RegistryMap<PluginSource>
  /** @internal the specs as written (interpolated), for the token of a write. */
  readonly specs: RegistryMap<RegistrySpec>
  readonly dataDir: string
}

export interface ResolveRequest { name: string; range: string; from: string }

/** A problem `checkComponents` reports inside a package: the package-relative file and where in it. */
export interface PackageProblem { file: string; line?: number; column?: number; code: string; message: string; hint?: string }

export interface RunningRegistry { url: string; close(): Promise<void> }


/** Who the audit log names for a write made from this command line. */
function actor(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return 'cli'
  }
}

// ---- the server ----

export async function startRegistry(options: { dir: string; host: string; port: number; checkComponents: ComponentCheck }): Promise<RunningRegistry> {
  return start({
    dir: options.dir, host: options.host, port: options.port,
    auth: (store) => createAuth(store.db, { now: () => store.now() }),
    checkComponents: serverCheck(options.checkComponents),
  })
}

type ComponentCheck = (files: Map<string, Buffer>, pkg: PluginPackageJson) => Promise<PackageProblem[]>

/** The runtime's component check as the server reports problems: `{ path, message, hint }`, the path file:line:col. */
function serverCheck(check: ComponentCheck) {
  return async (files: Map<string, Buffer>, pkg: PluginPackageJson) => (await check(files, pkg)).map((p) => ({
    path: `${p.file}${p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : ''}`,
    message: `${p.code} ${p.message}`,
    hint: p.hint ?? 'fix the component and publish a new version (islet component test runs it locally)',
  }))
}

/**
 * Publishes a tarball into the embedded registry (`<dataDir>/registry`): the same checks and signature as a publish
 * over HTTP, with no server and no token (whoever can write the data directory owns it).
 */
export async function publishEmbedded(dataDir: string, tarball: Uint8Array, options: { tag: string; checkComponents: ComponentCheck }): Promise<{ dir: string; integrity: string }> {
  const dir = join(dataDir, 'registry')
  const registry = openEmbeddedRegistry(dir)
  try {
    const row = await registry.publish(tarball, { actor: actor(), tags: [options.tag], checkComponents: serverCheck(options.checkComponents) })
    return { dir, integrity: row.integrity }
  } finally {
    registry.close()
  }
}

/** Opens the registry folder's database for one command, and closes it after. */
async function withStore<T>(dir: string, run: (store: RegistryStore) => T | Promise<T>): Promise<T> {
  const store = openStore(dir)
  try {
    return await run(store)
  } finally {
    store.close()
  }
}

export async function createUser(dir: string, name: string, password: string): Promise<void> {
  await withStore(dir, (store) => addUser(store.db, name, password))
}

export async function issueToken(dir: string, request: { user: string; scopes: string[]; expiresIn: number }): Promise<IssuedToken> {
  return withStore(dir, (store) => issue(store.db, { ...request, via: actor() }))
}

export async function revokeToken(dir: string, id: string): Promise<TokenInfo> {
  return withStore(dir, (store) => revoke(store.db, id, { actor: actor() }))
}

export async function listTokens(dir: string): Promise<TokenInfo[]> {
  return withStore(dir, (store) => tokens(store.db))
}

// ---- the client ----

/** The app's `registries:` (already interpolated) as sources; with none, the embedded registry in the data dir. */
export async function sourcesFor(registries: unknown, options: { dataDir: string }): Promise<Sources> {
  // The runtime's one way to open sources (runtime/plugins/registry-sources.ts): the CLI opens them the same way.
  return openAppSources((registries ?? {}) as Partial<Record<string, RegistrySpec>>, options)
}

/**
 * Resolution and the lock it makes (signed versions only, keys pinned), the runtime's way (plugins/locked-plugins.ts).
 * `kept`: locked plugins that stay exactly as the lock pins them, read from it and not from a registry (so a vendored
 * plugin no registry has does not stop the others from resolving); the lock returned holds them with their keys, and
 * `resolved` only the others.
 */
export async function resolvePlugins(requests: ResolveRequest[], options: { sources: Sources; engineVersion: string; kept?: Lockfile }): Promise<{ resolved: Map<string, PackumentVersion>; lock: Lockfile; warnings: string[] }> {
  const kept = options.kept?.plugins ?? {}
  const result = await resolveKeeping(requests, { sources: options.sources.map, engineVersion: options.engineVersion }, kept)
  const keptKeys = new Set(Object.values(kept).map((e) => e.keyid))
  const keys = { ...Object.fromEntries(Object.entries(options.kept?.keys ?? {}).filter(([id]) => keptKeys.has(id))), ...result.lock.keys }
  return { resolved: result.manifests, lock: { lockfileVersion: 1, keys, plugins: { ...kept, ...result.lock.plugins } }, warnings: result.warnings }
}

/** How the lock differs from the app's ranges and registries (the client's one definition of drift). */
export function lockDrift(lock: Lockfile, ranges: ReadonlyMap<string, string>, sources: Sources): Drift[] {
  return clientLockDrift(lock, [...ranges].map(([name, range]) => ({ name, range })), registryIds(sources.map))
}

/** The lock with each plugin's deprecation and yank as its registry states them now (registry/client/lock.ts). */
export async function refreshStanding(lock: Lockfile, sources: Sources): Promise<{ lock: Lockfile; changes: StandingChange[] }> {
  return refreshClientStanding(lock, sources.map)
}

// ---- writes and search, per registry kind ----

/** The registry a write about `name` goes to, and the token the app's registries: give it. */
function specFor(sources: Sources, name: string): { url: string; token?: string } {
  const spec = sourceFor(name, sources.specs)
  return typeof spec === 'string' ? { url: spec } : spec
}

/** Yanks (with a reason) or un-yanks (null) one version where `name` is published: `PUT|DELETE /-/islet/yank/…`. */
export async function setYanked(sources: Sources, name: string, version: string, reason: string | null): Promise<void> {
  const spec = specFor(sources, name)
  const { url } = spec
  // A write needs a token: the app's registries: entry gives one, else the environment (never a file of ours).
  const token = spec.token ?? process.env.ISLET_REGISTRY_TOKEN
  if (url === 'embedded') {
    const registry = openEmbeddedRegistry(join(sources.dataDir, 'registry'))
    try {
      registry.yank(name, version, reason, actor())
    } finally {
      registry.close()
    }
    return
  }
  const base = url.endsWith('/') ? url : `${url}/`
  const response = await fetch(new URL(`-/islet/yank/${encodeURIComponent(name)}/${encodeURIComponent(version)}`, base), {
    method: reason === null ? 'DELETE' : 'PUT',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(reason === null ? {} : { body: JSON.stringify({ reason }) }),
  })
  if (!response.ok) {
    const body = await response.json().catch(() => ({})) as { error?: string; code?: string; hint?: string }
    throw new IsletError('ERR_CLI_REGISTRY', `${base} refused to ${reason === null ? 'unyank' : 'yank'} ${name}@${version}: ${response.status} ${body.code ?? ''} ${body.error ?? response.statusText}${body.hint && !body.error?.includes(body.hint) ? ` (${body.hint})` : ''}${response.status === 401 && !token ? '; give a token: set ISLET_REGISTRY_TOKEN, or token: in registries:' : ''}`)
  }
}

/** Names the registry holding `name` knows that look like it (for did-you-mean): npm's search, or the store's names. */
export async function searchNames(sources: Sources, name: string): Promise<string[]> {
  const { url } = specFor(sources, name)
  // A typo rarely matches as text: ask for the whole scope, or for the start of an unscoped name.
  const scope = /^@([^/]+)\//.exec(name)?.[1]
  const text = scope ? `scope:${scope}` : name.slice(0, Math.max(3, Math.floor(name.length / 2)))
  if (url === 'embedded') {
    return withStore(join(sources.dataDir, 'registry'), (store) =>
      ((store.db.prepare('SELECT name FROM packages').all() as { name: string }[])).map((r) => r.name))
  }
  const base = url.endsWith('/') ? url : `${url}/`
  const response = await fetch(new URL(`-/v1/search?text=${encodeURIComponent(text)}&size=250`, base))
  if (!response.ok) return []
  const found = await response.json() as { objects?: { package?: { name?: string } }[] }
  return (found.objects ?? []).flatMap((o) => typeof o.package?.name === 'string' ? [o.package.name] : [])
}
