// The runtime's one door to the registry client (registry/client/): the lock, resolution, and `materialize`, which
// turns a locked plugin into a verified, extracted folder. Until the client lands this file stands in for it with
// the same signatures over the same on-disk layout (`<dataDir>/plugins/packages/<name>@<version>-<16 hex>/`, as the
// client extracts to): materialize reads a folder already extracted there, resolution picks among those folders, and
// the lock is read and written in the client's format. At the merge, the functions marked SWAP call the client's.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import maxSatisfying from 'semver/ranges/max-satisfying.js'
import satisfies from 'semver/functions/satisfies.js'
import { integrityFileName } from '../../registry/integrity.ts'
import type { PluginPackageJson } from '../../registry/manifest.ts'
import { IsletError } from '../errors.ts'

/** Where a plugin is fetched from (registry/client's RegistrySource). */
export type RegistrySource = { kind: 'http'; url: string; token?: string } | { kind: 'embedded'; dir: string }

/** The `registries:` section resolved: `default` and one source per bound scope. */
export interface RegistrySources {
  default: RegistrySource
  scopes: Record<string, RegistrySource>
  /** Per plugin, from its entry's `registry:` (wins over its scope's). */
  names?: Record<string, RegistrySource>
}

/** One plugin as islet.lock pins it (design11 "Lock"). */
export interface LockEntry {
  version: string
  integrity: string
  keyid?: string
  sig?: string
  registry: string
  engine?: string
  plugins?: Record<string, string>
}

export interface Lockfile {
  lockfileVersion: 1
  keys: Record<string, { key: string; registry: string }>
  plugins: Record<string, LockEntry>
}

export interface MaterializeContext {
  dataDir: string
  appDir: string
  sources: RegistrySources
  engineVersion: string
}

export interface Materialized {
  /** The extracted package folder (absolute); its files are what the runtime compiles, imports and reads. */
  dir: string
  packageJson: PluginPackageJson
}

export interface ResolveRequest {
  name: string
  range: string
  /** 'app' or 'name@version'. */
  from: string
}

export const LOCK_FILE = 'islet.lock'

/** The name `registries:` would fetch `name` from, as the lock records it ('embedded' or the URL). */
export function registryOf(name: string, sources: RegistrySources): string {
  const scope = name.startsWith('@') ? name.split('/')[0]! : ''
  const source = sources.names?.[name] ?? sources.scopes[scope] ?? sources.default
  return source.kind === 'embedded' ? 'embedded' : source.url
}

/** The app's lock, or undefined when there is none. A lock that does not parse is an error, not an empty lock. */
export function readLock(appDir: string): Lockfile | undefined {
  const file = join(appDir, LOCK_FILE)
  if (!existsSync(file)) return undefined
  let parsed: Partial<Lockfile>
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Lockfile>
  } catch (error) {
    throw new IsletError('ERR_PLUGIN_LOCK_DRIFT', `${file} is not valid JSON (${(error as Error).message})`,
      { details: { hint: 'restore it from version control, or delete it and run islet plugin add to write it again' } })
  }
  return { lockfileVersion: 1, keys: parsed.keys ?? {}, plugins: parsed.plugins ?? {} }
}

/** SWAP (registry/client writeLock): sorted keys, written to a temp file and renamed, so a reader never sees half. */
export function writeLock(appDir: string, lock: Lockfile): void {
  const file = join(appDir, LOCK_FILE)
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, `${JSON.stringify(sorted(lock), null, 2)}\n`)
  renameSync(temp, file)
}

/**
 * SWAP (registry/client resolvePlugins): the highest version of each requested name satisfying every range on it
 * whose engine range admits the engine, following `islet.plugins`. Stand-in: picks among the folders extracted
 * under the data dir (what the embedded registry would have served).
 */
