// One component build: esbuild's options, the script wrapped around its output, and the content hash.
import { createHash } from 'node:crypto'
import type * as esbuild from 'esbuild'
import { ComponentCompileError, ESCALATED_MESSAGE_IDS, diagnosticsOf } from './compile-diagnostics.ts'
import type { BuildContexts } from './compile-context.ts'
import { createInputState, inputPlugin, type InputState, type SourceFile } from './compile-inputs.ts'
import { ESBUILD_VERSION } from './compile-sdk.ts'

export interface CompileOptions {
  /** Cap on the component's own files, all together (the sdk does not count); default 512 KiB. */
  maxSourceBytes?: number
  /** Cap on the produced script; default 1 MiB. */
  maxBundleBytes?: number
}

export interface CompiledComponent {
  /** Absolute real path of the entry file. */
  entry: string
  /** The component's folder (real path of the entry's folder): no import may leave it. */
  root: string
  /** sha256 hex over each input's path (relative to root, or within the sdk) and content, the entry and the compiler. */
  hash: string
  /** A script (not a module) whose completion value is the component definition; it declares no globals. */
  code: string
  /** UTF-8 size of `code`. */
  bytes: number
  /**
   * Source map (v3 JSON text, no sourcesContent) of `code`'s bundle: sources are `component:<path from root>` and
   * `islet-sdk:…`. Host side only: it never enters the sandbox; the engine maps guest stack frames through it.
   */
  map: string
  /** Absolute paths of the component's own input files, sorted (sdk files excluded). */
  files: string[]
  durationMs: number
}

/** What one build read, for the cache to re-check: every path it followed and every file it read. */
export interface CompileInputs {
  entryKey: string
  links: ReadonlyMap<string, string>
  files: readonly { key: string; path: string; isSdk: boolean }[]
}

export const DEFAULT_MAX_SOURCE_BYTES = 512 * 1024
export const DEFAULT_MAX_BUNDLE_BYTES = 1024 * 1024

const GLOBAL_NAME = '__islet_component'
// Evaluated as a script, this is one call expression, so its completion value is the definition. esbuild's `var`
// for the global name lands inside the function, so nothing is declared globally. "use strict" puts back the
// strictness the ES modules had (an iife is sloppy by default: `x = 1` would create a global). No newline after the
// prologue: line N of esbuild's output is line N of the script, as guest stack traces report it.
export const PROLOGUE = '(function(){"use strict";'
const EPILOGUE = `\nreturn ${GLOBAL_NAME}.default;})()`

const BUILD_OPTIONS = {
  bundle: true,
  write: false,
  format: 'iife',
  globalName: GLOBAL_NAME,
  platform: 'neutral',
  target: 'es2024',
  treeShaking: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'silent',
  logLimit: 0,
  // External (no sourceMappingURL comment in the code): the map stays with the host, see CompiledComponent.map.
  sourcemap: 'external',
  sourcesContent: false,
  // Never written (write: false); esbuild needs an output name to produce an external map.
  outfile: 'component.js',
  keepNames: true,
  define: {},
  // Fixed, since esbuild reads no tsconfig.json of ours (see compile-inputs.ts). verbatimModuleSyntax keeps every
  // import that is not `import type`, so `import fs from 'fs'` is refused even when `fs` is unused.
  tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  logOverride: Object.fromEntries(ESCALATED_MESSAGE_IDS.map((id) => [id, 'error' as const])),
} satisfies esbuild.BuildOptions

// Bump when the plugin's output changes (the virtual entry, namespaces, loaders, the sdk bundle): hashes must follow the code.
const REVISION = 3
const COMPILER_ID = JSON.stringify({ REVISION, esbuild: ESBUILD_VERSION, options: BUILD_OPTIONS, PROLOGUE, EPILOGUE })

/**
 * Compiles a component; also returns what the build read, for the cache to re-check. With `contexts`, an entry built
 * before is rebuilt on the esbuild context kept for it (compile-context.ts).
 */
