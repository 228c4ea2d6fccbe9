// Where a config may point: every path it names stays inside the app's folder (the root YAML file's folder), database
// files inside the data directory. Checked on real paths, so a symlink cannot lead a path out of its folder.
import { readlinkSync, realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { IsletError } from '../errors.ts'

/** Why a path was refused: `outside` as written (absolute, `..`), or `symlink` (a link on the way leads out). */
export type Escape = 'outside' | 'symlink'

/**
 * The real path of `path`: symlinks resolved in every existing part of it (a dangling one to where its target would
 * be), the parts that do not exist yet (a database file created on first start, a folder still to be made) appended
 * as written.
 */
export function realPath(path: string, hops = 0): string {
  try {
    return realpathSync.native(path)
  } catch {
    const parent = dirname(path)
    if (parent === path) return path
    // A dangling symlink is where its target would be created (SQLite opening a database file through it).
    let target: string | undefined
    if (hops < 40) try { target = readlinkSync(path) } catch { /* not a link: a part still to be made */ }
    return target !== undefined ? realPath(resolve(parent, target), hops + 1) : join(realPath(parent, hops), basename(path))
  }
}

/** True when `path` is `dir` itself or lies below it (both absolute and normalised). */
export function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`))
}

/**
 * Whether absolute `path` stays inside `dir` once symlinks are resolved: undefined when it does, else why not.
 * `dir` need not exist yet (a data directory is created on start).
 */
export function escapeOf(dir: string, path: string): Escape | undefined {
  if (isWithin(realPath(dir), realPath(path))) return undefined
  return isWithin(dir, path) ? 'symlink' : 'outside'
}

/** The folder a path must stay in, as messages name it. */
export interface Confinement {
  /** Absolute; undefined for a data directory not known yet. */
  dir?: string
  /** `plugin`: a registry plugin's package folder, which its own YAML files stay in. */
  kind: 'app' | 'data' | 'plugin'
}

/** What a path that leaves its folder is told: where it leads, what is allowed, how to fix it. */
export function outsideMessage(written: string, path: string, escape: Escape, scope: Confinement):
  { message: string; hint: string } {
  const folder = `the ${scope.kind === 'app' ? 'app folder' : scope.kind === 'plugin' ? 'plugin\'s package folder' : 'data directory'}${scope.dir ? ` ${scope.dir}` : ''}`
  const message = escape === 'outside'
    ? `'${written}' is outside ${folder}`
    : `'${written}' leads outside ${folder} through a symlink (it resolves to ${realPath(path)})`
  const hint = scope.kind === 'plugin'
    ? 'a plugin\'s YAML files may only name files inside its own package: the package is at fault, pin another version or report it to its author'
    : scope.kind === 'app'
    ? 'a config may only name files inside the folder of its root file: move the file into that folder and name it ' +
      'relative to the file that names it (a symlink to a file outside does not count)'
    : 'database files live in the data directory: name the file relative to it (e.g. file: app.db), and choose the ' +
      'folder itself with --data-dir or ISLET_DATA_DIR'
  return { message, hint }
}

/**
 * `ctx.resolvePath` for module and step code: resolves `path` against the folder of the file that declared the module
 * or step, and refuses (ERR_CONFIG_PATH_OUTSIDE) one that leads outside the app folder. Config validation checks the
 * path fields a type marks (appPath) and the inputs it declares; this covers whatever else a plugin resolves at run
 * time. Without `appDir` (a bare context in a plugin's own tests) paths resolve unchecked.
 */
export function confinedResolver(fromDir: string, appDir: string | undefined): (path: string) => string {
  return (path) => {
    const absolute = resolve(fromDir, path)
    if (appDir === undefined) return absolute
    const escape = escapeOf(appDir, absolute)
    if (!escape) return absolute
    const { message, hint } = outsideMessage(path, absolute, escape, { dir: appDir, kind: 'app' })
    throw new IsletError('ERR_CONFIG_PATH_OUTSIDE', `${message}: ${hint}`, { details: { path, hint } })
  }
}
