// Resolution: from the app's ranges (and, transitively, each chosen plugin's `islet.plugins`) to one version per
// plugin. Versions the engine cannot run, yanked ones and prereleases are dropped first (a pin to an exact version
// still gets a yanked or prerelease one: "installable when pinned or locked"); then each name gets the highest version
// satisfying every range on it. No backtracking, as npm: a conflict is reported with who required what.
import semver from 'semver'
import { RegistryError } from '../errors.ts'
import { isExactVersion, isSha512Integrity, pluginNameProblem } from './identifiers.ts'
import { sourceFor, type Packument, type PackumentVersion, type RegistryMap } from './source.ts'

export interface PluginRequest {
  name: string
  range: string
  /** 'app', or the `name@version` of the plugin asking. */
  from: string
}

export interface ResolveOptions {
  sources: RegistryMap
  /** The running engine's version, checked against each version's `islet.engine`. */
  engineVersion: string
  /** Let ranges choose prereleases (an exact pin always may). */
  includePrerelease?: boolean
}

export interface ResolvedPlugin {
  name: string
  version: string
  /** The registry it came from (the source's id: URL or 'embedded'). */
  registry: string
  /** The packument's entry for the version: dist (integrity, signatures, tarball), islet, deprecated. */
  manifest: PackumentVersion
  /** Who asked for it, as chains: `app → @a/y@2.0.0 → @a/x ^2`. */
  requiredBy: string[]
}

export interface Resolution {
  /** Sorted by name. */
  plugins: ResolvedPlugin[]
  /** Deprecated versions chosen, one line each. */
  warnings: string[]
}

interface Constraint extends PluginRequest {}

interface Dropped {
  version: string
  why: string
}

