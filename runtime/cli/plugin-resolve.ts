// Resolution as the plugin commands use it: the app's ranges, with the versions already locked kept exactly as
// pinned where they still fit (so adding one plugin does not quietly move the others, and a vendored plugin that no
// registry has does not stop the others from resolving); a locked plugin that drifted (out of range, or its scope now
// bound to another registry) is resolved again. Only when the kept ones cannot all stay does it resolve the ranges
// afresh, and the lock difference the command prints shows what moved.
import { join } from 'node:path'
import { ENGINE_VERSION } from '../version.ts'
import { didYouMean } from '../suggest.ts'
import { IsletError, codeOf } from '../errors.ts'
import { pruneLock } from './plugin-lock.ts'
import { lockDrift, resolvePlugins, searchNames, type Lockfile, type PackumentVersion, type ResolveRequest, type Sources } from './registry-parts.ts'

export async function resolveApp(ranges: ReadonlyMap<string, string>, options: { sources: Sources; locked?: Lockfile; keep?: (name: string) => boolean }): Promise<{ resolved: Map<string, PackumentVersion>; lock: Lockfile; warnings: string[] }> {
  const requests: ResolveRequest[] = [...ranges].map(([name, range]) => ({ name, range, from: 'app' }))
  const { locked } = options
  const drifted = new Set(locked ? lockDrift(locked, ranges, options.sources).map((d) => d.name) : [])
  const kept: Lockfile | undefined = locked && { ...locked,
    plugins: Object.fromEntries(Object.entries(locked.plugins).filter(([name]) => (options.keep?.(name) ?? true) && !drifted.has(name))) }
  let result: Awaited<ReturnType<typeof resolvePlugins>> | undefined
  if (kept && Object.keys(kept.plugins).length > 0) {
    try {
      result = await resolvePlugins(requests, { sources: options.sources, engineVersion: ENGINE_VERSION, kept })
    } catch (error) {
      if (codeOf(error, '') !== 'ERR_REGISTRY_RESOLVE_CONFLICT' && codeOf(error, '') !== 'ERR_REGISTRY_NO_MATCHING_VERSION') throw error
    }
  }
  result ??= await resolvePlugins(requests, { sources: options.sources, engineVersion: ENGINE_VERSION })
  // A kept plugin can be one nothing needs any more: the lock keeps what the app's entries reach.
  const lock = pruneLock(result.lock, ranges.keys())
  const resolved = new Map([...result.resolved].filter(([name]) => lock.plugins[name] !== undefined))
  return { resolved, lock, warnings: result.warnings }
}

/** The packument of a plugin the user named, or ERR_PLUGIN_UNKNOWN with the closest names the registry's search finds. */
export async function packumentOrSuggest(sources: Sources, name: string) {
  const packument = await sources.sourceFor(name).packument(name)
  if (packument) return packument
  const found = await searchNames(sources, name).catch(() => [] as string[])
  const hint = didYouMean(name, found)
  const where = sources.registryFor(name) === 'embedded' ? `the embedded registry (${join(sources.dataDir, 'registry')})` : sources.registryFor(name)
  throw new IsletError('ERR_PLUGIN_UNKNOWN', `no plugin '${name}' in ${where}${hint ? ` (${hint})` : found.length ? `; the registry's search finds ${found.slice(0, 5).join(', ')}` : ''}; check the name, or the registries: entry for its scope`)
}
