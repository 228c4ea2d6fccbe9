// Test support: a registry plugin as the runtime finds it once the registry client has fetched, verified and
// extracted it: the package folder under `<dataDir>/plugins/packages/` and its entry in the app's islet.lock.
// (Before the client is merged, runtime/plugins/locked-plugins.ts reads exactly this. After, this helper becomes
// "publish to an embedded registry and lock it"; the tests using it stay as they are.)
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { packageFolder, LOCK_FILE, type Lockfile } from '../../runtime/plugins/locked-plugins.ts'

export interface PluginFixture {
  name: string
  version: string
  islet: Record<string, unknown>
  /** Package-relative path → text. */
  files?: Record<string, string>
}

/** Writes the extracted package into the data dir; returns its integrity (of its files, standing for the tarball's). */
export function extractPlugin(dataDir: string, plugin: PluginFixture): string {
  const packageJson = JSON.stringify({ name: plugin.name, version: plugin.version, type: 'module', islet: plugin.islet }, null, 2)
  const hash = createHash('sha512').update(packageJson)
  for (const [path, text] of Object.entries(plugin.files ?? {}).sort()) hash.update(`${path}\0${text}\0`)
  const integrity = `sha512-${hash.digest('base64')}`
  const dir = packageFolder(dataDir, plugin.name, { version: plugin.version, integrity })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...JSON.parse(packageJson), _integrity: integrity }, null, 2))
  for (const [path, text] of Object.entries(plugin.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return integrity
}

/** Extracts the plugin and pins it in `<appDir>/islet.lock` (other entries kept). */
export function lockPlugin(appDir: string, dataDir: string, plugin: PluginFixture): void {
  const integrity = extractPlugin(dataDir, plugin)
  const file = join(appDir, LOCK_FILE)
  const lock: Lockfile = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { lockfileVersion: 1, keys: {}, plugins: {} }
  const deps = plugin.islet.plugins as Record<string, string> | undefined
  lock.plugins[plugin.name] = { version: plugin.version, integrity, registry: 'embedded', engine: String(plugin.islet.engine),
    ...(deps ? { plugins: deps } : {}) }
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`)
}

export function readLockFile(appDir: string): Lockfile {
  return JSON.parse(readFileSync(join(appDir, LOCK_FILE), 'utf8')) as Lockfile
}
