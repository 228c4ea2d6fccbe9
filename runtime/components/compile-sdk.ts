// @islet/sdk as one ES module, bundled once per process and handed to every component build: one module in place of
// the sdk's files saves each compile (so each reload) an esbuild round trip, a read and a parse per sdk file.
import { realpath } from 'node:fs/promises'
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { readSource } from './read-source.ts'

export const SDK_ENTRY = fileURLToPath(new URL('../../sdk/index.ts', import.meta.url))
/** What the bundle is called in component builds, their diagnostics and their hashes (`sdk:index.js`). */
export const SDK_BUNDLE_KEY = 'index.js'
const NAMESPACE = 'islet-sdk'

let bundle: Promise<Uint8Array> | undefined

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
