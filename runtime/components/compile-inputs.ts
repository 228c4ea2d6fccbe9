// The esbuild plugin that is the only way a file enters a component bundle: it resolves, checks, reads and counts.
import { realpath } from 'node:fs/promises'
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { Loader, OnLoadResult, OnResolveArgs, OnResolveResult, Plugin } from 'esbuild'
import type { Diagnostic, SourceLocation } from '../config/diagnostics.ts'
import type { ErrorCode } from '../errors.ts'
import { sdkBundle, SDK_BUNDLE_KEY, SDK_ENTRY } from './compile-sdk.ts'
import { readSource } from './read-source.ts'

// Every module lives in a namespace of ours, never esbuild's 'file': esbuild then never touches the disk itself (no
// tsconfig.json, package.json or node_modules lookups), and module paths are relative keys, so no host path ends up
// in the bundle (esbuild prints module paths as comments) and identical components compile to identical code.
export const NAMESPACES = { entry: 'islet-entry', component: 'component', sdk: 'islet-sdk' } as const

const LOADERS: Readonly<Record<string, Loader>> = { '.ts': 'ts', '.mts': 'ts', '.js': 'js', '.mjs': 'js', '.json': 'json' }
const ENTRY_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs']
const SDK_SPECIFIER = '@islet/sdk'

/** What a plugin error carries through esbuild (`detail` comes back untouched) to become a Diagnostic. */
export interface IssueDetail {
  code: ErrorCode
  hint: string
  /** Set when esbuild's own location (the import statement) is not the right place, e.g. for a file too large. */
  at?: SourceLocation
}

/** One file read into the bundle. `key` is what the hash covers: `component:<path from root>` or `sdk:<path>`. */
export interface SourceFile {
  key: string
  path: string
  isSdk: boolean
  bytes: Uint8Array
}

/** One build's inputs, filled in as esbuild asks for files. */
export interface InputState {
  /** Real path of the component folder. */
  root: string
  /** Real path of the entry, and its path relative to root. */
  entryPath: string
  entryKey: string
  sdkDir: string
  maxSourceBytes: number
  /** User bytes read (or reserved by a read in flight) so far. */
  sourceBytes: number
  isOverLimit: boolean
  files: SourceFile[]
  /** Each path followed to a file or folder → its real path: a symlink can be retargeted with no content changing. */
  links: Map<string, string>
}

let sdkDir: Promise<string> | undefined

/** Finds the entry and the component folder, both by real path, or says why it cannot be compiled. */
export async function createInputState(entry: string, maxSourceBytes: number): Promise<InputState | Diagnostic> {
  const path = resolve(entry)
  const at = { file: path, line: 1, col: 1 }
  const refuse = (code: ErrorCode, message: string, hint: string): Diagnostic =>
    ({ ...at, severity: 'error', code, path: '', message, hint })
  const [root, entryPath] = await Promise.all([realpath(dirname(path)).catch(() => ''), realpath(path).catch(() => '')])
  if (!root || !entryPath) return refuse('ERR_COMPONENT_SOURCE_NOT_FOUND', `component entry ${path} does not exist`, 'check the path in the app config')
  if (!isInside(root, entryPath)) {
    return refuse('ERR_COMPONENT_IMPORT', `the entry is a symlink to ${entryPath}, outside the component folder ${root}`,
      'a component is one folder: put the entry file in it')
  }
  if (!ENTRY_EXTENSIONS.includes(extname(entryPath))) {
    return refuse('ERR_COMPONENT_IMPORT', `the entry ${path} is not a .ts, .mts, .js or .mjs file`, 'point the config at the component\'s index.ts')
  }
  sdkDir ??= realpath(SDK_ENTRY).then(dirname)
  return {
    root, entryPath, entryKey: keyOf(root, entryPath), sdkDir: await sdkDir, maxSourceBytes,
    sourceBytes: 0, isOverLimit: false, files: [], links: new Map([[dirname(path), root], [path, entryPath]]),
  }
}

