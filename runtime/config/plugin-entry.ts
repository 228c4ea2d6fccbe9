// Where a `plugins:` entry points. A path is the app's own file and stays inside the app folder, like every path a
// config names; a package is found the way Node finds an import made from the app folder (node_modules there, then
// in each folder above it: a monorepo's hoisted packages and `npm install ../shared-plugin` links work), with its
// package.json "exports" honoured under the `node` and `import` conditions.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { findPackageJSON } from 'node:module'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { moduleResolve as ModuleResolve } from 'import-meta-resolve'
import { messageOf, type ErrorCode } from '../errors.ts'
import { escapeOf, outsideMessage } from './confine.ts'

export interface PluginEntryFile {
  /** Absolute path of the module to import. */
  file: string
  /** The package.json that governs it, when there is one (its text is part of the plugin's fingerprint). */
  packageJson?: string
}

export interface EntryFailure {
  code: ErrorCode
  message: string
  hint: string
}

export type EntryResolution = PluginEntryFile | { failure: EntryFailure }

/** Node's ESM resolution with a parent of our choosing; loaded only for apps that list plugins (`islet validate` speed). */
let moduleResolve: typeof ModuleResolve | undefined
async function resolver(): Promise<typeof ModuleResolve> {
  return moduleResolve ??= (await import('import-meta-resolve')).moduleResolve
}

const CONDITIONS = new Set(['node', 'import'])
/** What a path without an extension may stand for, in this order. */
const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs']
/** An npm package name, optionally followed by a subpath its "exports" provides (`@acme/x`, `@acme/x/plugin`). */
const PACKAGE = /^(?:@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9~][a-z0-9._~-]*(?:\/[^\s]+)?$/

/** A string entry is a path when it starts with `.` or `/`, as in an import; anything else names a package. */
export function isPathEntry(written: string): boolean {
  return written.startsWith('.') || written.startsWith('/')
}

/** The package a package entry names, without a subpath: `@acme/x/plugin` → `@acme/x`. */
export function packageName(written: string): string {
  return written.startsWith('@') ? written.split('/').slice(0, 2).join('/') : written.split('/')[0]!
}

/** The module a path entry names (relative to `fromDir`, the folder of the YAML file holding it), kept in `appDir`. */
export async function resolvePathEntry(written: string, fromDir: string, appDir: string): Promise<EntryResolution> {
  const absolute = resolve(fromDir, written)
  const outside = confined(written, absolute, appDir)
  if (outside) return { failure: outside }
  const found = [absolute, ...EXTENSIONS.map((ext) => absolute + ext)].find((p) => existsSync(p))
  if (!found) {
    return { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `no plugin at '${written}' (looked for ${absolute} and ${EXTENSIONS.map((e) => `*${e}`).join(', ')})`,
      hint: 'name the plugin\'s file or folder relative to this YAML file, e.g. ./plugins/ratelimit' } }
  }
  const entry = statSync(found).isDirectory() ? folderEntry(found, written, await resolver()) : { file: found }
  if ('failure' in entry) return entry
  // The folder's package.json may point elsewhere: the file imported must be the app's too.
  const leaves = confined(written, entry.file, appDir)
  return leaves ? { failure: leaves } : entry
}

/** The module a package entry names, installed where an import from `appDir` would find it. */
export async function resolvePackageEntry(written: string, appDir: string): Promise<EntryResolution> {
  const name = packageName(written)
  if (!PACKAGE.test(written)) {
    return { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `'${written}' is neither a path nor a package name`,
      hint: "write a path as './plugins/x' (relative to this file) and a package as its npm name, e.g. '@acme/islet-ratelimit'" } }
  }
  // Without "exports", a subpath resolves like a URL against the package.json: `pkg/../../x` (or `%2e%2e`) would
  // name any file on disk. A package entry names something inside its package, so no such segment is allowed.
  const subpath = written.slice(name.length + 1)
  if (subpath && subpath.split('/').some((s) => s === '' || s === '.' || s === '..' || /[%\\]/.test(s))) {
    return { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `'${written}' is not a path inside package '${name}' (no '.', '..', empty or percent-encoded segments)`,
      hint: `name the package ('${name}') or a subpath it exports, e.g. '${name}/plugin'; a file of the app's own is a path entry, './plugins/x'` } }
  }
  const resolve = await resolver()
  let url: URL
  try {
    url = resolve(written, pathToFileURL(join(appDir, 'package.json')), CONDITIONS, false)
  } catch (error) {
    return { failure: packageFailure(written, name, appDir, error) }
  }
  if (url.protocol !== 'file:') {
    return { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `'${written}' is a Node built-in module, not a plugin`,
      hint: 'name an installed plugin package' } }
  }
  const file = fileURLToPath(url)
  const packageJson = findPackageJSON(url)
  return { file, ...(packageJson ? { packageJson } : {}) }
}

