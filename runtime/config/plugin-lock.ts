// islet.lock against the `plugins:` map. The lock decides what runs: an entry it pins within the entry's range is
// used as pinned, never re-resolved. Drift (an entry it does not pin, or pins outside the range; a plugin's own
// dependency left unpinned) is resolved for those names only, with a warning, and written to the lock; under
// `--frozen-lockfile` it is an error at each entry concerned, with the command that fixes it.
import satisfies from 'semver/functions/satisfies.js'
import { messageOf } from '../errors.ts'
import { readLock, resolvePlugins, writeLock, LOCK_FILE, type Lockfile, type MaterializeContext } from '../plugins/locked-plugins.ts'
import { codeOfThrown, type Diagnostic } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt } from './locate.ts'
import type { PluginRequest } from './plugin-requests.ts'

interface Drift {
  name: string
  why: string
  request?: PluginRequest
}

/** The lock to load from (written first when drift was resolved), or undefined after an error in `diagnostics`. */
export async function reconcileLock(requests: ReadonlyMap<string, PluginRequest>, root: LoadedFile, context: MaterializeContext,
  frozen: boolean, diagnostics: Diagnostic[]): Promise<Lockfile | undefined> {
  const report = (d: Pick<Drift, 'request'>, message: string, hint: string | undefined, severity: Diagnostic['severity'] = 'error', code: Diagnostic['code'] = 'ERR_PLUGIN_LOCK_DRIFT') =>
    void diagnostics.push({ ...diagnosticAt(d.request?.file.parsed ?? root.parsed, d.request?.at ?? ['plugins'], code, message, hint), severity })
  let lock: Lockfile
  try {
    lock = readLock(context.appDir) ?? { lockfileVersion: 1, keys: {}, plugins: {} }
  } catch (error) {
    report({}, messageOf(error), hintOf(error), 'error', codeOfThrown(error, 'ERR_PLUGIN_LOCK_DRIFT'))
    return undefined
  }
  const drift = driftOf(requests, lock)
  if (drift.length === 0) return lock
  if (frozen) {
    const fix = `run islet plugin add ${drift.map((d) => d.name).join(' ')} (or islet plugin upgrade) and commit ${LOCK_FILE}`
    for (const d of drift) report(d, `${d.why}, and the lockfile is frozen (--frozen-lockfile)`, fix)
    return undefined
  }
  // What the lock pins within range stays exactly as pinned: only the drifting names may move.
  const drifting = new Set(drift.map((d) => d.name))
  const ranges = [...requests.values()].map((r) => ({ name: r.name, from: 'app',
    range: drifting.has(r.name) ? r.range : lock.plugins[r.name]!.version }))
  let resolved: Awaited<ReturnType<typeof resolvePlugins>>
  try {
    resolved = await resolvePlugins(ranges, context, Object.fromEntries(Object.entries(lock.plugins).filter(([name]) => !drifting.has(name))))
  } catch (error) {
    // A conflict or a missing version is reported at the app's entry its chain starts from (else the first drift).
    const request = entryOf(error, requests)
    const at = drift.find((d) => d.name === request?.name) ?? (request ? { name: request.name, why: drift[0]!.why, request } : drift[0]!)
    report(at, `${at.why}, and it cannot be resolved: ${messageOf(error)}`, hintOf(error), 'error', codeOfThrown(error, 'ERR_PLUGIN_NOT_FOUND'))
    return undefined
  }
  const plugins = { ...lock.plugins }
  for (const [name, entry] of Object.entries(resolved.lock.plugins)) if (drifting.has(name) || !plugins[name]) plugins[name] = entry
  for (const d of drift) {
    const chosen = plugins[d.name]
    if (chosen) report(d, `${d.why}: resolved to ${d.name}@${chosen.version} and written to ${LOCK_FILE}`, `commit ${LOCK_FILE}; under --frozen-lockfile this is an error`, 'warning')
  }
  for (const warning of resolved.warnings) report(drift[0]!, warning, undefined, 'warning')
  // Keep the keys some locked plugin is signed with: the ones already pinned and those the resolution brought.
  const used = new Set(Object.values(plugins).map((p) => p.keyid))
  const keys = Object.fromEntries(Object.entries({ ...lock.keys, ...resolved.lock.keys }).filter(([id]) => used.has(id)))
  lock = { ...lock, keys, plugins }
  writeLock(context.appDir, lock)
  return lock
}

/** The locked plugins the app's entries reach through their `plugins` dependencies, in load order. */
export function lockedClosure(requests: ReadonlyMap<string, PluginRequest>, lock: Lockfile): { names: string[]; missing: Map<string, string> } {
  const names: string[] = []
  const missing = new Map<string, string>()
  const queue = [...requests.keys()]
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const entry = lock.plugins[name]
    if (!entry || names.includes(name)) continue
    names.push(name)
    for (const [dep, range] of Object.entries(entry.plugins ?? {})) {
      const pinned = lock.plugins[dep]
      if (!pinned || !satisfies(pinned.version, range, { includePrerelease: true })) missing.set(dep, `${name}@${entry.version} (${range})`)
      else queue.push(dep)
    }
  }
  return { names, missing }
}

function driftOf(requests: ReadonlyMap<string, PluginRequest>, lock: Lockfile): Drift[] {
  const drift: Drift[] = []
  for (const request of requests.values()) {
    const locked = lock.plugins[request.name]
    if (!locked) drift.push({ name: request.name, why: `${request.name} ${request.range} is not in ${LOCK_FILE}`, request })
    else if (!satisfies(locked.version, request.range, { includePrerelease: true })) {
      drift.push({ name: request.name, why: `${LOCK_FILE} pins ${request.name}@${locked.version}, outside ${request.range}`, request })
    }
  }
  for (const [name, needs] of lockedClosure(requests, lock).missing) {
    drift.push({ name, why: `${needs} needs ${name}, which ${LOCK_FILE} does not pin within that range` })
  }
  return drift
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