/** The plugin: resolves every import itself and refuses, with the import's location, whatever is not allowed. */
export function inputPlugin(state: InputState): Plugin {
  return {
    name: 'islet-component-inputs',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => resolveImport(state, args))
      // The virtual entry re-exports only the default: esbuild itself then reports a missing default export (the
      // importer is JS, where a missing export is an error, not a TypeScript type), and other exports tree-shake away.
      build.onLoad({ filter: /.*/, namespace: NAMESPACES.entry }, () =>
        ({ contents: `export { default } from ${JSON.stringify(state.entryKey)}\n`, loader: 'js' }))
      build.onLoad({ filter: /.*/, namespace: NAMESPACES.component }, (args) => loadComponentFile(state, args.path))
      build.onLoad({ filter: /.*/, namespace: NAMESPACES.sdk }, (args) => loadSdkFile(state, args.path))
    },
  }
}

function refuse(code: ErrorCode, text: string, hint: string, at?: SourceLocation): OnResolveResult & OnLoadResult {
  return { errors: [{ text, detail: { code, hint, at } satisfies IssueDetail }] }
}

async function resolveImport(state: InputState, args: OnResolveArgs): Promise<OnResolveResult> {
  const spec = args.path
  if (args.kind === 'entry-point') return { path: 'entry', namespace: NAMESPACES.entry }
  if (args.namespace === NAMESPACES.entry) return { path: state.entryKey, namespace: NAMESPACES.component }
  if (args.kind === 'require-call' || args.kind === 'require-resolve') {
    return refuse('ERR_COMPONENT_IMPORT', `require(${JSON.stringify(spec)}) is not available: components are ES modules in a sandbox with no Node APIs`,
      `use a static import of '${SDK_SPECIFIER}' or of a file in the component folder`)
  }
  if (args.kind === 'dynamic-import') {
    const isImportable = spec === SDK_SPECIFIER || spec.startsWith('./') || spec.startsWith('../')
    return refuse('ERR_COMPONENT_IMPORT', `import(${JSON.stringify(spec)}) is not allowed: a component is bundled ahead of time, so every import is static`,
      isImportable ? `import it statically at the top of the file: import x from ${JSON.stringify(spec)}`
        : `only ${SDK_SPECIFIER} and files of the component folder can be imported, and only statically`)
  }
  if (args.kind !== 'import-statement') return refuse('ERR_COMPONENT_IMPORT', `${args.kind} ${JSON.stringify(spec)} is not allowed in a component`, 'use import statements')
  const attributes = Object.entries(args.with)
  const isJsonAttribute = attributes.length === 1 && attributes[0][0] === 'type' && attributes[0][1] === 'json'
  if (attributes.length > 0 && !(isJsonAttribute && extname(spec) === '.json')) {
    return refuse('ERR_COMPONENT_IMPORT', `imports ${spec} with ${JSON.stringify(args.with)}: the only import attribute allowed is { type: 'json' }, on a .json file`,
      'drop the import attributes')
  }
  if (spec === SDK_SPECIFIER) return { path: SDK_BUNDLE_KEY, namespace: NAMESPACES.sdk }
  const isRelative = spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../')
  // The sdk arrives bundled (compile-sdk.ts): an import left in it would not work inside an isolate.
  if (args.namespace === NAMESPACES.sdk) return refuse('ERR_COMPONENT_IMPORT', `@islet/sdk imports ${spec}, which cannot be bundled into a sandbox`, 'this is an Islet bug: report it')
  if (isAbsolute(spec)) {
    return refuse('ERR_COMPONENT_IMPORT', `imports ${spec}: a component imports its own files by relative path`,
      'write the path relative to the importing file, e.g. \'./lib/helper.ts\'')
  }
  if (!isRelative) {
    return refuse('ERR_COMPONENT_IMPORT', `imports ${spec}: only ${SDK_SPECIFIER} may be imported; components run in a sandbox with no Node APIs`,
      `use ${SDK_SPECIFIER} and the component context instead: ctx.fetch, ctx.kv, ctx.log; or copy the code into the component folder`)
  }
  return resolveRelative(state, spec, dirname(join(state.root, args.importer)))
}

