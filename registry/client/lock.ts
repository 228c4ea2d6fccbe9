// islet.lock: what an app runs, pinned (exact version, integrity, signature and the key it verifies with, registry).
// Read with errors at file:line:col, written sorted and atomically (temp file + rename: a reader, or a crash, never
// sees half a lock), and compared with the app's `plugins:` so that `islet run` never resolves silently.
import { existsSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import semver from 'semver'
import { LineCounter, parseDocument } from 'yaml'
import { RegistryError } from '../errors.ts'
import { keyIdOf, verifyVersion } from '../signature.ts'
import { isExactVersion, isSha512Integrity, pluginNameProblem } from './identifiers.ts'
import type { Resolution } from './resolve.ts'
import { sourceById, sourceFor, type RegistryMap } from './source.ts'

export const LOCKFILE_VERSION = 1

export interface LockedKey {
  /** Base64 SPKI DER; its id (`SHA256:…`) is the key under which it is pinned. */
  key: string
  registry: string
}

export interface LockedPlugin {
  version: string
  integrity: string
  keyid: string
  sig: string
  registry: string
  engine: string
  plugins?: Record<string, string>
  /**
   * The version's standing when it was locked or last refreshed (`islet plugin upgrade|list`): npm's deprecation
   * message, Islet's yank reason. The runtime warns with them at load, where it reads no packument (the tarball is
   * vendored or cached), so the lock carries them.
   */
  deprecated?: string
  yanked?: string
}

export interface Lockfile {
  lockfileVersion: 1
  keys: Record<string, LockedKey>
  plugins: Record<string, LockedPlugin>
}

/** The lock at `file`, or undefined when there is none. */
export function readLock(file: string): Lockfile | undefined {
  if (!existsSync(file)) return undefined
  return parseLock(readFileSync(file, 'utf8'), file)
}

export function parseLock(text: string, file: string): Lockfile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)
    const at = position ? lineCol(text, Number(position[1])) : lineCol(text, text.length)
    throw invalid(file, at, `is not valid JSON (${(error as Error).message.replace(/ in JSON at position.*$/, '')})`)
  }
  const problem = shapeProblem(value)
  if (problem) throw invalid(file, lockPosition(text, problem.path), problem.message)
  return value as Lockfile
}

/**
 * Where the value at `path` starts in a lock's text (1-based), or its nearest ancestor that is there; with `key`, a
 * map entry's key instead (`plugins["@a/x"]` is reported at `"@a/x":`, where a reader looks for the entry).
 */
export function lockPosition(text: string, path: readonly (string | number)[], options: { key?: boolean } = {}): { line: number; col: number } {
  // JSON is YAML: the yaml parser gives each node's position.
  const counter = new LineCounter()
  const document = parseDocument(text, { lineCounter: counter })
  type Node = { range?: [number, number, number]; items?: { key?: { value?: unknown; range?: [number, number, number] } }[] }
  if (options.key && path.length > 0) {
    const parent = (path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true)) as Node | undefined
    const pair = parent?.items?.find((item) => item.key?.value === path[path.length - 1])
    if (pair?.key?.range) {
      const position = counter.linePos(pair.key.range[0])
      return { line: position.line, col: position.col }
    }
  }
  let at = [...path]
  let node = document.getIn(at, true) as Node | undefined
  while (!node?.range && at.length > 0) {
    at = at.slice(0, -1)
    node = at.length === 0 ? document.contents as Node : document.getIn(at, true) as Node
  }
  const position = counter.linePos(node?.range?.[0] ?? 0)
  return { line: position.line, col: position.col }
}

