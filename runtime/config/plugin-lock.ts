// islet.lock against the `plugins:` map. The lock decides what runs: an entry it pins within the entry's range, from
// the registry its scope is bound to, is used as pinned, never re-resolved. Drift is the registry client's one
// definition (lockDrift): an entry the lock does not pin, a version outside a range on it (the app's or a locked
// plugin's), a plugin locked from another registry than its scope is now bound to, and a locked plugin nothing needs
// any more. Under `--frozen-lockfile` each is an error where it is (the `plugins:` entry it concerns, or the lock's
// own entry for one nothing asks for), with the command that fixes it. Without it, the drifting names (only those)
// are resolved again and unneeded ones pruned, each with a warning line, and the lock is written.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { messageOf } from '../errors.ts'
import {
  lockDrift, lockPosition, readLock, registryIds, resolvePlugins, writeLock, LOCK_FILE, type Drift, type Lockfile, type MaterializeContext,
} from '../plugins/locked-plugins.ts'
import { codeOfThrown, type Diagnostic, type DiagnosticCode } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt } from './locate.ts'
import type { PluginRequest } from './plugin-requests.ts'

/** The lock to load from (written first when drift was resolved), or undefined after an error in `diagnostics`. */
export async function reconcileLock(requests: ReadonlyMap<string, PluginRequest>, root: LoadedFile, context: MaterializeContext,
  frozen: boolean, diagnostics: Diagnostic[]): Promise<Lockfile | undefined> {
  const lockFile = join(context.appDir, LOCK_FILE)
  const atEntry = (request: PluginRequest | undefined, severity: Diagnostic['severity'], code: DiagnosticCode, message: string, hint?: string) =>
    void diagnostics.push({ ...diagnosticAt(request?.file.parsed ?? root.parsed, request?.at ?? ['plugins'], code, message, hint), severity })
  let lock: Lockfile
  try {
    lock = readLock(context.appDir) ?? { lockfileVersion: 1, keys: {}, plugins: {} }
  } catch (error) {
    atEntry(undefined, 'error', codeOfThrown(error, 'ERR_PLUGIN_LOCK_DRIFT'), messageOf(error), hintOf(error))
    return undefined
  }
  const drift = lockDrift(lock, [...requests.values()].map((r) => ({ name: r.name, range: r.range })), registryIds(context.sources))
  if (drift.length === 0) return lock
  // A lock entry nothing asks for has no `plugins:` entry: it is reported at its own line in islet.lock.
  let lockText: string | undefined
  const atLockEntry = (name: string, severity: Diagnostic['severity'], message: string, hint: string) => {
    lockText ??= readFileSync(lockFile, 'utf8')
    diagnostics.push({ file: lockFile, ...lockPosition(lockText, ['plugins', name], { key: true }), severity, code: 'ERR_PLUGIN_LOCK_DRIFT',
      path: `plugins.${name}`, message, hint })
  }
  const askerOf = (name: string) => requests.get(name) ?? reachingEntry(name, requests, lock)

  if (frozen) {
    for (const d of drift) {
      const message = `${d.message}, and the lockfile is frozen (--frozen-lockfile)`
      if (d.kind === 'extra') {
        atLockEntry(d.name, 'error', message, `delete its entry from ${LOCK_FILE} (islet run or islet validate without --frozen-lockfile prunes it) and commit ${LOCK_FILE}`)
        continue
      }
      const asker = askerOf(d.name)
      atEntry(asker, 'error', 'ERR_PLUGIN_LOCK_DRIFT', message,
        `run islet plugin upgrade ${asker?.name ?? d.name}${asker && asker.name !== d.name ? ` (it re-resolves what ${asker.name} needs)` : ''} and commit ${LOCK_FILE}`)
    }
    return undefined
  }

  // What the lock pins and did not drift stays exactly as pinned: only the drifting names may move.
  const moving = new Set(drift.filter((d) => d.kind !== 'extra').map((d) => d.name))
  const extra = new Set(drift.filter((d) => d.kind === 'extra').map((d) => d.name))
  const kept = Object.fromEntries(Object.entries(lock.plugins).filter(([name]) => !moving.has(name) && !extra.has(name)))
  const plugins = { ...kept }
  const keys = { ...lock.keys }
  if (moving.size > 0) {
    const ranges = [...requests.values()].map((r) => ({ name: r.name, from: 'app', range: moving.has(r.name) ? r.range : lock.plugins[r.name]!.version }))
    let resolved: Awaited<ReturnType<typeof resolvePlugins>>
    try {
      resolved = await resolvePlugins(ranges, context, kept)
    } catch (error) {
      // A conflict or a missing version is reported at the app's entry its chain starts from (else the first drift's).
      const first = drift.find((d) => d.kind !== 'extra')!
      const request = entryOf(error, requests) ?? askerOf(first.name)
      const why = drift.find((d) => d.name === request?.name && d.kind !== 'extra') ?? first
      atEntry(request, 'error', codeOfThrown(error, 'ERR_PLUGIN_NOT_FOUND'), `${why.message}, and it cannot be resolved: ${messageOf(error)}`, hintOf(error))
      return undefined
    }
    Object.assign(plugins, resolved.lock.plugins)
    Object.assign(keys, resolved.lock.keys)
    for (const d of drift) {
      const chosen = plugins[d.name]
      if (d.kind === 'extra' || !chosen) continue
      const how = d.kind === 'registry' ? `re-resolved from ${chosen.registry} to` : 'resolved to'
      atEntry(askerOf(d.name), 'warning', 'ERR_PLUGIN_LOCK_DRIFT', `${d.message}: ${how} ${d.name}@${chosen.version} and written to ${LOCK_FILE}`,
        `commit ${LOCK_FILE}; under --frozen-lockfile this is an error`)
    }
  }
  // Keep what the app's entries reach: the extras, and any a moved version no longer needs, leave the lock, said at
  // their line in the lock as it was.
  const reached = lockedClosure(requests, { ...lock, plugins })
  for (const [name, entry] of Object.entries(lock.plugins)) {
    if (reached.includes(name)) continue
    delete plugins[name]
    const why = drift.find((d) => d.name === name && d.kind === 'extra')?.message ?? `${name}@${entry.version} is no longer needed by the plugins locked now`
    atLockEntry(name, 'warning', `${why}: removed from ${LOCK_FILE}`, `commit ${LOCK_FILE}; under --frozen-lockfile this is an error`)
  }
  // Keep the keys some locked plugin is signed with.
  const used = new Set(Object.values(plugins).map((p) => p.keyid))
  lock = { ...lock, keys: Object.fromEntries(Object.entries(keys).filter(([id]) => used.has(id))), plugins }
  writeLock(context.appDir, lock)
  return lock
}

