// What `islet validate` remembers between calls about components that compiled: per entry, what its last successful
// build read and the hash of it (no code). A component whose inputs hash the same again compiled then, so compiles
// now: validate answers without starting esbuild (~50 ms for examples/orders). Kept in runtime/cache-dir.ts; the
// hash covers every input file, the bundled sdk and the compiler (compile-build.ts hashSources), so an edit, a new
// esbuild or a new sdk is a miss and a full compile, never a stale answer.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CACHE_DIR, storeCached } from '../cache-dir.ts'
import type { CompiledComponent, CompileInputs } from './compile-build.ts'

const RECORD_DIR = join(CACHE_DIR, 'component-builds')

export interface CompileRecord {
  hash: string
  bytes: number
  inputs: CompileInputs
}

const fileOf = (entry: string) => join(RECORD_DIR, `${createHash('sha256').update(resolve(entry)).digest('hex')}.json`)

/** The record of `entry`'s last successful build, or undefined (none, or unreadable). */
export async function readCompileRecord(entry: string): Promise<CompileRecord | undefined> {
  try {
    const stored = JSON.parse(await readFile(fileOf(entry), 'utf8')) as { hash: string; bytes: number; inputs: { entryKey: string; links: [string, string][]; files: CompileInputs['files'] } }
    return { hash: stored.hash, bytes: stored.bytes, inputs: { ...stored.inputs, links: new Map(stored.inputs.links) } }
  } catch {
    return undefined
  }
}

/** Records a successful build of `entry` (best effort, whole or not at all: see storeCached). */
export async function writeCompileRecord(entry: string, compiled: CompiledComponent, inputs: CompileInputs): Promise<void> {
  const record = { hash: compiled.hash, bytes: compiled.bytes, inputs: { ...inputs, links: [...inputs.links] } }
  await storeCached(fileOf(entry), JSON.stringify(record))
}
