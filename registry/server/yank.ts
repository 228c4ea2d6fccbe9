// Yank and deprecate: a yanked version is never chosen by a range (still installable when pinned or locked); a
// deprecated one is chosen but warns. Both are flags on the version row, audited in the same transaction.
import { RegistryHttpError } from './http-error.ts'
import type { RegistryStore, VersionRow } from './store.ts'

function live(store: RegistryStore, name: string, version: string): VersionRow {
  const row = store.version(name, version)
  if (!row || row.unpublished_at !== null) {
    throw new RegistryHttpError(404, 'ERR_REGISTRY_NOT_FOUND', `${name}@${version} is not published here${row ? ' (it was unpublished)' : ''}`, `npm view ${name} versions lists what is`)
  }
  return row
}

/** Yanks (reason given) or unyanks (null) a version. */
export function setYanked(store: RegistryStore, name: string, version: string, reason: string | null, actor: string): void {
  const row = live(store, name, version)
  store.transaction(() => {
    store.db.prepare('UPDATE versions SET yanked = ? WHERE name = ? AND version = ?').run(reason, name, version)
    store.touch(name)
    store.audit({ actor, action: reason === null ? 'unyank' : 'yank', name, version, integrity: row.integrity, detail: reason === null ? undefined : { reason } })
  })
}

/** Sets each version's deprecation message (null or '' clears it); versions whose message is unchanged are left alone. */
export function setDeprecations(store: RegistryStore, name: string, messages: ReadonlyMap<string, string | null>, actor: string): number {
  let changed = 0
  store.transaction(() => {
    const update = store.db.prepare('UPDATE versions SET deprecated = ? WHERE name = ? AND version = ?')
    for (const [version, message] of messages) {
      const row = live(store, name, version)
      const next = message === '' ? null : message
      if (row.deprecated === next) continue
      update.run(next, name, version)
      store.audit({ actor, action: next === null ? 'undeprecate' : 'deprecate', name, version, integrity: row.integrity, detail: next === null ? undefined : { message: next } })
      changed += 1
    }
    if (changed > 0) store.touch(name)
  })
  return changed
}
