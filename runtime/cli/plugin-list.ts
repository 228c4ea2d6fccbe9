// `islet plugin list [app.yaml]`: every locked plugin with its version, the range that asks for it (the app's entry,
// or the plugins that need it), the newer versions the range allows (wanted) and the newest that works with this
// engine (latest), and whether the locked version is deprecated or yanked. A deprecation or yank that came after the
// version was locked is recorded in islet.lock (only those fields change), for the warning the app gives at load.
// Without a reachable registry it still lists the lock (with the standing it records), and says it could not look
// for newer versions.
import semver from 'semver'
import { messageOf } from '../errors.ts'
import { ENGINE_VERSION } from '../version.ts'
import type { ParsedOptions } from './options.ts'
import { openPluginApp } from './plugin-app.ts'
import { eligibleVersions, formatStandingChange } from './plugin-lock.ts'
import { refreshStanding, writeLock, type StandingChange } from './registry-parts.ts'

interface Row {
  name: string
  version: string | null
  range: string
  requiredBy: string[]
  host: boolean
  wanted?: string
  latest?: string
  deprecated?: string
  yanked?: string
  registry?: string
}

export default async function pluginList({ values, positionals }: ParsedOptions): Promise<number> {
  const ctx = openPluginApp(positionals[0], values['data-dir'] as string | undefined)
  const lock = await ctx.lock()
  const rows = new Map<string, Row>()
  for (const [name, e] of ctx.entries) rows.set(name, { name, version: lock?.plugins[name]?.version ?? null, range: e.range, requiredBy: ['app'], host: e.host === true })
  for (const [name, e] of Object.entries(lock?.plugins ?? {})) {
    const row = rows.get(name) ?? { name, version: e.version, range: '', requiredBy: [], host: false }
    row.registry = e.registry
    if (row.version === e.version) {
      if (e.deprecated !== undefined) row.deprecated = e.deprecated
      if (e.yanked !== undefined) row.yanked = e.yanked || 'yanked'
    }
    rows.set(name, row)
    for (const [dep, range] of Object.entries(e.plugins ?? {})) {
      const d = rows.get(dep) ?? { name: dep, version: lock!.plugins[dep]?.version ?? null, range: '', requiredBy: [], host: false }
      d.requiredBy.push(`${name}@${e.version} (${range})`)
      if (d.range === '') d.range = range
      rows.set(dep, d)
    }
  }
  let offline: string | undefined
  let standing: StandingChange[] = []
  try {
    const sources = await ctx.sources()
    for (const row of rows.values()) {
      const packument = await sources.sourceFor(row.name).packument(row.name)
      if (!packument) continue
      const eligible = eligibleVersions(packument.versions, ENGINE_VERSION)
      const wanted = eligible.find((v) => row.range === '' || semver.satisfies(v.version, row.range))
      if (wanted && (row.version === null || semver.gt(wanted.version, row.version))) row.wanted = wanted.version
      if (eligible[0] && (row.version === null || semver.gt(eligible[0].version, row.version))) row.latest = eligible[0].version
      const current = row.version === null ? undefined : packument.versions[row.version]
      if (current) {
        row.deprecated = current.deprecated || undefined
        row.yanked = current._yanked === undefined ? undefined : current._yanked || 'yanked'
      }
    }
    if (lock) {
      const refreshed = await refreshStanding(lock, sources)
      if (refreshed.changes.length > 0) await writeLock(ctx.lockFile, refreshed.lock)
      standing = refreshed.changes
    }
  } catch (error) {
    offline = messageOf(error)
  }
  const list = [...rows.values()].sort((a, b) => a.name.localeCompare(b.name))
  if (values.format === 'json') {
    console.log(JSON.stringify({ app: ctx.shown(ctx.app.file), lock: lock ? ctx.shown(ctx.lockFile) : null, plugins: list,
      ...(standing.length ? { standing } : {}), ...(offline ? { newerUnknown: offline } : {}) }, null, 2))
    return 0
  }
  if (list.length === 0) {
    console.log(`${ctx.shown(ctx.app.file)} has no registry plugins; add one: islet plugin add <name>`)
    return 0
  }
  const table = [['plugin', 'locked', 'range', 'wanted', 'latest', 'notes'], ...list.map((r) => [
    r.name, r.version ?? '(not locked)', r.range || '*', r.wanted ?? '', r.latest ?? '',
    [r.host ? 'host code allowed' : '', r.requiredBy.includes('app') ? '' : `needed by ${r.requiredBy.join(', ')}`,
      r.deprecated ? `DEPRECATED: ${r.deprecated}` : '', r.yanked ? `YANKED: ${r.yanked}` : ''].filter(Boolean).join('; '),
  ])]
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  for (const row of table) console.log(row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 2)).join('').trimEnd())
  if (standing.length) console.log([`\n${ctx.shown(ctx.lockFile)} updated:`, ...standing.map(formatStandingChange)].join('\n'))
  if (offline) console.log(`\n(newer versions not shown: ${offline})`)
  if (!lock) console.log(`\nno ${ctx.shown(ctx.lockFile)} yet: islet plugin upgrade (or islet run) writes it`)
  return 0
}