/** Resolve the app's requests (from: 'app') and everything they need. */
export async function resolvePlugins(requests: readonly PluginRequest[], options: ResolveOptions): Promise<Resolution> {
  for (const request of requests) {
    const nameProblem = pluginNameProblem(request.name)
    if (nameProblem) {
      throw new RegistryError('ERR_REGISTRY_NOT_FOUND', `${request.from} asks for a plugin whose name ${nameProblem}`,
        { details: { name: request.name, from: request.from } })
    }
    if (semver.validRange(request.range) === null) {
      throw new RegistryError('ERR_REGISTRY_NO_MATCHING_VERSION',
        `${request.from} asks for ${request.name} ${JSON.stringify(request.range)}, which is not a semver range (e.g. ^1.2.0)`,
        { details: { name: request.name, range: request.range, from: request.from } })
    }
  }
  const constraints = new Map<string, Constraint[]>()
  // Names whose live ranges may have changed since they were last picked: the others would get the same pick again.
  const dirty = new Set<string>()
  const add = (c: Constraint) => {
    const list = constraints.get(c.name) ?? []
    if (!list.some((known) => known.from === c.from && known.range === c.range)) list.push(c)
    constraints.set(c.name, list)
    dirty.add(c.name)
  }
  /** A pick that changes turns the ranges of its old version off and those of its new one on. */
  const touch = (manifest: PackumentVersion | undefined) => {
    for (const dependency of Object.keys(manifest?.islet?.plugins ?? {})) dirty.add(dependency)
  }
  for (const request of requests) add(request)

  const packuments = new Map<string, { packument: Packument; registry: string }>()
  const load = async (name: string) => {
    const known = packuments.get(name)
    if (known) return known
    const source = sourceFor(name, options.sources)
    const packument = await source.packument(name)
    if (!packument) {
      throw new RegistryError('ERR_REGISTRY_NOT_FOUND',
        `${name} is not on the registry ${source.id} (${chainsOf(name, constraints, new Map()).join('; ')}); check the name, and the registries: entry its scope uses`,
        { details: { name, registry: source.id } })
    }
    const loaded = { packument, registry: source.id }
    packuments.set(name, loaded)
    return loaded
  }

  const chosen = new Map<string, PackumentVersion>()
  const active = (c: Constraint) => c.from === 'app' || chosen.get(nameOf(c.from))?.version === versionOf(c.from)
  // Each round re-picks every name whose live constraints changed; a change re-adds the new version's needs. Ranges only
  // accumulate, so once they stop growing a round depends on the picks alone: picks seen before with as many ranges
  // mean the rounds go round a cycle (a@2 wants b@1, which wants a@1, which wants b@2, which wants a@2) for ever.
  const states = new Set<string>()
  let lastRanges = -1
  const memos = new Map<string, NameMemo>()
  const engines = new Map<string, string | undefined>()
  for (let round = 0; ; round++) {
    const moved: string[] = []
    let changed = false
    for (const name of [...constraints.keys()].sort()) {
      if (!dirty.delete(name)) continue
      const live = constraints.get(name)!.filter(active)
      if (live.length === 0) {
        touch(chosen.get(name))
        if (chosen.delete(name)) changed = true
        continue
      }
      const { packument } = await load(name)
      let memo = memos.get(name)
      if (!memo) {
        memo = { candidates: Object.entries(packument.versions).map(([version, manifest]) => candidateOf(version, manifest, options, engines)), picks: new Map() }
        memos.set(name, memo)
      }
      const pick = choose(name, memo, live, constraints, chosen, options)
      if (chosen.get(name)?.version === pick.version) continue
      touch(chosen.get(name))
      touch(pick)
      chosen.set(name, pick)
      changed = true
      moved.push(name)
      for (const [dependency, range] of Object.entries(pick.islet?.plugins ?? {})) {
        add({ name: dependency, range, from: `${name}@${pick.version}` })
      }
    }
    if (!changed) break
    let ranges = 0
    for (const list of constraints.values()) ranges += list.length
    // While ranges still grow no state can repeat: only rounds that added none need remembering (a deep chain adds
    // ranges every round, and writing its picks down each time would cost the square of its depth).
    const state = ranges === lastRanges ? `${[...chosen].map(([name, m]) => `${name}@${m.version}`).sort().join(' ')}|${[...dirty].sort().join(' ')}` : undefined
    if (state === undefined) states.clear()
    lastRanges = ranges
    if ((state !== undefined && states.has(state)) || round >= 10_000) {
      const chains = moved.flatMap((name) => chainsOf(name, constraints, chosen))
      throw new RegistryError('ERR_REGISTRY_RESOLVE_CONFLICT',
        `the ranges on ${moved.join(', ')} chase each other round a cycle: every version chosen for one asks for a version of another ` +
        `that asks for something else (${chains.join('; ')}). Change one of these ranges so that the versions agree.`,
        { details: { names: moved, chains } })
    }
    if (state !== undefined) states.add(state)
  }

  const plugins = [...chosen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, manifest]) => ({
    name, version: manifest.version, registry: packuments.get(name)!.registry, manifest,
    requiredBy: chainsOf(name, constraints, chosen),
  }))
  const warnings = plugins.filter((p) => typeof p.manifest.deprecated === 'string')
    .map((p) => `${p.name}@${p.version} is deprecated: ${p.manifest.deprecated} (required by ${p.requiredBy.join('; ')})`)
  return { plugins, warnings }
}

/** A packument entry, parsed once per resolution; `why` is set when it can never be chosen, whatever the ranges. */
interface Candidate {
  version: string
  manifest: PackumentVersion
  parsed?: semver.SemVer
  why?: string
}

/**
 * Per name, for one resolution: its candidates, and the pick for each set of ranges seen. A pick depends only on the
 * ranges (not on who asked), and rounds re-ask the same question many times: with thousands of versions and a deep
 * chain of plugins, recomputing it each round is what makes resolution slow, not the answer.
 */
interface NameMemo {
  candidates: Candidate[]
  picks: Map<string, PackumentVersion>
}

