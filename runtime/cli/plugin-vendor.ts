// `islet plugin vendor [app.yaml]`: copies every locked tarball into islet-vendor/ next to islet.lock (named by
// integrity, as the cache is), so the app starts with no registry at all. Each copy is checked first: its bytes
// against the lock's integrity and its signature against the key the lock pins. Files the lock no longer names go.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { integrityFileName, integrityOf } from '../../registry/integrity.ts'
import { verifyVersion } from '../../registry/signature.ts'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { openPluginApp } from './plugin-app.ts'

export default async function pluginVendor({ values, positionals }: ParsedOptions): Promise<number> {
  const ctx = openPluginApp(positionals[0], values['data-dir'] as string | undefined)
  const lock = await ctx.lock()
  if (!lock) throw new IsletError('ERR_CLI_USAGE', `no ${ctx.shown(ctx.lockFile)} to vendor from; write it first: islet plugin upgrade ${ctx.shown(ctx.app.file)}`)
  const vendor = join(dirname(ctx.lockFile), 'islet-vendor')
  mkdirSync(vendor, { recursive: true })
  const wanted = new Set<string>()
  const copied: { name: string; version: string; file: string; from: string }[] = []
  for (const [name, e] of Object.entries(lock.plugins)) {
    const file = `${integrityFileName(e.integrity)}.tgz`
    wanted.add(file)
    const target = join(vendor, file)
    if (existsSync(target) && integrityOf(readFileSync(target)) === e.integrity) continue
    const cached = join(ctx.dataDir, 'plugins', 'tarballs', file)
    let bytes: Uint8Array
    let from: string
    if (existsSync(cached) && integrityOf(readFileSync(cached)) === e.integrity) {
      bytes = readFileSync(cached)
      from = 'cache'
    } else {
      const sources = await ctx.sources()
      const source = sources.sourceFor(name)
      const v = (await source.packument(name))?.versions[e.version]
      if (!v) throw new IsletError('ERR_PLUGIN_UNKNOWN', `${name}@${e.version} (locked) is not in ${e.registry} any more; it cannot be vendored from there`)
      bytes = await source.tarball(name, e.version, v.dist)
      from = e.registry
    }
    const integrity = integrityOf(bytes)
    if (integrity !== e.integrity) throw new IsletError('ERR_PLUGIN_SIGNATURE', `${name}@${e.version} from ${from} hashes to ${integrity}, but ${ctx.shown(ctx.lockFile)} locks ${e.integrity}; refusing to vendor changed bytes`)
    const key = lock.keys[e.keyid]
    if (!key || !verifyVersion(key.key, name, e.version, e.integrity, e.sig)) {
      throw new IsletError('ERR_PLUGIN_SIGNATURE', `${name}@${e.version}: ${key ? `its signature does not verify with key ${e.keyid}` : `its key ${e.keyid} is not pinned in the lock's keys`}; refusing to vendor it`)
    }
    const temporary = `${target}.${process.pid}.tmp`
    writeFileSync(temporary, bytes)
    renameSync(temporary, target)
    copied.push({ name, version: e.version, file, from })
  }
  const removed = readdirSync(vendor).filter((f) => f.endsWith('.tgz') && !wanted.has(f))
  for (const f of removed) rmSync(join(vendor, f))
  if (values.format === 'json') console.log(JSON.stringify({ dir: ctx.shown(vendor), copied, removed, plugins: wanted.size }, null, 2))
  else {
    for (const c of copied) console.log(`  ${c.name}@${c.version} → ${ctx.shown(join(vendor, c.file))} (from ${c.from})`)
    for (const f of removed) console.log(`  removed ${ctx.shown(join(vendor, f))} (not in the lock)`)
    console.log(`${ctx.shown(vendor)}: ${wanted.size} plugin${wanted.size === 1 ? '' : 's'}, verified${copied.length ? '' : ', already up to date'}`)
  }
  return 0
}
