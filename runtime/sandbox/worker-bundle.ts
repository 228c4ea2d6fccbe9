// The sandbox worker's code as one plain JavaScript file, built from worker.ts and what it imports (ours, types
// stripped; packages stay imports) and kept in the cache folder. Why: a worker runs without Node's compile cache
// (worker-process.ts), so loading its .ts modules loads Node's type stripper (a WebAssembly build of swc) into every
// worker: ~17 MB resident per worker process and ~40 ms of its start, spent on every worker start and restart.
// The bundle is named by a hash of the files it was built from (listed beside it), so an edit is a rebuild, never a
// stale hit. The engine writes it; a worker only reads it (it has no write permission), so a taken-over worker
// cannot plant code for the next one. Wherever it cannot be built or stored, workers load worker.ts as before.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CACHE_DIR, PACKAGE_ROOT, storeCachedSync } from '../cache-dir.ts'

const ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url))
const SDK = fileURLToPath(new URL('../../sdk/index.ts', import.meta.url))
const FOLDER = join(CACHE_DIR, 'worker')
/** The files the latest bundle was built from (relative to the package root), one per line. */
const INPUTS = join(FOLDER, 'inputs.txt')

/** The bundle's path, built first if missing or stale; undefined when it cannot be (then: worker.ts). Once per engine. */
export function workerBundle(): string | undefined {
  if (built === undefined) {
    try {
      built = current() ?? build() ?? ''
    } catch {
      built = ''
    }
  }
  return built || undefined
}
let built: string | undefined

/** What every bundle depends on besides its inputs' contents (bump REVISION when the build options change). */
const REVISION = 1
const ID = `${process.version}\n${REVISION}`

const bundleOf = (inputs: readonly string[]): string | undefined => {
  const hash = createHash('sha256').update(ID)
  for (const input of inputs) {
    const file = resolve(PACKAGE_ROOT, input)
    if (!existsSync(file)) return undefined
    hash.update(`\0${input}\0`).update(readFileSync(file))
  }
  return join(FOLDER, `worker-${hash.digest('hex').slice(0, 20)}.mjs`)
}

/** The bundle the recorded inputs name, when it exists: their contents unchanged since it was built. */
function current(): string | undefined {
  if (!existsSync(INPUTS)) return undefined
  const file = bundleOf(readFileSync(INPUTS, 'utf8').split('\n').filter(Boolean))
  return file && existsSync(file) ? file : undefined
}

function build(): string | undefined {
  // Synchronous and short-lived (esbuild's binary runs once and exits): no esbuild service is started for this.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild')
  const result = esbuild.buildSync({
    entryPoints: [ENTRY], bundle: true, format: 'esm', platform: 'node', target: 'node24', write: false, metafile: true,
    outfile: join(FOLDER, 'worker.mjs'), packages: 'external', logLevel: 'silent', legalComments: 'none',
    // The capabilities' engine halves (host.ts, reached only through their lazy `host()`) never run in a worker.
    external: ['./host.ts'],
    // The sdk is ours (TypeScript): bundled, not left as a package import that would load the type stripper again.
    alias: { '@islet/sdk': SDK },
  })
  const inputs = Object.keys(result.metafile.inputs).map((input) => relative(PACKAGE_ROOT, resolve(input))).sort()
  const file = bundleOf(inputs)
  const code = result.outputFiles[0]?.text
  if (!file || code === undefined) return undefined
  storeCachedSync(file, code)
  storeCachedSync(INPUTS, `${inputs.join('\n')}\n`)
  return existsSync(file) ? file : undefined
}
