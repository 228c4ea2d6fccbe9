// `islet plugin yank <name@version> [--reason]` and `islet plugin unyank <name@version>`: a yanked version is no
// longer chosen by ranges, but an app that pins or locks it still installs it. Sent to the registry the app binds
// the name to (its registries:, with their tokens), or the embedded one.
import { existsSync } from 'node:fs'
import { dataDirOf } from '../config/data-dir.ts'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { openPluginApp } from './plugin-app.ts'
import { parseExactSpec } from './plugin-spec.ts'
import { setYanked, sourcesFor, type Sources } from './registry-parts.ts'

async function yank({ values, positionals }: ParsedOptions, yanking: boolean): Promise<number> {
  const command = yanking ? 'plugin yank' : 'plugin unyank'
  const { name, version } = parseExactSpec(positionals[0]!, command)
  const sources = await sourcesOf(values, positionals[1])
  const reason = yanking ? (values.reason as string | undefined)?.trim() ?? '' : null
  if (reason === '') throw new IsletError('ERR_CLI_USAGE', `islet plugin yank needs --reason: say why, and what to use instead (e.g. --reason 'leaks the API key; use ${name}@<fixed version>'), so whoever pinned it knows`)
  await setYanked(sources, name, version, reason)
  const where = sources.registryFor(name)
  if (values.format === 'json') console.log(JSON.stringify({ name, version, yanked: yanking, ...(yanking ? { reason } : {}), registry: where }))
  else console.log(yanking ? `yanked ${name}@${version} in ${where}${reason ? ` (${reason})` : ''}: ranges no longer choose it; locks that hold it still install it` : `${name}@${version} is no longer yanked in ${where}`)
  return 0
}

export const pluginYank = (options: ParsedOptions): Promise<number> => yank(options, true)
export const pluginUnyank = (options: ParsedOptions): Promise<number> => yank(options, false)

/** --registry, else the app's registries: when there is an app, else the embedded registry. */
async function sourcesOf(values: ParsedOptions['values'], file: string | undefined): Promise<Sources> {
  const dataDir = values['data-dir'] as string | undefined
  const registry = values.registry as string | undefined
  if (registry !== undefined) return sourcesFor({ default: registry }, { dataDir: dataDirOf(dataDir, process.env) })
  if (file !== undefined || existsSync('app.yaml')) return openPluginApp(file, dataDir).sources()
  return sourcesFor(undefined, { dataDir: dataDirOf(dataDir, process.env) })
}
