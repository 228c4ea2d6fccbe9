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
} else {
  // Best effort: a read-only install just runs without the cache.
  module.enableCompileCache?.(join(ROOT, 'node_modules', '.cache', 'islet-compile'))
  await import('./main.ts')
}

/** The `node` package's binary: in this package's node_modules, or (installed as a dependency) in an enclosing one. */
function pinnedNode() {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'node', 'bin', 'node')
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}
