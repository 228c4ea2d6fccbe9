// `islet plugin remove <name> [app.yaml]`: drops the entry from `plugins:` and from islet.lock every plugin no other
// entry still reaches. Offline: it only narrows what the app trusts, so it needs no registry and asks nothing.
import { didYouMean } from '../suggest.ts'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { openPluginApp } from './plugin-app.ts'
import { formatLockChange, lockChanges, pruneLock } from './plugin-lock.ts'
import { checkPluginName } from './plugin-spec.ts'
import { componentUses, removePluginEntry, writeAppYaml } from './plugins-yaml.ts'
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
  // Its components: entries are the author's to remove (they may hold grants worth keeping for a replacement); say
  // where they are, since the app is refused while they name a plugin it no longer has.
  const uses = componentUses(ctx.app, name).map((at) => ctx.shown(at))
  if (values.format === 'json') console.log(JSON.stringify({ removed: name, yaml: { file: ctx.shown(ctx.app.file) }, lock: { file: ctx.shown(ctx.lockFile), changes }, stillUsedAt: uses }, null, 2))
  else {
    console.log([`removed ${name} from ${ctx.shown(ctx.app.file)}`, ...(lock ? [`${ctx.shown(ctx.lockFile)}:`, ...(changes.length ? changes.map(formatLockChange) : ['  (no change)'])] : [])].join('\n'))
    if (uses.length) console.log(`\nnote: components: entries still call ${name}'s components, at ${uses.join(', ')}: remove them too, or the app is refused (ERR_PLUGIN_NOT_FOUND)`)
  }
  return 0
}
