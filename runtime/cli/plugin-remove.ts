// `islet plugin remove <name> [app.yaml]`: drops the entry from `plugins:` and from islet.lock every plugin no other
// entry still reaches. Offline: it only narrows what the app trusts, so it needs no registry and asks nothing.
import { didYouMean } from '../suggest.ts'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { openPluginApp } from './plugin-app.ts'
import { formatLockChange, lockChanges, pruneLock } from './plugin-lock.ts'
import { checkPluginName } from './plugin-spec.ts'
import { removePluginEntry, writeAppYaml } from './plugins-yaml.ts'
import { writeLock } from './registry-parts.ts'

export default async function pluginRemove({ values, positionals }: ParsedOptions): Promise<number> {
  const name = checkPluginName(positionals[0]!)
  const ctx = openPluginApp(positionals[1], values['data-dir'] as string | undefined)
  if (!ctx.entries.has(name)) {
    const hint = didYouMean(name, ctx.entries.keys())
    throw new IsletError('ERR_CLI_USAGE', `${ctx.shown(ctx.app.file)} has no plugins: entry '${name}'${hint ? ` (${hint})` : ctx.entries.size ? `; it has ${[...ctx.entries.keys()].join(', ')}` : ''}`)
  }
  removePluginEntry(ctx.app, name)
  const locked = await ctx.lock()
  const lock = locked && pruneLock(locked, [...ctx.entries.keys()].filter((n) => n !== name))
  const changes = lock ? lockChanges(locked, lock) : []
  writeAppYaml(ctx.app)
  if (lock) await writeLock(ctx.lockFile, lock)
  if (values.format === 'json') console.log(JSON.stringify({ removed: name, yaml: { file: ctx.shown(ctx.app.file) }, lock: { file: ctx.shown(ctx.lockFile), changes } }, null, 2))
  else console.log([`removed ${name} from ${ctx.shown(ctx.app.file)}`, ...(lock ? [`${ctx.shown(ctx.lockFile)}:`, ...(changes.length ? changes.map(formatLockChange) : ['  (no change)'])] : [])].join('\n'))
  return 0
}