async function resolveRelative(state: InputState, spec: string, fromDir: string): Promise<OnResolveResult> {
  const target = resolve(fromDir, spec)
  if (!isInside(state.root, target)) {
    return refuse('ERR_COMPONENT_IMPORT', `imports ${spec}, outside the component folder ${state.root}`,
      'a component is one folder: copy the shared code into it or a subfolder')
  }
  // No probing for extensions or index files (as Node's own ESM resolver): what an import means then depends only on
  // its text and the file it names, which keeps the compile cache's re-check exact. A near miss gets a hint instead.
  if (!(extname(target) in LOADERS)) {
    const candidate = await findCandidate(target)
    if (extname(target) !== '' && !candidate) {
      return refuse('ERR_COMPONENT_IMPORT', `imports ${spec}: only .ts, .mts, .js, .mjs and .json files can be part of a component`,
        'WebAssembly, native addons, text and other files cannot be loaded into the sandbox; embed data as a .ts or .json module')
    }
    return refuse('ERR_COMPONENT_IMPORT', `imports ${spec} without its file extension`, suggest(fromDir, candidate))
  }
  let real: string
  try {
    real = await realpath(target)
  } catch {
    return refuse('ERR_COMPONENT_SOURCE_NOT_FOUND', `imports ${spec}, which does not exist`, suggest(fromDir, await findCandidate(target)))
  }
  if (!isInside(state.root, real)) {
    return refuse('ERR_COMPONENT_IMPORT', `imports ${spec}, a symlink to ${real}, outside the component folder ${state.root}`,
      'a component is one folder: copy the file into it instead of linking it')
  }
  if (!(extname(real) in LOADERS)) {
    return refuse('ERR_COMPONENT_IMPORT', `imports ${spec}, a symlink to ${keyOf(state.root, real)}: only .ts, .mts, .js, .mjs and .json files can be part of a component`,
      'link to a source file, or copy it')
  }
  state.links.set(target, real)
  return { path: keyOf(state.root, real), namespace: NAMESPACES.component }
}

async function loadComponentFile(state: InputState, key: string): Promise<OnLoadResult> {
  // Once over the cap, stop reading: the crossing file was reported; the rest of the graph would only add noise.
  if (state.isOverLimit) return { contents: '', loader: 'js' }
  const path = join(state.root, key)
  const at = { file: path, line: 1, col: 1 }
  const read = await readSource(path, state.maxSourceBytes - state.sourceBytes, (reserved) => { state.sourceBytes += reserved })
  if (read === 'too-large') {
    state.isOverLimit = true
    return refuse('ERR_COMPONENT_TOO_LARGE', `component sources exceed the ${state.maxSourceBytes}-byte limit at ${key}`,
      'keep data out of the code with ctx.fetch or ctx.kv, or split the component', at)
  }
  if (typeof read === 'string') return refuse('ERR_COMPONENT_SOURCE_NOT_FOUND', `cannot read ${key}: ${read}`, 'check the file and compile again', at)
  state.files.push({ key: `component:${key}`, path, isSdk: false, bytes: read })
  return { contents: read, loader: LOADERS[extname(path)] }
}

async function loadSdkFile(state: InputState, key: string): Promise<OnLoadResult> {
  const read = await readSdk()
  if (typeof read === 'string') return refuse('ERR_COMPONENT_SOURCE_NOT_FOUND', `cannot bundle @islet/sdk: ${read}`, 'reinstall Islet')
  state.files.push({ key: `sdk:${key}`, path: SDK_ENTRY, isSdk: true, bytes: read })
  return { contents: read, loader: 'js' }
}

/** The bundled sdk's bytes, or why there are none. */
export function readSdk(): Promise<Uint8Array | string> {
  return sdkBundle().catch((error: unknown) => (error instanceof Error ? error.message : String(error)))
}

/** A hint naming the file an extension-less or misspelled import probably meant. */
function suggest(fromDir: string, candidate: string | undefined): string {
  if (!candidate) return 'name the file with its extension, e.g. \'./lib/helper.ts\''
  const rel = relative(fromDir, candidate).split(sep).join('/')
  return `did you mean '${rel.startsWith('../') ? rel : `./${rel}`}'?`
}

/** `x.js` → `x.ts`; `x` → `x.ts`, `x.mts`, `x.js`, `x.mjs`, `x/index.ts`: the first that exists. */
async function findCandidate(target: string): Promise<string | undefined> {
  const options = /\.m?js$/.test(target) ? [target.replace(/\.(m?)js$/, '.$1ts')]
    : [...ENTRY_EXTENSIONS.map((extension) => target + extension), join(target, 'index.ts')]
  for (const option of options) if (await realpath(option).then(() => true, () => false)) return option
  return undefined
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)
}

function keyOf(dir: string, path: string): string {
  return relative(dir, path).split(sep).join('/')
}
