// The second wall around a sandbox worker process, for the day guest code escapes its isolate: what the process may
// do (Node's permission model: read only the files loading the worker needs, write nothing, start no processes or
// threads) and how much memory it may hold (a ceiling on its RSS, sized from the components placed in it, watched
// from the engine). The supervisor spawns every worker with these; nothing here is configurable from YAML.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { workerBundle } from './worker-bundle.ts'

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url))
/** What a worker runs: its code as one JavaScript file when that could be built (worker-bundle.ts), else worker.ts. */
export const workerScript = (): string => workerBundle() ?? WORKER_SCRIPT
const SANDBOX_DIR = dirname(WORKER_SCRIPT)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The packages the worker's own modules import (worker.ts and what it imports under runtime/sandbox/, the capability
 * declarations in capabilities/<name>/index.ts included; never their host.ts halves, which only the engine loads). Their
 * dependencies are found from their package.json files. A worker importing a package missing here fails to start
 * with ERR_ACCESS_DENIED naming the file: add the package here.
 */
const WORKER_PACKAGES = ['isolated-vm', 'ajv', 'ajv-formats', 're2js', '@islet/sdk']

/**
 * Node flags of a worker process. `--permission` turns the model on: no fs write, no child processes, no worker
 * threads, no WASI, no inspector, since none is granted. Reads: the worker's modules, the package.json that makes
 * them ESM, the packages above with their dependencies, and the one file node-gyp-build probes to pick
 * isolated-vm's prebuilt addon. `--allow-addons`: isolated-vm is a native addon (an addon runs outside the model,
 * so only the ones on the allowed read paths can be loaded, and none can be written). No compile cache: it would
 * need a writable folder shared with other processes, a place to plant code for them.
 * `extraReads` is for tests only (a forged worker script outside runtime/).
 */
export function workerExecArgv(extraReads: readonly string[] = []): string[] {
  return [
    '--no-node-snapshot', // isolated-vm requires it
    '--permission', '--allow-addons',
    '--disable-warning=PERM0001', // "--allow-addons must be used with extreme caution", once per worker start
    ...workerReadPaths(extraReads).map((path) => `--allow-fs-read=${path}`),
  ]
}

let reads: string[] | undefined

/** Every path a worker may read (folders with their contents), computed once per engine process. */
export function workerReadPaths(extraReads: readonly string[] = []): string[] {
  const bundle = workerBundle()
  reads ??= [
    ...(bundle ? [bundle] : []),
    SANDBOX_DIR,
    join(ROOT, 'runtime', 'errors.ts'),
    // The topic grammar, which the emit capability's declaration (capabilities/emit/index.ts) sizes its caps from.
    join(ROOT, 'runtime', 'events', 'topics.ts'),
    // Guest schemas get the operator schemas' cost bounds and the one ajv set-up and problem list (guest-schemas.ts);
    // these import only ajv, re2js and the sdk.
    join(ROOT, 'plugins', 'core', 'ajv.ts'),
    join(ROOT, 'plugins', 'core', 'schema-problems.ts'),
    join(ROOT, 'plugins', 'core', 'schema-vet.ts'),
    join(ROOT, 'package.json'),
    '/etc/alpine-release',
    ...packageClosure(WORKER_PACKAGES, SANDBOX_DIR),
  ]
  return [...new Set([...reads, ...extraReads])]
}

/** Folders of `names` and of everything they depend on, as Node would resolve them from `from` (link and target). */
function packageClosure(names: readonly string[], from: string): string[] {
  const dirs = new Set<string>()
  const visit = (name: string, requester: string) => {
    const dir = packageDir(name, requester)
    if (!dir) return // an optional dependency that is not installed
    const real = realpathSync(dir)
    if (dirs.has(real)) return
    dirs.add(dir).add(real)
    const manifest = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, real)
  }
  for (const name of names) visit(name, from)
  return [...dirs]
}

function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

// ---- The file-size limit ---------------------------------------------------------------------------------------