/** Writes `lock` to `file` with every object's keys sorted, through a temp file renamed over it. */
export function writeLock(file: string, lock: Lockfile): void {
  const text = `${JSON.stringify(sorted(lock), null, 2)}\n`
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeFileSync(temporary, text, { flush: true })
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

/**
 * The lock for a resolution: each version's signature by a key of its registry, and that key pinned. A version
 * without a signature, or signed only by keys its registry does not publish, is refused: a lock pins nothing unsigned.
 */
export async function lockFromResolution(resolution: Resolution, sources: RegistryMap): Promise<Lockfile> {
  const lock: Lockfile = { lockfileVersion: LOCKFILE_VERSION, keys: {}, plugins: {} }
  const keysOf = new Map<string, Promise<{ keyid: string; key: string }[]>>()
  for (const plugin of resolution.plugins) {
    const source = sourceById(sources, plugin.registry) ?? sourceFor(plugin.name, sources)
    if (!keysOf.has(source.id)) keysOf.set(source.id, source.keys())
    // Only keys that are what their id says: a registry listing a stranger's key under its own key's id (or junk)
    // must not get that key pinned under an id it does not hash to.
    const listed: unknown = await keysOf.get(source.id)!
    const keys = (Array.isArray(listed) ? listed as { keyid?: unknown; key?: unknown }[] : [])
      .filter((k): k is { keyid: string; key: string } => typeof k?.keyid === 'string' && typeof k.key === 'string' && keyIdOf(k.key) === k.keyid)
    const { dist } = plugin.manifest
    const signatures = (Array.isArray(dist.signatures) ? dist.signatures : [])
      .filter((s) => typeof s?.keyid === 'string' && typeof s.sig === 'string')
    if (signatures.length === 0) {
      throw new RegistryError('ERR_REGISTRY_SIGNATURE', `${plugin.name}@${plugin.version} on ${plugin.registry} has no signature (dist.signatures is empty): refused, a lock pins only signed versions`,
        { details: { name: plugin.name, version: plugin.version, reason: 'missing' } })
    }
    const signature = signatures.find((s) => keys.some((k) => k.keyid === s.keyid))
    if (!signature) {
      throw new RegistryError('ERR_REGISTRY_SIGNATURE',
        `${plugin.name}@${plugin.version} is signed with ${signatures.map((s) => s.keyid).join(', ')}, but ${plugin.registry}-/npm/v1/keys publishes ${keys.map((k) => k.keyid).join(', ') || 'no key'}: refused (unknown key)`,
        { details: { name: plugin.name, version: plugin.version, reason: 'unknown-key', keyids: signatures.map((s) => s.keyid) } })
    }
    const key = keys.find((k) => k.keyid === signature.keyid)!
    if (!verifyVersion(key.key, plugin.name, plugin.version, dist.integrity, signature.sig)) {
      throw new RegistryError('ERR_REGISTRY_SIGNATURE',
        `${plugin.name}@${plugin.version}'s signature by ${signature.keyid} does not verify over ${plugin.name}@${plugin.version}:${dist.integrity}: refused; the registry ${plugin.registry} serves metadata its key did not sign`,
        { details: { name: plugin.name, version: plugin.version, reason: 'bad-signature', keyid: signature.keyid } })
    }
    lock.keys[key.keyid] = { key: key.key, registry: source.id }
    lock.plugins[plugin.name] = {
      version: plugin.version, integrity: dist.integrity, keyid: signature.keyid, sig: signature.sig, registry: plugin.registry,
      engine: plugin.manifest.islet?.engine ?? '*',
      ...(plugin.manifest.islet?.plugins && Object.keys(plugin.manifest.islet.plugins).length > 0 ? { plugins: { ...plugin.manifest.islet.plugins } } : {}),
      ...standingOf(plugin.manifest),
    }
  }
  return lock
}

/** A version's deprecation (an empty message is npm's un-deprecate) and yank, as the lock records them. */
export function standingOf(manifest: { deprecated?: unknown; _yanked?: unknown }): Pick<LockedPlugin, 'deprecated' | 'yanked'> {
  return {
    ...(typeof manifest.deprecated === 'string' && manifest.deprecated !== '' ? { deprecated: manifest.deprecated } : {}),
    ...(typeof manifest._yanked === 'string' ? { yanked: manifest._yanked } : {}),
  }
}

export interface StandingChange {
  name: string
  version: string
  before: Pick<LockedPlugin, 'deprecated' | 'yanked'>
  after: Pick<LockedPlugin, 'deprecated' | 'yanked'>
}

/**
 * The lock with each plugin's deprecation and yank as its registry states them now (a version is deprecated or
 * yanked after it was locked): only those two fields change, never what is pinned. A plugin its registry does not
 * have (vendored only), or locked from a registry no longer configured, keeps what the lock says. Throws what a source
 * throws (a registry that cannot be reached).
 */
export async function refreshStanding(lock: Lockfile, sources: RegistryMap): Promise<{ lock: Lockfile; changes: StandingChange[] }> {
  const plugins: Record<string, LockedPlugin> = {}
  const changes: StandingChange[] = []
  for (const [name, entry] of Object.entries(lock.plugins)) {
    plugins[name] = entry
    const source = sourceById(sources, entry.registry)
    const versions: unknown = source ? (await source.packument(name))?.versions : undefined
    const manifest: unknown = isObject(versions) && Object.hasOwn(versions, entry.version) ? versions[entry.version] : undefined
    if (!isObject(manifest)) continue
    const before = standingOf({ deprecated: entry.deprecated, _yanked: entry.yanked })
    const after = standingOf(manifest)
    if (before.deprecated === after.deprecated && before.yanked === after.yanked) continue
    const { deprecated: _d, yanked: _y, ...pinned } = entry
    plugins[name] = { ...pinned, ...after }
    changes.push({ name, version: entry.version, before, after })
  }
  return { lock: { ...lock, plugins }, changes }
}

export interface AppPluginRequest {
  name: string
  range: string
}

export interface Drift {
  name: string
  kind: 'missing' | 'extra' | 'range' | 'registry'
  message: string
}

/**
 * How the lock differs from what the app asks for: a request with no locked version (missing), a locked plugin no
 * one needs any more (extra), a locked version outside a range on it (range: the app's or a locked plugin's), a
 * plugin locked from a registry other than the one its scope is now bound to (registry). Empty: the lock is current.
 */
export function lockDrift(lock: Lockfile, requests: readonly AppPluginRequest[], registries: RegistryMap<string>): Drift[] {
  const drift: Drift[] = []
  // Own entries only: `constructor` is a valid plugin name, and Object.prototype's must not pass for its lock entry.
  const locked = (name: string): LockedPlugin | undefined => (Object.hasOwn(lock.plugins, name) ? lock.plugins[name] : undefined)
  const needed = new Set<string>()
  const visit = (name: string) => {
    if (needed.has(name)) return
    needed.add(name)
    for (const dependency of Object.keys(locked(name)?.plugins ?? {})) visit(dependency)
  }
  for (const request of requests) {
    const entry = locked(request.name)
    if (!entry) {
      drift.push({ name: request.name, kind: 'missing', message: `${request.name} ${request.range} is in plugins: but not in islet.lock` })
      continue
    }
    visit(request.name)
    if (!satisfiesLocked(entry.version, request.range)) {
      drift.push({ name: request.name, kind: 'range', message: `${request.name} is locked at ${entry.version}, which plugins: no longer allows (${request.range})` })
    }
  }
  for (const [parent, entry] of Object.entries(lock.plugins)) {
    if (!needed.has(parent)) continue
    for (const [name, range] of Object.entries(entry.plugins ?? {})) {
      const dependency = locked(name)
      if (!dependency) drift.push({ name, kind: 'missing', message: `${parent}@${entry.version} needs ${name} ${range}, which is not in islet.lock` })
      else if (!satisfiesLocked(dependency.version, range)) {
        drift.push({ name, kind: 'range', message: `${name} is locked at ${dependency.version}, outside ${range} that ${parent}@${entry.version} needs` })
      }
    }
  }
  for (const [name, entry] of Object.entries(lock.plugins)) {
    if (!needed.has(name)) {
      drift.push({ name, kind: 'extra', message: `${name}@${entry.version} is in islet.lock but neither plugins: nor a locked plugin needs it` })
      continue
    }
    const registry = sourceFor(name, registries)
    if (registryId(registry) !== registryId(entry.registry)) {
      drift.push({ name, kind: 'registry', message: `${name} was locked from ${entry.registry}, but its registry is now ${registry}` })
    }
  }
  return drift.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : 1))
}

