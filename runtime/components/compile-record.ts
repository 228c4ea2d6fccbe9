// What is remembered on disk between runs about components that compiled, in runtime/cache-dir.ts:
// - per entry, what its last successful build read and the hash of it (a record): a component whose inputs hash the
//   same again compiled then, so compiles now. `islet validate` answers from the record alone, without esbuild (~50 ms
//   for examples/orders);
// - per content hash, the bundle that build produced (code and source map): `islet run` and `islet dev` start from it
//   without esbuild (no esbuild service process at all when every bundle is cached).
// The hash covers every input file, the bundled sdk and the compiler (compile-build.ts hashSources), so an edit, a new
// esbuild or a new sdk is a miss and a full compile, never a stale answer. A bundle is only ever read through a
// record whose inputs were re-hashed just before, and is checked against the sha256 of its code the record keeps.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CACHE_DIR, storeCached } from '../cache-dir.ts'
import type { CompiledComponent, CompileInputs } from './compile-build.ts'

const RECORD_DIR = join(CACHE_DIR, 'component-builds')
const BUNDLE_DIR = join(CACHE_DIR, 'component-bundles')

export interface CompileRecord {
  hash: string
  bytes: number
  inputs: CompileInputs
  /** Real paths of the entry and its folder when the record was written (a bundle is loaded only with them). */
  entry?: string
  root?: string
  /** sha256 of the bundle's code, checked when the bundle is read back. */
  codeHash?: string
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
/** The record's file: named by the entry's absolute path, so each entry (even with identical sources) has its own. */
const recordFileOf = (entry: string) => join(RECORD_DIR, `${sha256(resolve(entry))}.json`)
const bundleFileOf = (hash: string) => join(BUNDLE_DIR, `${hash}.json`)

/** The record of `entry`'s last successful build, or undefined (none, or unreadable). */
export async function readCompileRecord(entry: string): Promise<CompileRecord | undefined> {
  try {
    const stored = JSON.parse(await readFile(recordFileOf(entry), 'utf8')) as Omit<CompileRecord, 'inputs'> & { inputs: { entryKey: string; links: [string, string][]; files: CompileInputs['files'] } }
    return { ...stored, inputs: { ...stored.inputs, links: new Map(stored.inputs.links) } }
  } catch {
    return undefined
  }
}

/** Records a successful build of `entry` and keeps its bundle (best effort, each file whole or not at all: see storeCached). */
export async function writeCompileRecord(entry: string, compiled: CompiledComponent, inputs: CompileInputs): Promise<void> {
  const codeHash = sha256(compiled.code)
  const record = {
    hash: compiled.hash, bytes: compiled.bytes, inputs: { ...inputs, links: [...inputs.links] },
    entry: compiled.entry, root: compiled.root, codeHash,
  }
  // The bundle first: a record never names a bundle that is not there yet (a reader would only miss, but needlessly).
  await storeCached(bundleFileOf(compiled.hash), JSON.stringify({ code: compiled.code, map: compiled.map }))
  await storeCached(recordFileOf(entry), JSON.stringify(record))
}

/** The bundle `record` names, if it is on disk and its code is the one the record was written for. */
export async function readBundle(record: CompileRecord): Promise<{ code: string; map: string } | undefined> {
  if (record.codeHash === undefined) return undefined
  try {
    const stored = JSON.parse(await readFile(bundleFileOf(record.hash), 'utf8')) as { code: unknown; map: unknown }
    if (typeof stored.code !== 'string' || typeof stored.map !== 'string' || sha256(stored.code) !== record.codeHash) return undefined
    return { code: stored.code, map: stored.map }
  } catch {
    return undefined
  }
}