/**
 * RLIMIT_FSIZE of a worker: the one file it writes is its slice record (1 KiB at offset 0 of an unlinked file the
 * supervisor handed it, slice-record.ts), and the permission model cannot take that fd away. Without this limit a
 * taken-over worker could write gigabytes to it and fill the disk; with it, a write past 4 KiB fails (EFBIG).
 */
export const WORKER_FILE_BYTES = 4096

let prlimitMissing = false

/**
 * Sets the worker's file-size limit from outside (util-linux `prlimit --pid`; Node has no setrlimit), before any
 * guest code is sent to it. Resolves with a reason when it could not (no prlimit on this system): the worker still
 * runs, with one less limit, and the supervisor logs that once.
 */
export function limitFileSize(pid: number): Promise<string | undefined> {
  if (prlimitMissing || pid === 0) return Promise.resolve(prlimitMissing ? undefined : 'the worker has no pid')
  return new Promise((resolve) => {
    execFile('prlimit', ['--pid', String(pid), `--fsize=${WORKER_FILE_BYTES}`], { env: {}, timeout: 10_000 }, (error) => {
      if (!error) return resolve(undefined)
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') prlimitMissing = true
      resolve(`prlimit --pid ${pid} --fsize=${WORKER_FILE_BYTES} failed: ${error.message.split('\n')[0]}`)
    })
  })
}

// ---- The memory ceiling ----------------------------------------------------------------------------------------

const MiB = 1024 * 1024
/** Node, isolated-vm, the worker's modules and the JSON of calls in flight: a worker with no isolate sits near 70 MiB. */
export const CEILING_BASE_BYTES = 384 * MiB
/** Per component placed in a worker: its heap limit twice over (external buffers count against it, with slack) and its isolate's own overhead (~8 MiB idle). */
export const ceilingForComponent = (memoryMb: number): number => (2 * memoryMb + 32) * MiB

/** How often the supervisor reads a worker's RSS. An allocation between two reads overshoots by what it adds in that time. */
const WATCH_EVERY_MS = 50

/** Why a worker was killed by its ceiling; set once, before the kill. */
export interface CeilingBreach {
  rssBytes: number
  ceilingBytes: number
}

/**
 * The RSS ceiling of one worker process. Virtual-memory limits (RLIMIT_AS, RLIMIT_DATA) bound nothing useful here:
 * V8 reserves ~530 MiB of address space per isolate (VmSize and VmData alike) while touching ~8 MiB, so a limit that
 * lets 20 isolates start lets any one of them hold gigabytes. What the machine runs out of is resident memory, so
 * that is what is watched: from the engine, which the worker cannot influence, by reading /proc/<pid>/status.
 */
export interface MemoryCeiling {
  readonly ceilingBytes: number
  /** Set when the worker was found over its ceiling and killed: its exit is a memory breach, not a crash. */
  readonly breach: CeilingBreach | undefined
  /** Raises the ceiling to `bytes` if that is higher (components loaded into the worker); it never lowers. */
  raise(bytes: number): void
  stop(): void
}

/**
 * Watches `pid` until stopped; past the ceiling, records the breach and calls `kill` once. Where /proc is missing
 * (not Linux), nothing is watched and the isolates' own limits are the only bound.
 */
export function watchMemory(pid: number, initialBytes: number, kill: (breach: CeilingBreach) => void): MemoryCeiling {
  let ceilingBytes = initialBytes
  let breach: CeilingBreach | undefined
  const timer = existsSync(`/proc/${pid}/status`) ? setInterval(check, WATCH_EVERY_MS) : undefined
  timer?.unref()
  function check(): void {
    let rssBytes: number
    try {
      rssBytes = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0) * 1024
    } catch {
      return stop() // the process is gone
    }
    if (rssBytes <= ceilingBytes || breach) return
    breach = { rssBytes, ceilingBytes }
    stop()
    kill(breach)
  }
  function stop(): void {
    clearInterval(timer)
  }
  return {
    get ceilingBytes() { return ceilingBytes },
    get breach() { return breach },
    raise(bytes) { ceilingBytes = Math.max(ceilingBytes, bytes) },
    stop,
  }
}

export const mb = (bytes: number): number => Math.round(bytes / MiB)