export async function resolvePlugins(requests: readonly ResolveRequest[], context: MaterializeContext): Promise<Record<string, LockEntry>> {
  const chosen: Record<string, LockEntry> = {}
  const queue = [...requests]
  const ranges = new Map<string, ResolveRequest[]>()
  for (let next = queue.shift(); next; next = queue.shift()) {
    ranges.set(next.name, [...(ranges.get(next.name) ?? []), next])
    const candidates = extracted(context.dataDir, next.name)
      .filter((c) => satisfies(context.engineVersion, c.packageJson.islet?.engine ?? '<0.0.0', { includePrerelease: true }))
    const wanted = ranges.get(next.name)!
    const version = maxSatisfying(candidates.map((c) => c.version).filter((v) => wanted.every((r) => satisfies(v, r.range))), '*')
    if (!version) {
      throw new IsletError('ERR_PLUGIN_NOT_FOUND', `no version of ${next.name} satisfies ${wanted.map((r) => `${r.range} (${r.from})`).join(' and ')} for islet ${context.engineVersion}` +
        ` (available: ${candidates.map((c) => c.version).join(', ') || 'none'})`, { details: { hint: 'publish a matching version, or change the range' } })
    }
    if (chosen[next.name]?.version === version) continue
    const pick = candidates.find((c) => c.version === version)!
    const deps = pick.packageJson.islet.plugins ?? {}
    chosen[next.name] = { version, integrity: pick.integrity, registry: registryOf(next.name, context.sources),
      engine: pick.packageJson.islet.engine, ...(Object.keys(deps).length ? { plugins: { ...deps } } : {}) }
    for (const [name, range] of Object.entries(deps)) queue.push({ name, range, from: `${next.name}@${version}` })
  }
  return chosen
}

/**
 * SWAP (registry/client materialize): the verified, extracted folder of a locked plugin. The client fetches (vendor
 * folder, cache, registry), verifies integrity and signature against the key the lock pins, extracts safely and
 * checks the folder against the tarball. Stand-in: the folder it would extract to, which must already be there.
 */
export async function materialize(name: string, entry: LockEntry, context: MaterializeContext): Promise<Materialized> {
  const dir = packageFolder(context.dataDir, name, entry)
  const file = join(dir, 'package.json')
  if (!existsSync(file)) {
    throw new IsletError('ERR_PLUGIN_NOT_FOUND', `${name}@${entry.version} is locked but not available (no ${dir})`,
      { details: { hint: `fetch it again: islet plugin add ${name}@${entry.version}` } })
  }
  return { dir, packageJson: JSON.parse(readFileSync(file, 'utf8')) as PluginPackageJson }
}

/** `<dataDir>/plugins/packages/<name>@<version>-<first 16 hex of the integrity>`: one folder per exact bytes. */
export function packageFolder(dataDir: string, name: string, entry: Pick<LockEntry, 'version' | 'integrity'>): string {
  const hex = integrityFileName(entry.integrity).slice('sha512-'.length, 'sha512-'.length + 16)
  return join(dataDir, 'plugins', 'packages', `${name}@${entry.version}-${hex}`)
}

/** The extracted folders of `name` in the data dir, with the integrity their folder name stands for. */
function extracted(dataDir: string, name: string): { version: string; integrity: string; packageJson: PluginPackageJson }[] {
  const scopeDir = join(dataDir, 'plugins', 'packages', ...(name.startsWith('@') ? [name.split('/')[0]!] : []))
  const base = name.startsWith('@') ? name.split('/')[1]! : name
  if (!existsSync(scopeDir)) return []
  return readdirSync(scopeDir).flatMap((folder) => {
    const match = /^(.+)@([^@]+)-([0-9a-f]{16})$/.exec(folder)
    if (!match || match[1] !== base) return []
    const file = join(scopeDir, folder, 'package.json')
    if (!existsSync(file)) return []
    const packageJson = JSON.parse(readFileSync(file, 'utf8')) as PluginPackageJson & { _integrity?: string }
    // The stand-in keeps the full integrity in the package.json it extracted (`_integrity`), as npm does.
    const integrity = packageJson._integrity ?? `sha512-${Buffer.from(match[3]!, 'hex').toString('base64')}`
    return [{ version: match[2]!, integrity, packageJson }]
  })
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, sorted(v)]))
}
