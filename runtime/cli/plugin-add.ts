// `islet plugin add <name>[@range] [--host] [--services a,b] [--yes] [app.yaml]`: resolves the plugin with the app's
// other plugins, shows what it provides and asks for and what would change in app.yaml and islet.lock, asks (or
// needs --yes off a terminal), then writes both. Without a range the entry gets ^<the version chosen>.
import { IsletError } from '../errors.ts'
import { ENGINE_VERSION } from '../version.ts'
import { confirm } from './confirm.ts'
import type { ParsedOptions } from './options.ts'
import { openPluginApp } from './plugin-app.ts'
import { eligibleVersions, lockChanges } from './plugin-lock.ts'
import { formatPlan, summarize, type Plan } from './plugin-plan.ts'
import { packumentOrSuggest, resolveApp } from './plugin-resolve.ts'
import { parsePluginSpec } from './plugin-spec.ts'
import { entryLine, setPluginEntry, writeAppYaml, type PluginEntry } from './plugins-yaml.ts'
import { writeLock } from './registry-parts.ts'

export default async function pluginAdd({ values, positionals }: ParsedOptions): Promise<number> {
  const spec = parsePluginSpec(positionals[0]!)
  const host = values.host === true
  const services = servicesOption(values.services as string | undefined, host)
  const json = values.format === 'json'
  const ctx = openPluginApp(positionals[1], values['data-dir'] as string | undefined)
  const sources = await ctx.sources()
  const packument = await packumentOrSuggest(sources, spec.name)
  let range = spec.range
  if (range === undefined) {
    const best = eligibleVersions(packument.versions, ENGINE_VERSION)[0]
    if (!best) throw new IsletError('ERR_PLUGIN_ENGINE_MISMATCH', `no version of ${spec.name} works with this islet ${ENGINE_VERSION} (versions: ${Object.keys(packument.versions).join(', ') || 'none'}; yanked and prerelease ones are not chosen); name a version: islet plugin add ${spec.name}@<range>`)
    range = `^${best.version}`
  }
  const ranges = new Map([...ctx.entries].map(([n, e]) => [n, e.range]))
  ranges.set(spec.name, range)
  const locked = await ctx.lock()
  const { resolved, lock } = await resolveApp(ranges, { sources, locked, keep: (n) => n !== spec.name })
  const chosen = resolved.get(spec.name)!
  const previous = ctx.entries.get(spec.name)
  const entry: PluginEntry = {
    range,
    ...(host ? { host: true, services: services ?? [...(chosen.islet?.services ?? [])] } : previous?.host ? { host: true } : {}),
    ...(!host && previous?.services ? { services: previous.services } : {}),
  }
  const changes = lockChanges(locked, lock)
  const changed = new Set(changes.filter((c) => c.kind !== 'remove').map((c) => c.name))
  const plan: Plan = {
    plugin: summarize(chosen, lock.plugins[spec.name]?.keyid),
    dependencies: [...resolved.values()].filter((v) => v.name !== spec.name && changed.has(v.name)).map((v) => summarize(v, lock.plugins[v.name]?.keyid)),
    yaml: { file: ctx.shown(ctx.app.file), entry: entryLine(spec.name, entry) },
    lock: { file: ctx.shown(ctx.lockFile), changes },
  }
  const hostAllowed = entry.host === true
  if (!json) {
    console.log(formatPlan(plan, hostAllowed))
    if (chosen.islet?.host && !hostAllowed) {
      console.log(`\nnote: ${spec.name} ships host code: an app whose entry lacks host: true is refused (ERR_PLUGIN_HOST_NOT_ALLOWED),`
        + ` its components included; review ${chosen.islet.host} in the package, then: islet plugin add ${spec.name} --host`)
    }
  }
  let ok: boolean
  try {
    ok = await confirm(`\n${previous ? 'change' : 'add'} ${spec.name} ${range}?`, { yes: values.yes === true, command: 'plugin add' })
  } catch (error) {
    if (json) console.log(JSON.stringify({ ...plan, hostAllowed, applied: false }, null, 2))
    throw error
  }
  if (!ok) {
    if (json) console.log(JSON.stringify({ ...plan, hostAllowed, applied: false }, null, 2))
    console.error('nothing changed')
    return 1
  }
  setPluginEntry(ctx.app, spec.name, entry)
  writeAppYaml(ctx.app)
  await writeLock(ctx.lockFile, lock)
  if (json) console.log(JSON.stringify({ ...plan, hostAllowed, applied: true }, null, 2))
  else console.log(`${previous ? 'changed' : 'added'} ${spec.name}@${chosen.version} (${range}) in ${plan.yaml.file}; ${plan.lock.file} written`)
  return 0
}

function servicesOption(option: string | undefined, host: boolean): string[] | undefined {
  if (option === undefined) return undefined
  if (!host) throw new IsletError('ERR_CLI_USAGE', '--services grants engine services to host code: pass --host with it (components never get engine services; they get capabilities from their grants:)')
  const names = option.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (names.length === 0) throw new IsletError('ERR_CLI_USAGE', `--services takes service names separated by commas, e.g. --services events,kv`)
  return names
}
