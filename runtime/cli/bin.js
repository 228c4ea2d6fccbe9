#!/usr/bin/env node
// Entry of the `islet` command. Plain JavaScript that any Node since 14 parses, for three reasons:
// - an older Node (the system's, through `node_modules/.bin/islet`) reaches the version check and re-executes this
//   file under the Node 24 that `npm ci` installed (the `node` package) instead of failing on syntax;
// - `islet --version` answers from here, loading no TypeScript (stripping types costs more than Node's own start);
// - Node's compile cache is switched on for everything after, kept inside this package's node_modules, so the
//   type stripping and compiling of the CLI's .ts files is paid once, not per call.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import module from 'node:module'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const args = process.argv.slice(2)

/**
 * The engine's young generation ceiling, in MB per semi-space, for `islet run` and `islet dev`. With Node's default
 * a serving engine's young generation grows to tens of MB under load and keeps them: measured on the peers' quote
 * component after ~20-30k requests, engine RSS 224-238 MB with the default, 115-121 MB with 8, for ~2.5x as many
 * (cheap: ~1-2 ms) scavenges, about 4 µs per request. The re-execution costs one bare Node start (~40 ms CPU).
 * A size given explicitly (`node --max-semi-space-size=16 bin.js run`, or in NODE_OPTIONS) wins: no re-execution.
 */
const SEMI_SPACE_MB = 8

if (Number(process.versions.node.split('.')[0]) < 24) {
  const pinned = process.env.ISLET_REEXEC ? undefined : pinnedNode()
  if (!pinned) {
    console.error(`ERR_NODE_VERSION: Islet needs Node.js 24 or newer and this is ${process.version}; run \`npm ci\` in the project (it installs Node 24 as the \`node\` package), then \`./node_modules/.bin/islet …\` or \`npx islet …\`.`)
    process.exit(1)
  }
  // The child inherits stdout and stderr, and its exit status becomes ours. It runs in a process group of its own
  // (`detached`), so every signal reaches it exactly once, through this process: Ctrl-C (the terminal signals only
  // the foreground group, this one) as much as a `kill -INT <pid>` or a supervisor's SIGTERM. Were both processes in
  // one group, Ctrl-C would reach the child twice (and a second SIGINT means "stop now" to `islet run`), while a
  // SIGINT sent to this pid alone could not be told apart and would have to be dropped or doubled.
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', detached: true, env: { ...process.env, ISLET_REEXEC: '1' } })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => { child.kill(signal) })
  child.on('exit', (code, signal) => { process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0) })
} else if (args[0] === '--version' || args[0] === '-v' || args[0] === 'version') {
  console.log(`islet ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`)
} else if (needsHeapFlags()) {
  // V8 sizes its heap at launch only, so the flags are given by replacing this process with itself (same pid,
  // stdio and signals; no second process), before anything is loaded. Why the flag: see SEMI_SPACE_MB.
  process.execve(process.execPath, [process.execPath, ...process.execArgv, `--max-semi-space-size=${SEMI_SPACE_MB}`, fileURLToPath(import.meta.url), ...args], process.env)
} else {
  // Best effort: a read-only install just runs without the cache.
  module.enableCompileCache?.(join(ROOT, 'node_modules', '.cache', 'islet-compile'))
  await import('./main.ts')
}

/** Whether this is `run`/`dev` on a Node that can re-execute itself and no semi-space size was chosen. */
function needsHeapFlags() {
  if (args[0] !== 'run' && args[0] !== 'dev') return false
  if (typeof process.execve !== 'function') return false
  const chosen = (flag) => flag.startsWith('--max-semi-space-size') || flag.startsWith('--max_semi_space_size')
  return !process.execArgv.some(chosen) && !(process.env.NODE_OPTIONS ?? '').split(/\s+/).some(chosen)
}

/** The `node` package's binary: in this package's node_modules, or (installed as a dependency) in an enclosing one. */
function pinnedNode() {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'node', 'bin', 'node')
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}
