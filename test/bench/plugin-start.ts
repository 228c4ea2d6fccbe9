// Benchmark: a cold `islet run` of an app using N (10) plugins, locked (islet.lock + signed tarballs in islet-vendor/:
// resolve from the lock, verify integrity and signature, extract, load) against the same app with the same plugins
// as local paths (the list form of `plugins:`), and locked again with the extracted folders already in the data dir
// (warm: the tarballs and folders are still verified, nothing is extracted). Cold and paths starts get a fresh data
// dir, so nothing is cached but Node's compile cache; one uncounted start of each first; then REPS starts of each,
// interleaved; start → first 200 on POST /p (a pipeline using one step type of every plugin). Alone:
// `node test/bench/plugin-start.ts` (BENCH_ROUNDS, BENCH_PLUGINS, BENCH_PLUGIN_REPS, BENCH_PLUGIN_PORT). The locked
// side is skipped with the runtime's own words when the locked app does not start.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSigningKey, publicKeyOf, signVersion } from '../../registry/signature.ts'
import { startCli } from './cli-server.ts'
import { loadNote, meter } from './proc.ts'
import { packTarball } from './registry-packages.ts'
import { median, round } from './stats.ts'

const PORT = Number(process.env.BENCH_PLUGIN_PORT ?? 19234)
const ENGINE_RANGE = '>=0.1.0'
/** The registry recorded in the lock: the embedded one (the tarballs are vendored, so it is never asked). */
const REGISTRY = 'embedded'

/** The files of plugin `i`: a host plugin with one step type, `bench<i>.tag`, whose output carries its mark. */
export function pluginFiles(i: number): { name: string; version: string; files: Record<string, string> } {
  const name = `@bench/plugin-${i}`
  const version = '1.0.0'
  const packageJson = {
    name, version, description: `Benchmark plugin ${i}`, type: 'module', license: 'MIT', exports: { '.': './index.js' },
    peerDependencies: { '@islet/sdk': '*' }, peerDependenciesMeta: { '@islet/sdk': { optional: true } },
    islet: { engine: ENGINE_RANGE, host: './index.js' },
  }
  const index = `// ${name}: one step type, for the plugin start-up benchmark.
import { definePlugin, defineStepType } from '@islet/sdk'

const tag = defineStepType({
  type: 'bench${i}.tag',
  description: 'Outputs this plugin\\'s mark.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => () => ({ plugin: ${i} }),
})

export default definePlugin({ name: '${name}', version: '${version}', islet: '^0.1.0', stepTypes: [tag] })
`
  return { name, version, files: { 'package.json': JSON.stringify(packageJson, null, 2) + '\n', 'index.js': index } }
}

function pipelineYaml(n: number): string {
  const steps = Array.from({ length: n }, (_, i) => `      - { name: s${i}, type: bench${i}.tag, config: {} }`)
  return `pipelines:
  p:
    steps:
${steps.join('\n')}
      - { type: respond, config: { body: '\${{ steps.s${n - 1} }}' } }
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /p, pipeline: p }
  - name: web
    type: http.server
    config:
      port: \${PORT}
      routers: [api]
`
}

/** The app with the plugins as local folders (`plugins: [{ path }]`). */
export function writePathsApp(dir: string, n: number): string {
  const entries: string[] = []
  for (let i = 0; i < n; i++) {
    const plugin = pluginFiles(i)
    for (const [path, content] of Object.entries(plugin.files)) {
      mkdirSync(join(dir, 'plugins', `plugin-${i}`), { recursive: true })
      writeFileSync(join(dir, 'plugins', `plugin-${i}`, path), content)
    }
    entries.push(`  - path: ./plugins/plugin-${i}`)
  }
  writeFileSync(join(dir, 'app.yaml'), `apiVersion: islet/v1\nplugins:\n${entries.join('\n')}\n${pipelineYaml(n)}`)
  return join(dir, 'app.yaml')
}

/**
 * The same app with the plugins locked (design11.md): the map form of `plugins:` with `host: true`, islet.lock pinning
 * a signing key made here, and each plugin's tarball (signed like a registry signs it) in islet-vendor/.
 */
export function writeLockedApp(dir: string, n: number): string {
  const key = createSigningKey()
  const lock = { lockfileVersion: 1, keys: { [key.keyid]: { key: publicKeyOf(key).key, registry: REGISTRY } }, plugins: {} as Record<string, unknown> }
  const entries: string[] = []
  mkdirSync(join(dir, 'islet-vendor'), { recursive: true })
  for (let i = 0; i < n; i++) {
    const plugin = pluginFiles(i)
    const tarball = packTarball(plugin.files)
    const digest = createHash('sha512').update(tarball)
    const hex = digest.copy().digest('hex')
    const integrity = `sha512-${digest.digest('base64')}`
    writeFileSync(join(dir, 'islet-vendor', `sha512-${hex}.tgz`), tarball)
    const { sig } = signVersion(key, plugin.name, plugin.version, integrity)
    lock.plugins[plugin.name] = { version: plugin.version, integrity, keyid: key.keyid, sig, registry: REGISTRY, engine: ENGINE_RANGE }
    entries.push(`  '${plugin.name}': { version: ^1.0.0, host: true }`)
  }
  writeFileSync(join(dir, 'islet.lock'), JSON.stringify(lock, null, 2) + '\n')
  writeFileSync(join(dir, 'app.yaml'), `apiVersion: islet/v1\nplugins:\n${entries.join('\n')}\n${pipelineYaml(n)}`)
  return join(dir, 'app.yaml')
}