/** The highest eligible version satisfying every live range, or the error saying why there is none. */
function choose(name: string, memo: NameMemo, live: Constraint[], all: Map<string, Constraint[]>,
  chosen: Map<string, PackumentVersion>, options: ResolveOptions): PackumentVersion {
  const key = JSON.stringify([...new Set(live.map((c) => c.range))].sort())
  const known = memo.picks.get(key)
  if (known) return known
  const pins = new Set(live.map((c) => semver.valid(c.range)).filter((v): v is string => v !== null))
  const eligible: Candidate[] = []
  const dropped: Dropped[] = []
  for (const candidate of memo.candidates) {
    const why = candidate.why ?? dropReason(candidate, pins, options)
    if (why) dropped.push({ version: candidate.version, why })
    else eligible.push(candidate)
  }
  eligible.sort((a, b) => b.parsed!.compare(a.parsed!))
  const ranges = new Map<string, semver.Range | null>()
  const rangeOf = (range: string, includePrerelease: boolean) => {
    const id = `${includePrerelease}:${range}`
    if (!ranges.has(id)) {
      let parsed: semver.Range | null = null
      try { parsed = new semver.Range(range, { includePrerelease }) } catch { /* not a range: satisfied by nothing */ }
      ranges.set(id, parsed)
    }
    return ranges.get(id)!
  }
  const satisfies = (m: Candidate, c: Constraint) =>
    pins.has(m.version) && semver.valid(c.range) === m.version
      ? true
      : rangeOf(c.range, options.includePrerelease === true || pins.has(m.version))?.test(m.parsed!) === true
  const found = eligible.find((m) => live.every((c) => satisfies(m, c)))
  if (found) {
    memo.picks.set(key, found.manifest)
    return found.manifest
  }

  const available = eligible.map((m) => m.version)
  const chains = chainsOf(name, all, chosen)
  // A range nothing eligible satisfies on its own is a missing version; ranges each satisfiable but not together conflict.
  const alone = live.find((c) => !eligible.some((m) => satisfies(m, c)))
  if (alone) {
    const near = dropped.filter((d) => semver.satisfies(d.version, alone.range, { includePrerelease: true }))
    const because = near.length > 0
      ? ` Versions in that range were dropped: ${near.map((d) => `${d.version} (${d.why})`).join(', ')}.`
      : ''
    throw new RegistryError('ERR_REGISTRY_NO_MATCHING_VERSION',
      `no version of ${name} satisfies ${alone.range} (${chainText(alone, chosen, all)}).${because} ` +
      `Available: ${available.length > 0 ? available.join(', ') : 'none'}. Change the range, or publish a version that fits.`,
      { details: { name, range: alone.range, from: alone.from, available, dropped: near } })
  }
  throw new RegistryError('ERR_REGISTRY_RESOLVE_CONFLICT',
    `the ranges on ${name} have no version in common: ${chains.join('; ')}. Available: ${available.join(', ')}. ` +
    'Change one of these ranges (or upgrade the plugin that asks for the other) so that one version satisfies all.',
    { details: { name, chains, available } })
}

/**
 * Why a packument entry cannot be used at all, whatever the ranges: its fields reach URLs, file paths and the lock,
 * so a registry (or whoever stands between) cannot smuggle a path, a sha1-only digest or a bogus version through.
 */
function malformed(version: string, manifest: PackumentVersion | null): string | undefined {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return 'not a version object'
  if (!isExactVersion(version)) return 'not an exact semver version'
  if (manifest.version !== version) return `its version field says ${JSON.stringify(manifest.version)}`
  if (typeof manifest.dist !== 'object' || manifest.dist === null || !isSha512Integrity(manifest.dist.integrity)) {
    return 'dist.integrity is not a sha512 integrity'
  }
  const plugins: unknown = manifest.islet?.plugins
  if (plugins === undefined) return undefined
  if (typeof plugins !== 'object' || plugins === null || Array.isArray(plugins)) return 'islet.plugins is not an object of plugin name → range'
  for (const [name, range] of Object.entries(plugins)) {
    const problem = pluginNameProblem(name)
    if (problem) return `islet.plugins: ${problem}`
    if (typeof range !== 'string') return `islet.plugins: the range on ${name} is not a string`
  }
  return undefined
}