export async function buildComponent(entry: string, options: CompileOptions = {}, contexts?: BuildContexts): Promise<{ compiled: CompiledComponent; inputs: CompileInputs }> {
  const started = performance.now()
  const maxBundleBytes = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES
  const state = await createInputState(entry, options.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES)
  if (!('root' in state)) throw new ComponentCompileError(state.file, [state])
  const output = await bundle(state, contexts)
  const code = PROLOGUE + output.code + EPILOGUE
  const bytes = Buffer.byteLength(code)
  if (bytes > maxBundleBytes) {
    throw new ComponentCompileError(state.entryPath, [{
      file: state.entryPath, line: 1, col: 1, severity: 'error', code: 'ERR_COMPONENT_TOO_LARGE', path: '',
      message: `the compiled component is ${bytes} bytes, over the ${maxBundleBytes}-byte limit`,
      hint: 'import less, keep data out of the code with ctx.fetch or ctx.kv, or split the component',
    }])
  }
  const compiled: CompiledComponent = {
    entry: state.entryPath,
    root: state.root,
    hash: hashSources(state.entryKey, state.files),
    code,
    bytes,
    map: output.map,
    files: state.files.filter((file) => !file.isSdk).map((file) => file.path).sort(),
    durationMs: performance.now() - started,
  }
  const files = state.files.map(({ key, path, isSdk }) => ({ key, path, isSdk }))
  return { compiled, inputs: { entryKey: state.entryKey, links: state.links, files } }
}

/** The content hash: the same sources (by path within their folder), entry and compiler always give the same code. */
export function hashSources(entryKey: string, files: readonly Pick<SourceFile, 'key' | 'bytes'>[]): string {
  const hash = createHash('sha256').update(COMPILER_ID).update(`\0entry\0${entryKey}`)
  // Length-prefixed, so no two different input sets can produce the same byte stream.
  for (const file of [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    hash.update(`\0${file.key}\0${file.bytes.length}\0`).update(file.bytes)
  }
  return hash.digest('hex')
}

// esbuild's service is a process of its own (~12 MB resident) that it keeps running, idle, once started. A process
// that only compiles at start (`islet run`, every bundle built once) stops it COMPILER_IDLE_MS after its last build;
// a later build starts a new one. Never while a build runs, once esbuild holds contexts (compile-context.ts: they
// live in that process), or where reloads are expected (keepCompilerWarm: watch mode, whose saves must not wait).
const COMPILER_IDLE_MS = 1000
let building = 0
let keepWarm = false
let idleTimer: NodeJS.Timeout | undefined

/** Keeps esbuild's service running between builds from now on (watch mode, or once a context is made). */
export function keepCompilerWarm(): void {
  keepWarm = true
  clearTimeout(idleTimer)
}

/**
 * Stops esbuild's service for good, whatever holds it: the engine stopped, nothing will compile again. Contexts a
 * generation left behind (one whose reload was rejected) would otherwise keep the service, and with it the
 * process, alive. Loads nothing when no build ever ran.
 */
export async function stopCompiler(): Promise<void> {
  keepWarm = false
  clearTimeout(idleTimer)
  if (built) await (await import('esbuild')).stop()
}

/** Whether a build ever ran here (only then is there a service to stop). */
let built = false

function compilerIdle(esb: typeof esbuild): void {
  if (--building > 0 || keepWarm) return
  clearTimeout(idleTimer)
  idleTimer = setTimeout(() => { if (building === 0 && !keepWarm) void esb.stop() }, COMPILER_IDLE_MS)
  idleTimer.unref()
}

async function bundle(state: InputState, contexts: BuildContexts | undefined): Promise<{ code: string; map: string }> {
  // Loaded with the first build: checking a compile record (compile-record.ts) needs none.
  const esbuild = await import('esbuild')
  built = true
  const options = { ...BUILD_OPTIONS, absWorkingDir: state.root, entryPoints: ['entry'] }
  building++
  clearTimeout(idleTimer)
  try {
    const result = contexts ? await contexts.build(esbuild, `${state.root}\0${state.entryPath}`, options, inputPlugin(state))
      : await esbuild.build({ ...options, plugins: [inputPlugin(state)] })
    const isMap = (file: esbuild.OutputFile) => file.path.endsWith('.map')
    const files = result.outputFiles ?? []
    return { code: files.find((f) => !isMap(f))!.text, map: files.find(isMap)?.text ?? '' }
  } catch (error) {
    if (isBuildFailure(error)) throw new ComponentCompileError(state.entryPath, diagnosticsOf(error.errors, state))
    throw error
  } finally {
    compilerIdle(esbuild)
  }
}

function isBuildFailure(error: unknown): error is esbuild.BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<esbuild.BuildFailure>).errors)
}
