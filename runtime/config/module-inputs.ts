// The files a module reads when it starts (a module type's `inputs`, e.g. a migrations folder), fingerprinted by
// content while the config loads: a changed input makes a changed module, so a config reload restarts it.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { InputsContext } from '@islet/sdk'
import type { ModuleInput } from './types.ts'

/** Inputs are config-sized: a folder holding more than this is fingerprinted by its listing past the cap. */
const MAX_FILES = 1_000
const MAX_DEPTH = 3

/**
 * The module's inputs, each with a sha256 over what it holds (a folder: its files' names and contents, dot-files
 * skipped). A missing input fingerprints as missing: creating it is a change too. The type's own errors are the
 * caller's to report.
 */
export function moduleInputs(type: { inputs?(config: unknown, ctx: InputsContext): string[] }, config: unknown,
  declaredIn: string): ModuleInput[] {
  if (typeof type.inputs !== 'function') return []
  const base = dirname(declaredIn)
  const paths = type.inputs(config, { resolvePath: (path) => resolve(base, path) })
  if (!Array.isArray(paths)) return []
  return [...new Set(paths.filter((p): p is string => typeof p === 'string').map((p) => resolve(base, p)))]
    .map((path) => ({ path, fingerprint: fingerprint(path) }))
}

function fingerprint(path: string): string {
  const hash = createHash('sha256')
  let files = 0
  const visit = (p: string, depth: number): void => {
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
