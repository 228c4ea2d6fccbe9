// Unpublishing: allowed only within 72 hours of a version's publish (after that, people depend on it: deprecate
// instead). The row stays, marked unpublished, so the name@version can never be published again with other bytes.
import semver from 'semver'
import { RegistryHttpError } from './http-error.ts'
import type { RegistryStore, VersionRow } from './store.ts'

export const UNPUBLISH_WINDOW_MS = 72 * 60 * 60 * 1000

/** Unpublishes `versions` of `name` (all live ones when undefined), in one transaction with their audit rows. */
export function unpublishVersions(store: RegistryStore, name: string, versions: readonly string[] | undefined, actor: string): string[] {
  const live = liveVersions(store, name)
  const chosen = versions === undefined ? live : versions.map((v) => {
    const row = live.find((r) => r.version === v)
    if (!row) throw new RegistryHttpError(404, 'ERR_REGISTRY_NOT_FOUND', `${name}@${v} is not published here`, `npm view ${name} versions lists what is`)
    return row
  })
  const now = store.now()
  const late = chosen.filter((row) => now.getTime() - Date.parse(row.published_at) > UNPUBLISH_WINDOW_MS)
  if (late.length > 0) {
    const list = late.map((row) => `${name}@${row.version} (published ${row.published_at}, unpublishable until ${new Date(Date.parse(row.published_at) + UNPUBLISH_WINDOW_MS).toISOString()})`)
    throw new RegistryHttpError(403, 'ERR_REGISTRY_UNPUBLISH_WINDOW', `cannot unpublish ${list.join(', ')}: versions can be unpublished only within 72 hours of their publish, because others may depend on them`,
      `deprecate instead: npm deprecate ${name}@${late[0]?.version} "<why, and what to use>" (or yank it: islet plugin yank)`)
  }
  const at = now.toISOString()
  store.transaction(() => {
    const mark = store.db.prepare('UPDATE versions SET unpublished_at = ? WHERE name = ? AND version = ?')
    for (const row of chosen) {
      mark.run(at, name, row.version)
      store.audit({ actor, action: 'unpublish', name, version: row.version, integrity: row.integrity })
    }
    retag(store, name, new Set(chosen.map((r) => r.version)))
    store.touch(name)
  })
  return chosen.map((r) => r.version)
}

export function liveVersions(store: RegistryStore, name: string): VersionRow[] {
  return store.versions(name).filter((v) => v.unpublished_at === null)
}

/** Dist-tags on removed versions go; `latest` moves to the highest remaining version, as npm's client expects. */
function retag(store: RegistryStore, name: string, removed: ReadonlySet<string>): void {
  const tags = store.distTags(name)
  const drop = store.db.prepare('DELETE FROM dist_tags WHERE name = ? AND tag = ?')
  for (const [tag, version] of Object.entries(tags)) if (removed.has(version)) drop.run(name, tag)
  if (tags.latest !== undefined && removed.has(tags.latest)) {
    const remaining = liveVersions(store, name).map((r) => r.version).filter((v) => !removed.has(v))
    const highest = semver.rsort(remaining.filter((v) => semver.prerelease(v) === null))[0] ?? semver.rsort(remaining)[0]
    if (highest) store.db.prepare('INSERT INTO dist_tags (name, tag, version) VALUES (?, ?, ?)').run(name, 'latest', highest)
  }
}