/** The entry of `version` as a candidate: parsed, with the reason it can never be chosen (malformed, engine). */
function candidateOf(version: string, manifest: PackumentVersion, options: ResolveOptions, engines: Map<string, string | undefined>): Candidate {
  const why = malformed(version, manifest) ?? engineReason(manifest, options, engines)
  return why ? { version, manifest, why } : { version, manifest, parsed: new semver.SemVer(version) }
}

/** Why the running engine cannot run `manifest`; answers are kept per engine range (versions mostly share a few). */
function engineReason(manifest: PackumentVersion, options: ResolveOptions, engines: Map<string, string | undefined>): string | undefined {
  const engine = manifest.islet?.engine
  if (typeof engine !== 'string') return 'not an Islet plugin: no islet.engine'
  if (!engines.has(engine)) {
    engines.set(engine, semver.validRange(engine) === null
      ? `islet.engine ${JSON.stringify(engine)} is not a semver range`
      : semver.satisfies(options.engineVersion, engine, { includePrerelease: true }) ? undefined : `needs engine ${engine}, this engine is ${options.engineVersion}`)
  }
  return engines.get(engine)
}

/** Why a well-formed, engine-compatible version is not a candidate under these pins, or undefined when it is. */
function dropReason(candidate: Candidate, pins: Set<string>, options: ResolveOptions): string | undefined {
  if (pins.has(candidate.version)) return undefined
  const { manifest } = candidate
  if (typeof manifest._yanked === 'string') return `yanked${manifest._yanked ? `: ${manifest._yanked}` : ''}`
  if (candidate.parsed!.prerelease.length > 0 && options.includePrerelease !== true) return 'prerelease'
  return undefined
}

/** Every live chain of requests ending at `name`, e.g. `app → @a/y@2.0.0 → @a/x ^2`. */
function chainsOf(name: string, all: Map<string, Constraint[]>, chosen: Map<string, PackumentVersion>): string[] {
  const live = (all.get(name) ?? []).filter((c) => c.from === 'app' || chosen.get(nameOf(c.from))?.version === versionOf(c.from))
  return live.map((c) => chainText(c, chosen, all))
}

function chainText(c: Constraint, chosen: Map<string, PackumentVersion>, all: Map<string, Constraint[]>): string {
  return [...prefix(c.from, chosen, all), `${c.name} ${c.range}`].join(' → ')
}

/**
 * The path from the app to `from` (`app`, or `app → @a/y@2.0.0`), following the first live request of each parent.
 * A loop, not a recursion that copies the path at every step: a deep chain costs its length, not its square.
 */
function prefix(from: string, chosen: Map<string, PackumentVersion>, all: Map<string, Constraint[]>): string[] {
  const path: string[] = []
  const seen = new Set<string>()
  for (let at = from; at !== 'app' && !seen.has(at);) {
    seen.add(at)
    path.push(at)
    const via = (all.get(nameOf(at)) ?? []).find((c) => c.from === 'app' || chosen.get(nameOf(c.from))?.version === versionOf(c.from))
    if (!via) break
    at = via.from
  }
  return ['app', ...path.reverse()]
}

/** `@a/y@2.0.0` → `@a/y`. */
function nameOf(nameAtVersion: string): string {
  return nameAtVersion.slice(0, nameAtVersion.lastIndexOf('@'))
}

function versionOf(nameAtVersion: string): string {
  return nameAtVersion.slice(nameAtVersion.lastIndexOf('@') + 1)
}