export interface PluginStart {
  name: 'plugin-start'
  plugins: number
  reps: number
  pathsMedianMs: number
  /** CPU (user + system) the started process used from spawn to its first 200: steadier than wall time on a busy machine. */
  pathsCpuMs: number
  /** Fresh data dir: every tarball verified (integrity, signature), extracted, the folder checked, then loaded. */
  lockedColdMedianMs?: number
  /** Extracted folders already in the data dir: still verified (tarball and folder) on this load, not extracted. */
  lockedWarmMedianMs?: number
  lockedColdCpuMs?: number
  lockedWarmCpuMs?: number
  /** Why the locked side did not run. */
  skipped?: string
  load: string
}

interface Start { ms: number; cpuMs: number; otherCores: number }

async function startOnce(app: string, dataDir?: string): Promise<Start> {
  const server = startCli('run', app, PORT, dataDir ? { dataDir } : {})
  try {
    const metered = meter(server.pid)
    const ms = await server.serving('/p', '{}')
    const used = metered.stop()
    return { ms, cpuMs: used.serverCpuS * 1000, otherCores: used.otherCores }
  } finally {
    await server.stop()
  }
}

/** `rounds` (BENCH_ROUNDS) sets the starts per variant as elsewhere: max(5, 2 × rounds), unless BENCH_PLUGIN_REPS says. */
export async function benchPluginStart(options: { rounds?: number; plugins?: number; reps?: number } = {}): Promise<PluginStart> {
  const n = options.plugins ?? Number(process.env.BENCH_PLUGINS ?? 10)
  const reps = options.reps ?? Number(process.env.BENCH_PLUGIN_REPS ?? Math.max(5, 2 * (options.rounds ?? 3)))
  const root = mkdtempSync(join(tmpdir(), 'islet-bench-plugins-'))
  try {
    const paths = writePathsApp(join(root, 'paths'), n)
    const locked = writeLockedApp(join(root, 'locked'), n)
    const warmDir = join(root, 'warm-data')
    await startOnce(paths) // uncounted: Node's compile cache as warm as on any later start
    let skipped: string | undefined
    try {
      await startOnce(locked, warmDir) // uncounted too; leaves the extracted folders the warm starts find
    } catch (error) {
      skipped = `locked app does not start yet: ${String((error as Error).message).split('\n').find((l) => /ERR_|error/i.test(l)) ?? (error as Error).message.slice(0, 300)}`
    }
    const runs: Record<'paths' | 'cold' | 'warm', Start[]> = { paths: [], cold: [], warm: [] }
    for (let r = 0; r < reps; r++) {
      // Interleaved, the order rotating each rep, so drift in the machine's load hits every variant alike.
      const variants: [keyof typeof runs, () => Promise<Start>][] = [
        ['paths', () => startOnce(paths)],
        ...(skipped ? [] : [['cold', () => startOnce(locked)], ['warm', () => startOnce(locked, warmDir)]] as typeof variants),
      ]
      for (let i = 0; i < variants.length; i++) {
        const [variant, start] = variants[(i + r) % variants.length]!
        runs[variant].push(await start())
      }
      const last = (v: keyof typeof runs) => `${runs[v].at(-1)!.ms.toFixed(0)} ms (${runs[v].at(-1)!.cpuMs.toFixed(0)} ms CPU)`
      console.log(`  rep ${r + 1}: paths ${last('paths')}${skipped ? '' : ` | locked cold ${last('cold')} | locked warm ${last('warm')}`}`)
    }
    const ms = (v: keyof typeof runs) => round(median(runs[v].map((s) => s.ms)), 0)
    const cpu = (v: keyof typeof runs) => round(median(runs[v].map((s) => s.cpuMs)), 0)
    return {
      name: 'plugin-start', plugins: n, reps,
      pathsMedianMs: ms('paths'), pathsCpuMs: cpu('paths'),
      ...(skipped ? { skipped } : { lockedColdMedianMs: ms('cold'), lockedWarmMedianMs: ms('warm'), lockedColdCpuMs: cpu('cold'), lockedWarmCpuMs: cpu('warm') }),
      load: loadNote(Object.values(runs).flat().map((s) => s.otherCores)),
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

export function printPluginStart(r: PluginStart): void {
  console.log(`   ${r.plugins} host plugins, ${r.reps} starts of each variant, interleaved, start → first 200; machine: ${r.load}`)
  console.log(`   medians: wall time, and the CPU the started process used (steadier when the machine is shared)`)
  console.log(`   local paths                                                          ${r.pathsMedianMs} ms, ${r.pathsCpuMs} ms CPU`)
  if (r.skipped) { console.log(`   locked: skipped (${r.skipped})`); return }
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x}`
  const vs = (ms: number, cpu: number) => `${ms} ms, ${cpu} ms CPU: ${(ms / r.pathsMedianMs).toFixed(2)}× paths (${signed(ms - r.pathsMedianMs)} ms), CPU ${(cpu / r.pathsCpuMs).toFixed(2)}× (${signed(cpu - r.pathsCpuMs)} ms)`
  console.log(`   locked, cold (fresh data dir: verify integrity + signature, extract) ${vs(r.lockedColdMedianMs!, r.lockedColdCpuMs!)}`)
  console.log(`   locked, warm (extracted folders present, verified again)             ${vs(r.lockedWarmMedianMs!, r.lockedWarmCpuMs!)}`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchPluginStart({ rounds: Number(process.env.BENCH_ROUNDS ?? 3) })
  printPluginStart(result)
  console.log(JSON.stringify(result))
}