/** The locked plugins the app's entries reach through their `plugins` dependencies, in load order. */
export function lockedClosure(requests: ReadonlyMap<string, PluginRequest>, lock: Lockfile): string[] {
  const names: string[] = []
  const queue = [...requests.keys()]
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const entry = Object.hasOwn(lock.plugins, name) ? lock.plugins[name] : undefined
    if (!entry || names.includes(name)) continue
    names.push(name)
    queue.push(...Object.keys(entry.plugins ?? {}))
  }
  return names
}

/** The app entry whose locked plugins lead to `name` (a dependency of a dependency): where its drift is reported. */
export function reachingEntry(name: string, requests: ReadonlyMap<string, PluginRequest>, lock: Lockfile): PluginRequest | undefined {
  for (const request of requests.values()) {
    const seen = new Set<string>()
    const queue = [request.name]
    for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
      if (seen.has(at)) continue
      seen.add(at)
      const needs = Object.keys((Object.hasOwn(lock.plugins, at) ? lock.plugins[at] : undefined)?.plugins ?? {})
      if (needs.includes(name)) return request
      queue.push(...needs)
    }
  }
  return undefined
}

export function hintOf(error: unknown): string | undefined {
  const details = typeof error === 'object' && error !== null ? (error as { details?: { hint?: unknown } }).details : undefined
  return typeof details?.hint === 'string' ? details.hint : undefined
}

/** The app entry a resolution error's chains start from (`app → @a/y@2.0.0 → …` → @a/y), or the name it is about. */
function entryOf(error: unknown, requests: ReadonlyMap<string, PluginRequest>): PluginRequest | undefined {
  const details = typeof error === 'object' && error !== null ? (error as { details?: Record<string, unknown> }).details : undefined
  const chains = Array.isArray(details?.chains) ? details.chains.filter((c): c is string => typeof c === 'string') : []
  for (const chain of chains) {
    const asked = chain.split(' → ')[1]?.split(' ')[0] // `@a/y@2.0.0` (a chosen plugin) or `@a/x` (a range on it)
    const name = asked && asked.lastIndexOf('@') > 0 ? asked.slice(0, asked.lastIndexOf('@')) : asked
    const request = name === undefined ? undefined : requests.get(name)
    if (request) return request
  }
  const from = typeof details?.from === 'string' && details.from !== 'app' ? details.from.slice(0, details.from.lastIndexOf('@')) : undefined
  const name = typeof details?.name === 'string' ? details.name : undefined
  return (from ? requests.get(from) : undefined) ?? (name ? requests.get(name) : undefined)
}

export type { Drift }
