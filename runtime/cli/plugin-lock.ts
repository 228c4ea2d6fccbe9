// islet.lock as the plugin commands change it (the client builds it from a resolution: registry/client/lock.ts):
// pruned to what the app's entries reach, and the line-per-plugin difference the commands show before writing.
import semver from 'semver'
import type { LockEntry, Lockfile, PackumentVersion, StandingChange } from './registry-parts.ts'

/** The lock without the plugins no app entry reaches any more (directly or through another plugin), nor their keys. */
export function pruneLock(lock: Lockfile, roots: Iterable<string>): Lockfile {
  const keep = new Set<string>()
  const visit = (name: string) => {
    if (keep.has(name) || !lock.plugins[name]) return
    keep.add(name)
    for (const dep of Object.keys(lock.plugins[name]!.plugins ?? {})) visit(dep)
  }
  for (const root of roots) visit(root)
  const plugins = Object.fromEntries(Object.entries(lock.plugins).filter(([n]) => keep.has(n)))
  const used = new Set(Object.values(plugins).map((e) => e.keyid))
  return { lockfileVersion: 1, keys: Object.fromEntries(Object.entries(lock.keys).filter(([id]) => used.has(id))), plugins }
}

export interface LockChange { name: string; kind: 'add' | 'remove' | 'change'; from?: string; to?: string; integrity?: string; keyid?: string }

/** The plugins the new lock adds, removes or changes, sorted by name. */
export function lockChanges(before: Lockfile | undefined, after: Lockfile): LockChange[] {
  const old = before?.plugins ?? {}
  const names = [...new Set([...Object.keys(old), ...Object.keys(after.plugins)])].sort()
  return names.flatMap((name): LockChange[] => {
    const a = old[name]
    const b = after.plugins[name]
    if (!a) return [{ name, kind: 'add', to: b!.version, integrity: b!.integrity, keyid: b!.keyid }]
    if (!b) return [{ name, kind: 'remove', from: a.version }]
    if (a.version === b.version && a.integrity === b.integrity && a.keyid === b.keyid) return []
    return [{ name, kind: 'change', from: a.version, to: b.version, integrity: b.integrity, keyid: b.keyid }]
  })
}

export function formatLockChange(c: LockChange): string {
  const detail = c.integrity ? `  ${c.integrity.slice(0, 19)}…  key ${c.keyid}` : ''
  if (c.kind === 'add') return `  + ${c.name}@${c.to}${detail}`
  if (c.kind === 'remove') return `  - ${c.name}@${c.from}`
  return `  ~ ${c.name} ${c.from} → ${c.to}${detail}`
}

/** One line per locked version whose deprecation or yank changed since it was locked (registry/client refreshStanding). */
export function formatStandingChange(c: StandingChange): string {
  const id = `${c.name}@${c.version}`
  const notes: string[] = []
  if (c.before.deprecated !== c.after.deprecated) notes.push(c.after.deprecated !== undefined ? `deprecated: ${c.after.deprecated}` : 'no longer deprecated')
  if (c.before.yanked !== c.after.yanked) notes.push(c.after.yanked !== undefined ? `yanked${c.after.yanked ? `: ${c.after.yanked}` : ''}` : 'no longer yanked')
  return `  ! ${id} ${notes.join('; ')} (recorded in the lock; the app warns about it at load)`
}

/** The versions a range may pick: not yanked, engine-compatible, no prerelease unless asked; highest first. */
export function eligibleVersions(versions: Record<string, PackumentVersion>, engineVersion: string, includePrerelease = false): PackumentVersion[] {
  return Object.values(versions)
    .filter((v) => v._yanked === undefined && (includePrerelease || semver.prerelease(v.version) === null))
    .filter((v) => v.islet?.engine !== undefined && semver.satisfies(engineVersion, v.islet.engine, { includePrerelease: true }))
    .sort((a, b) => semver.rcompare(a.version, b.version))
}

export type { LockEntry }