/** 'embedded', or the URL with its trailing slash (how source ids are spelled), so `http://x` and `http://x/` agree. */
function registryId(spec: string): string {
  return spec === 'embedded' || spec.endsWith('/') ? spec : `${spec}/`
}

/** A locked exact version satisfies its own pin even when yanked or a prerelease. */
function satisfiesLocked(version: string, range: string): boolean {
  return semver.valid(range) === version || semver.satisfies(version, range, { includePrerelease: true })
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted((value as Record<string, unknown>)[key])]))
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n')
  return { line: before.length, col: before[before.length - 1]!.length + 1 }
}

function invalid(file: string, at: { line: number; col: number }, what: string): RegistryError {
  return new RegistryError('ERR_REGISTRY_LOCK_INVALID',
    `${file}:${at.line}:${at.col}: islet.lock ${what}. Fix it by hand, or delete it and run \`islet plugin upgrade\` to write a fresh one`,
    { details: { file, line: at.line, col: at.col } })
}

interface ShapeProblem {
  path: (string | number)[]
  message: string
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function shapeProblem(lock: unknown): ShapeProblem | undefined {
  if (!isObject(lock)) return { path: [], message: 'must be a JSON object with lockfileVersion, keys and plugins' }
  if (lock.lockfileVersion !== LOCKFILE_VERSION) {
    return { path: ['lockfileVersion'], message: `has lockfileVersion ${JSON.stringify(lock.lockfileVersion)}; this Islet reads version ${LOCKFILE_VERSION}` }
  }
  if (!isObject(lock.keys)) return { path: ['keys'], message: 'needs "keys": an object of key id → { key, registry }' }
  for (const [keyid, entry] of Object.entries(lock.keys)) {
    if (!isObject(entry)) return { path: ['keys', keyid], message: `keys.${keyid} must be an object { key, registry }` }
    for (const field of ['key', 'registry'] as const) {
      if (typeof entry[field] !== 'string') return { path: ['keys', keyid, field], message: `keys["${keyid}"].${field} must be a string` }
    }
  }
  if (!isObject(lock.plugins)) return { path: ['plugins'], message: 'needs "plugins": an object of plugin name → locked version' }
  for (const [name, entry] of Object.entries(lock.plugins)) {
    const nameProblem = pluginNameProblem(name)
    if (nameProblem) return { path: ['plugins', name], message: `has a plugin named ${nameProblem}` }
    if (!isObject(entry)) return { path: ['plugins', name], message: `plugins["${name}"] must be an object` }
    for (const field of ['version', 'integrity', 'keyid', 'sig', 'registry', 'engine'] as const) {
      if (typeof entry[field] !== 'string') return { path: ['plugins', name, field], message: `plugins["${name}"].${field} must be a string` }
    }
    if (!isExactVersion(entry.version)) {
      return { path: ['plugins', name, 'version'], message: `plugins["${name}"].version ${JSON.stringify(entry.version)} is not an exact semver version` }
    }
    if (!isSha512Integrity(entry.integrity)) {
      return { path: ['plugins', name, 'integrity'], message: `plugins["${name}"].integrity must be a sha512-<base64> integrity` }
    }
    if (!Object.hasOwn(lock.keys, entry.keyid as string)) {
      return { path: ['plugins', name, 'keyid'], message: `plugins["${name}"].keyid ${entry.keyid} is not pinned under "keys"` }
    }
    for (const field of ['deprecated', 'yanked'] as const) {
      if (entry[field] !== undefined && typeof entry[field] !== 'string') return { path: ['plugins', name, field], message: `plugins["${name}"].${field} must be a string when present` }
    }
    if (entry.plugins !== undefined) {
      if (!isObject(entry.plugins) || Object.entries(entry.plugins).some(([n, r]) => typeof r !== 'string' || pluginNameProblem(n) !== undefined)) {
        return { path: ['plugins', name, 'plugins'], message: `plugins["${name}"].plugins must map plugin names to ranges` }
      }
    }
  }
  return undefined
}
