// Compiling components: compileComponent, and the cache the host compiles through (keyed by content hash).
import { realpath } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  buildComponent, hashSources, keepCompilerWarm, DEFAULT_MAX_BUNDLE_BYTES, DEFAULT_MAX_SOURCE_BYTES,
  type CompiledComponent, type CompileInputs, type CompileOptions,
} from './compile-build.ts'
import { createBuildContexts } from './compile-context.ts'
import { readSdk } from './compile-inputs.ts'
import { readBundle, readCompileRecord, writeCompileRecord } from './compile-record.ts'
import { readSource } from './read-source.ts'

export { ComponentCompileError } from './compile-diagnostics.ts'
export type { CompiledComponent, CompileOptions } from './compile-build.ts'
export { DEFAULT_MAX_BUNDLE_BYTES, DEFAULT_MAX_SOURCE_BYTES, keepCompilerWarm } from './compile-build.ts'

/**
 * Bundles `entry` with the relative imports of its folder and `@islet/sdk` into one script for `compileScript`.
 * Checks syntax and imports, not types (esbuild strips types unchecked: type errors are the editor's and `tsc`'s
 * job). Throws ComponentCompileError with every problem found, each located.
 */
export async function compileComponent(entry: string, options: CompileOptions = {}): Promise<CompiledComponent> {
  return (await buildComponent(entry, options)).compiled
}

/**
 * Whether `entry` compiles (with the default caps), as compileComponent decides: throws the same ComponentCompileError.
 * Without esbuild when the entry's last successful build, recorded on disk (compile-record.ts), read exactly the
 * files it would read now; otherwise it compiles, and records a success. For `islet validate`, which needs the
 * verdict, not the code.
 */
export async function checkComponent(entry: string): Promise<void> {
  const record = await readCompileRecord(entry)
  if (record && await stillStands(record.hash, record.bytes, record.inputs)) return
  const { compiled, inputs } = await buildComponent(entry)
  await writeCompileRecord(entry, compiled, inputs)
}

export interface CompileCache {
  /** compileComponent, unless the entry's inputs hash to what was compiled last time. */
  compile(entry: string, options?: CompileOptions): Promise<CompiledComponent>
  clear(): void
  /**
   * Drops the entry's build (and its esbuild context): the host calls it when no generation uses the entry any more.
   * Each slot version is its own folder, so without it every version ever promoted would stay in memory (code, source
   * map, inputs). A later compile of the entry reads its record from the disk again (no esbuild when unchanged).
   */
  forget(entry: string): void
  /** Disposes the esbuild contexts kept for entries built more than once (see compile-context.ts). */
  close(): Promise<void>
  /** Distinct compiled components held (components with identical sources count once). */
  readonly size: number
}

interface EntryRecord {
  inputs: CompileInputs
  compiled: CompiledComponent
}

/**
 * A host-side compile cache keyed by content hash, never stale: every call re-checks the last build's inputs first.
 * The check: every path the last build followed must lead to the same real file, and every file it read
 * is read again and hashed. Imports resolve from their text alone (no extension probing), so unchanged files mean an
 * unchanged import graph; any change at all, including an edit that adds an import, is a miss and a full compile.
 * Builds are also kept on disk (compile-record.ts): an entry compiled in no earlier call of this cache is loaded from
 * there when its inputs hash as they did, without esbuild (`islet run` on unchanged components starts no esbuild).
 */
