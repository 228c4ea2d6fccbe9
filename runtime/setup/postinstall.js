// Postinstall: make sure native addons load under the pinned Node 24, rebuilding them against its headers if not.
// Plain JavaScript on purpose: npm may run this with whatever `node` it finds first, even the system Node 20.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, lstatSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const pinnedNode = join(root, 'node_modules', '.bin', 'node')
// The `node` package keeps the real binary and its headers in a per-platform package.
const headersDir = join(root, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`)
const addons = ['better-sqlite3']

if (!existsSync(pinnedNode)) {
  console.error('islet postinstall: node_modules/.bin/node is missing; run `npm ci` so the pinned Node 24 is installed.')
  process.exit(1)
}

/** Loads the addon in a child running the pinned Node; returns the error text, or '' when it loads. */
function loadError(name) {
  const probe = `const D=require(${JSON.stringify(name)}); new D(':memory:').close()`
  const r = spawnSync(pinnedNode, ['-e', probe], { cwd: root, encoding: 'utf8' })
  if (r.status === 0) return ''
  return (r.stderr || r.stdout || (r.signal ? `crashed with ${r.signal}` : `exit ${r.status}`)).trim().split('\n').slice(0, 3).join(' ')
}

for (const name of addons) {
  if (!existsSync(join(root, 'node_modules', name))) continue
  const before = loadError(name)
  if (!before) continue
  console.log(`islet postinstall: ${name} does not load under the pinned Node (${before}); rebuilding against its headers`)
  if (!existsSync(join(headersDir, 'include', 'node'))) {
    console.error(`islet postinstall: Node headers not found in ${headersDir}; cannot rebuild ${name}.`)
    process.exit(1)
  }
  // Pinned node first on PATH so node-gyp targets its ABI, and its headers instead of ~/.npmrc's nodedir.
  const env = { ...process.env, PATH: `${dirname(pinnedNode)}:${process.env.PATH}`, npm_config_nodedir: headersDir }
  const pkgDir = join(root, 'node_modules', name)
  if (existsSync(join(pkgDir, 'binding.gyp'))) {
    // Compile from source; a build/Release binary takes precedence over the package's prebuilt one.
    // npm hands lifecycle scripts its bundled node-gyp as npm_config_node_gyp; otherwise fetch it from the registry.
    const gyp = process.env.npm_config_node_gyp
    const [cmd, args] = gyp ? [pinnedNode, [gyp]] : ['npx', ['--yes', 'node-gyp']]
    // force_build: better-sqlite3's binding.gyp builds nothing unless asked to (it ships prebuilds instead).
    execFileSync(cmd, [...args, 'rebuild', '--release', '--force_build=1', `--nodedir=${headersDir}`], { cwd: pkgDir, env, stdio: 'inherit' })
  } else {
    execFileSync('npm', ['rebuild', name, `--nodedir=${headersDir}`], { cwd: root, env, stdio: 'inherit' })
  }
  const after = loadError(name)
  if (after) {
    console.error(`islet postinstall: ${name} still does not load after rebuilding: ${after}`)
    process.exit(1)
  }
  console.log(`islet postinstall: ${name} rebuilt for the pinned Node`)
}

// npm links the bins of dependencies into node_modules/.bin, never the project's own: link `islet` there too, so
// `./node_modules/.bin/islet …` runs the CLI in this checkout without npx's start-up cost.
const ownBin = join(root, 'node_modules', '.bin', 'islet')
if (!existsSync(ownBin) && !isLink(ownBin)) symlinkSync(join('..', '..', 'runtime', 'cli', 'bin.js'), ownBin)

function isLink(path) {
  try { return lstatSync(path).isSymbolicLink() } catch { return false }
}
