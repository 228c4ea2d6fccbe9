// The files a module reads when it starts (a module type's `inputs`, e.g. a migrations folder), fingerprinted by
// content while the config loads: a changed input makes a changed module, so a config reload restarts it.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { InputsContext } from '@islet/sdk'
import { escapeOf, type Escape } from './confine.ts'
import type { ModuleInput } from './types.ts'

/** Inputs are config-sized: a folder holding more than this is fingerprinted by its listing past the cap. */
const MAX_FILES = 1_000
const MAX_DEPTH = 3

/**
 * The module's inputs, each with a sha256 over what it holds (a folder: its files' names and contents, dot-files
 * skipped). A missing input fingerprints as missing: creating it is a change too. An input that leaves `appDir`
 * (as written, or through a symlink) is not read at all: it is returned in `outside`, for the caller to refuse.
 * The type's own errors are the caller's to report.
 */
export function moduleInputs(type: { inputs?(config: unknown, ctx: InputsContext): string[] }, config: unknown,
  declaredIn: string, appDir: string): { inputs: ModuleInput[]; outside: Outside[] } {
  if (typeof type.inputs !== 'function') return { inputs: [], outside: [] }
  const base = dirname(declaredIn)
  const paths = type.inputs(config, { resolvePath: (path) => resolve(base, path) })
  if (!Array.isArray(paths)) return { inputs: [], outside: [] }
  const unique = [...new Set(paths.filter((p): p is string => typeof p === 'string').map((p) => resolve(base, p)))]
  const inputs: ModuleInput[] = []
  const outside: Outside[] = []
  for (const path of unique) {
    const escape = escapeOf(appDir, path)
    if (escape) outside.push({ input: path, path, escape })
    else inputs.push({ path, fingerprint: fingerprint(path, appDir, (p, e) => outside.push({ input: path, path: p, escape: e })) })
  }
  return { inputs, outside }
}

/** An input, or a file or folder inside one (a symlink), that leads out of the app folder. */
export interface Outside {
  /** The input as the type named it. */
  input: string
  /** What leads out: the input itself, or an entry in it. */
  path: string
  escape: Escape
}

/** The input's sha256; an entry that leads out of `appDir` (a symlink in a folder) is reported, never read. */
function fingerprint(path: string, appDir: string, onOutside: (path: string, escape: Escape) => void): string {
  const hash = createHash('sha256')
  let files = 0
  const visit = (p: string, depth: number): void => {
    const escape = escapeOf(appDir, p)
    if (escape) { onOutside(p, escape); return }
    let stat
    try { stat = statSync(p) } catch { hash.update(`${p}\0missing\0`); return }
    if (stat.isFile()) {
      if (++files > MAX_FILES) { hash.update(`${p}\0${stat.size}\0${stat.mtimeMs}\0`); return }
      try { hash.update(`${p}\0`).update(readFileSync(p)).update('\0') } catch { hash.update(`${p}\0unreadable\0`) }
      return
    }
    if (!stat.isDirectory() || depth > MAX_DEPTH) return
    let names: string[]
    try { names = readdirSync(p).filter((n) => !n.startsWith('.')).sort() } catch { hash.update(`${p}\0unreadable\0`); return }
    hash.update(`${p}/\0${names.length}\0`)
    for (const name of names) visit(join(p, name), depth + 1)
  }
  visit(path, 0)
  return hash.digest('hex')
}

/** Where in `config` a string names `target` (resolved against `base`), to locate a message about that path. */
export function whereInConfig(config: unknown, base: string, target: string): { at: string[]; written: string } | undefined {
  const visit = (value: unknown, at: string[]): { at: string[]; written: string } | undefined => {
    if (typeof value === 'string') return value && resolve(base, value) === target ? { at, written: value } : undefined
    if (typeof value !== 'object' || value === null) return undefined
    for (const [key, child] of Object.entries(value)) {
      const found = visit(child, [...at, key])
      if (found) return found
    }
    return undefined
  }
  return visit(config, [])
}