export function createCompileCache(): CompileCache {
  const byEntry = new Map<string, EntryRecord>()
  /** hash → code and source map, shared by every entry with that hash, so identical components hold one copy. */
  const byHash = new Map<string, { code: string; map: string; entries: Set<string> }>()
  const inFlight = new Map<string, Promise<CompiledComponent>>()
  // A reload builds its entry again: on a kept esbuild context from the second build on.
  const contexts = createBuildContexts(keepCompilerWarm)

  function remember(entry: string, record: EntryRecord): CompiledComponent {
    forget(entry)
    let shared = byHash.get(record.compiled.hash)
    if (!shared) byHash.set(record.compiled.hash, shared = { code: record.compiled.code, map: record.compiled.map, entries: new Set() })
    shared.entries.add(entry)
    record.compiled.code = shared.code
    record.compiled.map = shared.map
    byEntry.set(entry, record)
    return record.compiled
  }

  function forget(entry: string): void {
    const hash = byEntry.get(entry)?.compiled.hash
    byEntry.delete(entry)
    if (hash === undefined) return
    const shared = byHash.get(hash)
    if (shared?.entries.delete(entry) && shared.entries.size === 0) byHash.delete(hash)
  }

  async function compileOnce(key: string, options: CompileOptions): Promise<CompiledComponent> {
    const record = byEntry.get(key)
    if (record && await stillStands(record.compiled.hash, record.compiled.bytes, record.inputs, options)) return record.compiled
    // The disk only for an entry this cache has not compiled yet (start-up): after that, memory has the latest build,
    // and a reload's edit is a miss there, so reading the disk first would only delay its build.
    if (!record) {
      const stored = await fromDisk(key, options)
      if (stored) return remember(key, stored)
    }
    // A failed compile throws here and keeps the previous record: if the edit is undone, that record is right again.
    const built = await buildComponent(key, options, contexts)
    await writeCompileRecord(key, built.compiled, built.inputs)
    return remember(key, built)
  }

  /** The entry's last build from the disk, when every input it read hashes as it did then; else undefined. */
  async function fromDisk(key: string, options: CompileOptions): Promise<EntryRecord | undefined> {
    const started = performance.now()
    const record = await readCompileRecord(key)
    if (!record || record.entry === undefined || record.root === undefined) return undefined
    // The links cover the entry and its folder: an unchanged hash means record.entry and record.root are still right.
    if (!await stillStands(record.hash, record.bytes, record.inputs, options)) return undefined
    const bundle = byHash.get(record.hash) ?? await readBundle(record)
    if (!bundle) return undefined
    const compiled: CompiledComponent = {
      entry: record.entry, root: record.root, hash: record.hash, code: bundle.code, bytes: record.bytes, map: bundle.map,
      files: record.inputs.files.filter((file) => !file.isSdk).map((file) => file.path).sort(),
      durationMs: performance.now() - started,
    }
    return { inputs: record.inputs, compiled }
  }

  return {
    async compile(entry, options = {}) {
      const key = resolve(entry)
      // One compile per entry at a time: one arriving meanwhile waits, then re-checks (a hit if nothing moved since).
      for (let running = inFlight.get(key); running; running = inFlight.get(key)) await running.catch(() => {})
      const run = compileOnce(key, options)
      inFlight.set(key, run)
      try {
        return await run
      } finally {
        if (inFlight.get(key) === run) inFlight.delete(key)
      }
    },
    clear() {
      byEntry.clear()
      byHash.clear()
    },
    forget(entry) {
      const key = resolve(entry)
      forget(key)
      contexts.forget(key)
    },
    close: () => contexts.close(),
    get size() {
      return byHash.size
    },
  }
}

/** The hash the inputs of a previous build have now, or undefined when a path moved, a file went or the cap is hit. */
/** Whether a build (its hash, size and inputs) is still what compiling would give: under the bundle cap, inputs unchanged. */
async function stillStands(hash: string, bytes: number, inputs: CompileInputs, options: CompileOptions = {}): Promise<boolean> {
  return bytes <= (options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES)
    && await currentHash(inputs, options.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES) === hash
}

async function currentHash(inputs: CompileInputs, maxSourceBytes: number): Promise<string | undefined> {
  const links = await Promise.all([...inputs.links].map(async ([path, real]) => await realpath(path).catch(() => undefined) === real))
  if (links.includes(false)) return undefined
  // Each read is capped on its own and the total checked after: the files were under the cap at the last build.
  const reads = await Promise.all(inputs.files.map((file) => file.isSdk ? readSdk() : readSource(file.path, maxSourceBytes, () => {})))
  const files = []
  let sourceBytes = 0
  for (const [i, bytes] of reads.entries()) {
    if (typeof bytes === 'string') return undefined
    if (!inputs.files[i].isSdk) sourceBytes += bytes.length
    files.push({ key: inputs.files[i].key, bytes })
  }
  return sourceBytes <= maxSourceBytes ? hashSources(inputs.entryKey, files) : undefined
}
