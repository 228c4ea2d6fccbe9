// What every `islet plugin …` command starts from: the app's YAML (default ./app.yaml), the islet.lock next to it,
// the data directory, and the registries the app binds (`registries:`, `${VAR}` read from the environment).
import { existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { dataDirOf } from '../config/data-dir.ts'
import { IsletError } from '../errors.ts'
import type { RegistrySpec } from '../../registry/client/index.ts'
import { bindEntryRegistries } from '../config/plugin-requests.ts'
import { pluginEntries, readAppYaml, registriesOf, type AppYaml, type PluginEntry } from './plugins-yaml.ts'
import { readLock, sourcesFor, type Lockfile, type Sources } from './registry-parts.ts'

export interface PluginApp {
  app: AppYaml
  lockFile: string
  dataDir: string
  entries: Map<string, PluginEntry & { where: string }>
  lock(): Promise<Lockfile | undefined>
  sources(): Promise<Sources>
  /** A path as the user should read it (relative to where they are). */
  shown(path: string): string
}

export function openPluginApp(file: string | undefined, dataDirOption: string | undefined): PluginApp {
  const path = file ?? 'app.yaml'
  if (!existsSync(path)) {
    throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no app file '${path}'${file === undefined ? ' (the default) in this folder' : ''}; pass the app's YAML as the last argument: islet plugin list path/to/app.yaml`)
  }
  const app = readAppYaml(path)
  const lockFile = join(dirname(path), 'islet.lock')
  const dataDir = dataDirOf(dataDirOption, process.env)
  let sources: Promise<Sources> | undefined
  const entries = pluginEntries(app)
  return {
    app, lockFile, dataDir, entries,
    lock: async () => existsSync(lockFile) ? readLock(lockFile) : undefined,
    sources: () => sources ??= sourcesFor(withEntryBindings(interpolate(registriesOf(app), app), entries), { dataDir }),
    shown: (p) => relative(process.cwd(), p) || p,
  }
}

/** `${VAR}` and `${VAR:-default}` in the registries section (tokens come from the environment, never the file). */
function interpolate(value: unknown, app: AppYaml): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => {
      const found = process.env[name] ?? fallback
      if (found === undefined) throw new IsletError('ERR_CONFIG_ENV_MISSING', `${whereIs(app, `\${${name}`)}: registries: uses \${${name}}, which is not set; export ${name}=… or write \${${name}:-default}`)
      return found
    })
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, app))
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, app)]))
  return value
}

/** `app.yaml:3:38`: where `needle` is first written under registries: (the file alone if it cannot be found). */
function whereIs(app: AppYaml, needle: string): string {
  const section = /^registries:/m.exec(app.text)?.index ?? 0
  const at = app.text.indexOf(needle, section)
  if (at < 0) return app.file
  const before = app.text.slice(0, at).split('\n')
  return `${app.file}:${before.length}:${before.at(-1)!.length + 1}`
}

/**
 * The app's registries with each entry's own `registry:` bound to its scope, as `islet run` reads them
 * (config/plugin-requests.ts), so the commands resolve from where the app will fetch; a binding that disagrees is the
 * config load's error to report, at the entry.
 */
function withEntryBindings(registries: unknown, entries: ReadonlyMap<string, PluginEntry>): unknown {
  const specs = { ...(typeof registries === 'object' && registries !== null ? registries as Record<string, RegistrySpec> : {}) }
  bindEntryRegistries(specs, [...entries].map(([name, entry]) => ({ name, ...entry })))
  return specs
}
