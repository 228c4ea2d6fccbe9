// @islet/sdk as one ES module, bundled once per process and handed to every component build: one module in place of
// the sdk's files saves each compile (so each reload) an esbuild round trip, a read and a parse per sdk file.
//
// The bundle is also kept on disk (runtime/cache-dir.ts), named by a hash of esbuild's version, this file (the build
// options) and every file of the sdk folder: `islet validate` on unchanged components then starts no esbuild at all
// (see compile-record.ts), and a changed sdk, option or esbuild is a new name.
import { createHash } from 'node:crypto'
import { readdir, readFile, realpath } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CACHE_DIR, storeCached } from '../cache-dir.ts'
import { readSource } from './read-source.ts'

export const SDK_ENTRY = fileURLToPath(new URL('../../sdk/index.ts', import.meta.url))
/** What the bundle is called in component builds, their diagnostics and their hashes (`sdk:index.js`). */
export const SDK_BUNDLE_KEY = 'index.js'
const NAMESPACE = 'islet-sdk'

let bundle: Promise<Uint8Array> | undefined

/** esbuild's version, from its package.json: naming a build's output must not cost loading esbuild. */
export const ESBUILD_VERSION = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version
const SDK_CACHE_DIR = join(CACHE_DIR, 'sdk-bundle')

/**
 * The bundled sdk. Built once: the sdk is part of the running engine (its host side is loaded once as well), so a
 * changed sdk takes a restart either way. A failed build is not remembered.
 */
export function sdkBundle(): Promise<Uint8Array> {
  bundle ??= build().catch((error: unknown) => {
    bundle = undefined
    throw error
  })
  return bundle
}

async function build(): Promise<Uint8Array> {
  const dir = dirname(await realpath(SDK_ENTRY))
  const stored = join(SDK_CACHE_DIR, `${await keyOf(dir)}.js`)
  const cached = await readFile(stored).catch(() => undefined)
  if (cached) return new Uint8Array(cached.buffer, cached.byteOffset, cached.byteLength)
  const bytes = await esbuildSdk(dir)
  // Best effort: a failure only means building again next time.
  await storeCached(stored, bytes)
  return bytes
}

/** sha256 over esbuild's version, this file, and every file under the sdk folder (a superset of what the build reads). */
async function keyOf(dir: string): Promise<string> {
  const hash = createHash('sha256').update(`esbuild ${ESBUILD_VERSION}\0`).update(await readFile(fileURLToPath(import.meta.url)))
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files = entries.filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name))).sort()
  for (const file of files) {
    const bytes = await readFile(join(dir, file))
    hash.update(`\0${file}\0${bytes.length}\0`).update(bytes)
  }
  return hash.digest('hex')
}

async function esbuildSdk(dir: string): Promise<Uint8Array> {
  const esbuild = await import('esbuild')
  // Its own namespace, as for components: esbuild reads no tsconfig.json or package.json, and module comments in the
  // output name sdk files by their path within the sdk, never a host path.
  const result = await esbuild.build({
    entryPoints: ['index.ts'], absWorkingDir: dir, bundle: true, write: false, format: 'esm', platform: 'neutral',
    target: 'es2024', charset: 'utf8', legalComments: 'none', logLevel: 'silent', keepNames: true,
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
    plugins: [{
      name: 'islet-sdk-bundle',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === 'entry-point') return { path: 'index.ts', namespace: NAMESPACE }
          const target = resolve(dirname(join(dir, args.importer)), args.path)
          const rel = relative(dir, target)
          const isInside = rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel)
          // The sdk is ours; this only guards against it growing an import that would not work inside an isolate.
          if (!/^\.\.?\//.test(args.path) || !isInside || !['.ts', '.js'].includes(extname(target))) {
            return { errors: [{ text: `@islet/sdk imports ${args.path}, which cannot be bundled into a sandbox; this is an Islet bug: report it` }] }
          }
          return { path: rel.split(sep).join('/'), namespace: NAMESPACE }
        })
        b.onLoad({ filter: /.*/, namespace: NAMESPACE }, async (args) => {
          const read = await readSource(join(dir, args.path), Number.MAX_SAFE_INTEGER, () => {})
          if (typeof read === 'string') return { errors: [{ text: `cannot read the sdk file ${args.path}: ${read}; reinstall Islet` }] }
          return { contents: read, loader: extname(args.path) === '.ts' ? 'ts' : 'js' }
        })
      },
    }],
  })
  return result.outputFiles[0].contents
}
