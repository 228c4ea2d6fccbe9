// `islet plugin upgrade [name] [--latest] [app.yaml]`: the highest versions the app's ranges allow (one plugin, the
// others kept as locked where they fit; or all), written to islet.lock. `--latest` also rewrites the range to
// ^<the highest version that works with this engine>, which is how one crosses a major version.
import { didYouMean } from '../suggest.ts'
import { IsletError } from '../errors.ts'
import { ENGINE_VERSION } from '../version.ts'
import type { ParsedOptions } from './options.ts'
import { openPluginApp } from './plugin-app.ts'
import { eligibleVersions, formatLockChange, formatStandingChange, lockChanges } from './plugin-lock.ts'
import { effectsOf } from './plugin-effects.ts'
import { packumentOrSuggest, resolveApp } from './plugin-resolve.ts'
import { checkPluginName } from './plugin-spec.ts'
import { setPluginEntry, writeAppYaml } from './plugins-yaml.ts'
import { refreshStanding, writeLock } from './registry-parts.ts'

export default async function pluginUpgrade({ values, positionals }: ParsedOptions): Promise<number> {
  // `islet plugin upgrade app.yaml` names the app, not a plugin: no npm name ends in .yaml.
  const [first, second] = appLast(positionals)
  const only = first === undefined ? undefined : checkPluginName(first)
  const ctx = openPluginApp(second, values['data-dir'] as string | undefined)
  if (ctx.entries.size === 0) throw new IsletError('ERR_CLI_USAGE', `${ctx.shown(ctx.app.file)} has no registry plugins (plugins: map); add one: islet plugin add <name>`)
  if (only !== undefined && !ctx.entries.has(only)) {
    const hint = didYouMean(only, ctx.entries.keys())
    throw new IsletError('ERR_CLI_USAGE', `${ctx.shown(ctx.app.file)} has no plugins: entry '${only}'${hint ? ` (${hint})` : `; it has ${[...ctx.entries.keys()].join(', ')}`}`)
  }
  const sources = await ctx.sources()
  const ranges = new Map([...ctx.entries].map(([n, e]) => [n, e.range]))
  const rewritten: { name: string; from: string; to: string }[] = []
  if (values.latest === true) {
    for (const name of only ? [only] : ranges.keys()) {
      const best = eligibleVersions((await packumentOrSuggest(sources, name)).versions, ENGINE_VERSION)[0]
      if (!best) continue
      const to = `^${best.version}`
      if (to !== ranges.get(name)) rewritten.push({ name, from: ranges.get(name)!, to })
      ranges.set(name, to)
    }
  }
  const locked = await ctx.lock()
  // Upgrading one plugin keeps the others' locked versions where they still fit; upgrading all keeps none, except a
  // locked plugin its registry does not have (vendored, or published elsewhere): there is nothing newer to find.
  const unavailable = new Set<string>()
  if (!only) {
    for (const name of Object.keys(locked?.plugins ?? {})) {
      const packument = await sources.sourceFor(name).packument(name).catch(() => undefined)
      if (!packument) unavailable.add(name)
    }
  }
  const resolved = await resolveApp(ranges, { sources, locked, keep: only ? (n) => n !== only : (n) => unavailable.has(n) })
  // What stays as locked may have been deprecated or yanked since: the lock records it, for the warning at load.
  const { lock, changes: standing } = await refreshStanding(resolved.lock, sources)
  const changes = lockChanges(locked, lock)
  const moved = new Set(changes.map((c) => c.name))
  const notes = standing.filter((c) => !moved.has(c.name))
  for (const r of rewritten) setPluginEntry(ctx.app, r.name, { range: r.to })
  if (rewritten.length) writeAppYaml(ctx.app)
  await writeLock(ctx.lockFile, lock)
  // A new version may ask for more than the app grants: say so now, not at the next run (which refuses it).
  const effects = [...resolved.warnings, ...changes.filter((c) => c.kind !== 'remove' && resolved.resolved.has(c.name))
    .flatMap((c) => effectsOf(ctx.app, c.name, resolved.resolved.get(c.name)!, ctx.entries.get(c.name)?.host === true))]
  if (values.format === 'json') console.log(JSON.stringify({ ranges: rewritten, lock: { file: ctx.shown(ctx.lockFile), changes, standing: notes, kept: [...unavailable] }, notes: effects }, null, 2))
  else {
    const lines = rewritten.map((r) => `${ctx.shown(ctx.app.file)}: ${r.name} ${r.from} → ${r.to}`)
    lines.push(`${ctx.shown(ctx.lockFile)}:`, ...(changes.length ? changes.map(formatLockChange) : ['  everything is at the highest version its range allows']),
      ...notes.map(formatStandingChange),
      ...[...unavailable].filter((n) => lock.plugins[n]).map((n) => `  ${n}@${lock.plugins[n]!.version} kept: ${sources.registryFor(n)} does not have it (vendored, or published elsewhere)`))
    if (effects.length) lines.push('', ...effects.map((n) => `note: ${n}`))
    console.log(lines.join('\n'))
  }
  return 0
}

/** `[name] [app.yaml]`, where a lone argument ending in .yaml or .yml is the app. */
function appLast(positionals: readonly string[]): [string | undefined, string | undefined] {
  const [a, b] = positionals
  return b === undefined && a !== undefined && /\.ya?ml$/.test(a) ? [undefined, a] : [a, b]
}