function packageFailure(written: string, name: string, appDir: string, error: unknown): EntryFailure {
  const code = (error as { code?: unknown }).code
  const install = `npm install ${name}`
  if (code === 'ERR_MODULE_NOT_FOUND' && /Cannot find package/.test(messageOf(error))) {
    return { code: 'ERR_PLUGIN_NOT_FOUND', message: `plugin package '${name}' is not installed (looked in node_modules of ${appDir} and the folders above it)`,
      hint: `run '${install}' in the app folder` }
  }
  if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
    return { code: 'ERR_PLUGIN_NOT_FOUND', message: `package '${name}' does not export '${written}' for import: ${firstLine(error)}`,
      hint: 'its package.json "exports" has no entry for this path under the import or node condition: name the path it exports, or ask its author' }
  }
  return { code: 'ERR_PLUGIN_NOT_FOUND', message: `package '${written}' cannot be resolved: ${firstLine(error)}`,
    hint: `reinstall it ('${install}' in the app folder)` }
}

/**
 * A folder plugin's module: what its package.json exports (self-reference by its name) or names as `main`, else
 * index.ts / index.mts / index.js / index.mjs.
 */
function folderEntry(dir: string, written: string, moduleResolve: typeof ModuleResolve): EntryResolution {
  const packageJson = join(dir, 'package.json')
  if (existsSync(packageJson)) {
    let pkg: { name?: unknown; exports?: unknown; main?: unknown }
    try {
      pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as typeof pkg
    } catch (error) {
      return { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `${packageJson} is not valid JSON: ${messageOf(error)}`, hint: 'fix the plugin\'s package.json' } }
    }
    if (pkg.exports !== undefined && typeof pkg.name === 'string') {
      try {
        return { file: fileURLToPath(moduleResolve(pkg.name, pathToFileURL(packageJson), CONDITIONS, false)), packageJson }
      } catch (error) {
        return { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `the package.json of '${written}' exports no module to import: ${firstLine(error)}`,
          hint: 'give its "exports" a "." entry (or an "import" condition) naming the plugin\'s module' } }
      }
    }
    if (typeof pkg.main === 'string') {
      const main = resolve(dir, pkg.main)
      return existsSync(main) ? { file: main, packageJson }
        : { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `the package.json of '${written}' names main '${pkg.main}', which does not exist`, hint: 'fix "main" in its package.json' } }
    }
  }
  const index = EXTENSIONS.map((ext) => join(dir, `index${ext}`)).find((p) => existsSync(p))
  if (index) return { file: index, ...(existsSync(packageJson) ? { packageJson } : {}) }
  return { failure: { code: 'ERR_PLUGIN_NOT_FOUND', message: `folder '${written}' holds no plugin module (no package.json "exports" or "main", no index.ts or index.js)`,
    hint: 'add an index.ts that default-exports definePlugin(…), or a package.json naming the module' } }
}

function confined(written: string, path: string, appDir: string): EntryFailure | undefined {
  const escape = escapeOf(appDir, path)
  if (!escape) return undefined
  const { message, hint } = outsideMessage(written, path, escape, { dir: appDir, kind: 'app' })
  return { code: 'ERR_CONFIG_PATH_OUTSIDE', message: `plugins: ${message}`,
    hint: `${hint}; to share a plugin between apps, make it a package and install it (npm install <folder or name>)` }
}

function firstLine(error: unknown): string {
  return messageOf(error).split('\n')[0]!
}
