// Registry throughput, Islet's registry vs Verdaccio side by side in one run: the same plugin versions published to
// both (over HTTP, the document npm publish sends), then autocannon on loopback against the three reads npm makes —
// the full packument (what `npm install` and `npm view` ask for: `accept: application/json`), the abbreviated one
// (`application/vnd.npm.install-v1+json`, npm's publish pre-flight) and a tarball — with npm's `accept-encoding`.
// Each registry runs in a process of its own; a warm-up, then alternating rounds so drift hits both equally; medians.
// Verdaccio is skipped with a note when it is not installed (see verdaccio.ts). Run alone: `node test/bench/registry.ts`.
import autocannon from 'autocannon'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { loadNote, meter } from './proc.ts'
import { benchPackage, publish, type BenchPackage } from './registry-packages.ts'
import { startServer } from './servers.ts'
import { median, round } from './stats.ts'
import { startVerdaccio, verdaccioBin, verdaccioDir } from './verdaccio.ts'

const NAME = '@bench/geo'
const VERDACCIO_PORT = Number(process.env.BENCH_VERDACCIO_PORT ?? 19232)
const ISLET_PORT = Number(process.env.BENCH_REGISTRY_PORT ?? 19233)
const TOKEN = 'bench-token'
/** What npm 11 sends on these reads (npm-traffic.md §0, §3). */
const NPM_HEADERS = { 'user-agent': 'npm/11.19.1 node/v24 linux x64 workspaces/false', 'accept-encoding': 'gzip,deflate', 'npm-command': 'install' }
const FULL = 'application/json'
const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

interface Target {
  name: 'islet' | 'verdaccio'
  label: string
  url: string
  pid: number
  close(): Promise<void>
}

interface Read { path: string; accept: string }

export interface ReadResult {
  rps: number
  p99Ms: number
  /** The registry's CPU (its process tree) per request: steadier than req/s on a shared machine. */
  cpuMsPerRequest?: number
  failures: number
  /** Cores other work took meanwhile (proc.ts meter). */
  otherCores: number
}

export interface RegistryBench {
  name: 'registry'
  versions: number
  rounds: number
  /** Length of each measured window. */
  windowSeconds: number
  tarballBytes: number
  /** Per target and read: median over rounds. */
  results: Record<string, Record<string, ReadResult>>
  /** Why a side did not run. */
  skipped: string[]
  /** Response sizes as served with npm's accept-encoding (bytes on the wire, encoding). */
  sizes: Record<string, Record<string, string>>
  /** Whether other work shared the machine (loadNote over every measured window). */
  load: string
}

function load(url: string, accept: string, seconds: number, connections: number) {
  return new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ url, method: 'GET', duration: seconds, connections, headers: { ...NPM_HEADERS, accept } },
      (error, result) => (error ? reject(error) : resolve(result)))
  })
}

async function measure(target: Target, read: Read, seconds: number, connections: number): Promise<ReadResult> {
  const window = meter(target.pid)
  const result = await load(target.url + read.path, read.accept, seconds, connections)
  const used = window.stop()
  return {
    rps: result.requests.average, p99Ms: result.latency.p99, failures: result.errors + result.non2xx,
    cpuMsPerRequest: result.requests.total ? used.serverCpuS * 1000 / result.requests.total : undefined,
    otherCores: used.otherCores,
  }
}

/** Checks that a registry serves what was published (so both are measured doing the same work) and notes sizes. */
async function check(target: Target, packages: BenchPackage[], reads: Record<string, Read>): Promise<Record<string, string>> {
  const sizes: Record<string, string> = {}
  for (const [label, read] of Object.entries(reads)) {
    const response = await fetch(target.url + read.path, { headers: { ...NPM_HEADERS, accept: read.accept } })
    if (!response.ok) throw new Error(`${target.label} ${read.path}: ${response.status} ${await response.text()}`)
    const body = Buffer.from(await response.arrayBuffer()) // fetch decodes gzip; the raw size is asked below
    if (label === 'tarball') {
      if (!body.equals(packages.at(-1)!.tarball)) throw new Error(`${target.label} served other bytes for ${read.path}`)
    } else {
      const doc = JSON.parse(body.toString('utf8')) as { versions?: Record<string, unknown> }
      const count = Object.keys(doc.versions ?? {}).length
      if (count !== packages.length) throw new Error(`${target.label} ${label} packument lists ${count} versions, expected ${packages.length}`)
    }
    sizes[label] = await wireSize(target.url + read.path, read.accept)
  }
  return sizes
}

/** Bytes on the wire and content-encoding for one request as npm makes it (node:http, no automatic decoding). */
async function wireSize(url: string, accept: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { ...NPM_HEADERS, accept } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const raw = Buffer.concat(chunks)
        const encoding = res.headers['content-encoding']
        const plain = encoding === 'gzip' ? gunzipSync(raw).length : raw.length
        resolve(`${raw.length} B${encoding ? ` ${encoding} (${plain} B plain)` : ''}`)
      })
    }).on('error', reject).end()
  })
}

async function startIslet(dir: string): Promise<Target> {
  const s = await startServer('./serve-registry.ts', [dir], { BENCH_REGISTRY_TOKEN: TOKEN, BENCH_PORT: String(ISLET_PORT) })
  return { name: 'islet', label: 'islet', url: s.url.endsWith('/') ? s.url : `${s.url}/`, pid: s.child.pid!, close: s.close }
}

async function startPeer(dir: string): Promise<(Target & { token: string }) | string> {
  const bin = verdaccioBin()
  if (!bin) return `Verdaccio: not installed in ${verdaccioDir} (set VERDACCIO_DIR, or see test/bench/verdaccio.ts)`
  const v = await startVerdaccio({ bin, dir, port: VERDACCIO_PORT })
  return { name: 'verdaccio', label: `verdaccio ${v.version}`, url: v.url, pid: v.child.pid!, token: v.token, close: v.close }
}

/**
 * `seconds` (BENCH_SECONDS) is shared by the six windows of a round (3 reads × 2 registries): each lasts seconds / 2
 * (BENCH_REGISTRY_SECONDS sets it outright), so the section takes about as long as two sections of two windows.
 */
export async function benchRegistry(options: { rounds: number; seconds: number; versions?: number; connections?: number }): Promise<RegistryBench> {
  const window = Number(process.env.BENCH_REGISTRY_SECONDS ?? options.seconds / 2)
  const versions = options.versions ?? Number(process.env.BENCH_REGISTRY_VERSIONS ?? 30)
  const connections = options.connections ?? Number(process.env.BENCH_REGISTRY_CONNECTIONS ?? 50)
  const packages = Array.from({ length: versions }, (_, i) => benchPackage(NAME, `1.${i}.0`))
  const latest = packages.at(-1)!
  const reads: Record<string, Read> = {
    'packument (full)': { path: NAME.replace('/', '%2f'), accept: FULL },
    'packument (abbreviated)': { path: NAME.replace('/', '%2f'), accept: ABBREVIATED },
    tarball: { path: `${NAME}/-/geo-${latest.version}.tgz`, accept: '*/*' },
  }
  const root = mkdtempSync(join(tmpdir(), 'islet-bench-registry-'))
  const targets: Target[] = []
  const skipped: string[] = []
  const sizes: RegistryBench['sizes'] = {}
  const samples: Record<string, Record<string, ReadResult[]>> = {}
  try {
    const islet = await startIslet(join(root, 'islet'))
    targets.push(islet)
    for (const pkg of packages) await publish(islet.url, TOKEN, pkg)
    const peer = await startPeer(join(root, 'verdaccio'))
    if (typeof peer === 'string') skipped.push(peer)
    else {
      targets.push(peer)
      for (const pkg of packages) await publish(peer.url, peer.token, pkg)
    }
    for (const target of targets) {
      sizes[target.label] = await check(target, packages, reads)
      for (const read of Object.values(reads)) await load(target.url + read.path, read.accept, 1, connections) // warm-up (JIT, caches)
      samples[target.label] = Object.fromEntries(Object.keys(reads).map((k) => [k, []]))
    }
    for (let i = 0; i < options.rounds; i++) {
      for (const [label, read] of Object.entries(reads)) {
        const row: string[] = []
        for (const target of i % 2 ? [...targets].reverse() : targets) {
          const r = await measure(target, read, window, connections)
          samples[target.label][label].push(r)
          row.push(`${target.label} ${r.rps.toFixed(0)} req/s p99 ${r.p99Ms} ms${r.cpuMsPerRequest === undefined ? '' : ` ${r.cpuMsPerRequest.toFixed(3)} ms CPU/req`}${r.failures ? ` ${r.failures} FAILED` : ''}`)
        }
        console.log(`  round ${i + 1} ${label}: ${row.join(' | ')}`)
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.close()))
    rmSync(root, { recursive: true, force: true })
  }
  const results: RegistryBench['results'] = {}
  for (const [target, byRead] of Object.entries(samples)) {
    results[target] = {}
    for (const [read, rs] of Object.entries(byRead)) {
      const cpu = rs.map((r) => r.cpuMsPerRequest).filter((x): x is number => x !== undefined)
      results[target][read] = {
        rps: round(median(rs.map((r) => r.rps)), 0), p99Ms: median(rs.map((r) => r.p99Ms)),
        cpuMsPerRequest: cpu.length ? round(median(cpu), 4) : undefined, failures: rs.reduce((n, r) => n + r.failures, 0),
        otherCores: Math.max(...rs.map((r) => r.otherCores)),
      }
    }
  }
  const others = Object.values(samples).flatMap((byRead) => Object.values(byRead).flat().map((r) => r.otherCores))
  return { name: 'registry', versions, rounds: options.rounds, windowSeconds: window, tarballBytes: latest.tarball.length, results, skipped, sizes, load: others.length ? loadNote(others) : 'not measured' }
}

export function printRegistry(r: RegistryBench): void {
  console.log(`   @bench/geo with ${r.versions} versions, tarball ${r.tarballBytes} B; requests as npm 11 makes them (accept-encoding gzip); ${r.rounds} rounds × ${r.windowSeconds} s per registry and read, medians`)
  for (const note of r.skipped) console.log(`   skipped: ${note}`)
  console.log(`   machine: ${r.load}`)
  // autocannon appends every body chunk to a string: decoding binary (gzip) bodies as UTF-8 costs the load generator
  // about twice what plain JSON does, on the same two cores; so req/s of gzipped answers partly measures the client.
  console.log('   (CPU/req is the figure to compare: req/s of gzipped answers is capped by autocannon decoding them on the same cores)')
  const targets = Object.keys(r.results)
  const reads = targets.length ? Object.keys(r.results[targets[0]]) : []
  for (const read of reads) {
    const cells = targets.map((t) => {
      const x = r.results[t][read]
      return `${t} ${x.rps} req/s (p99 ${x.p99Ms} ms${x.cpuMsPerRequest === undefined ? '' : `, ${x.cpuMsPerRequest} ms CPU/req`}; ${r.sizes[t][read]})${x.failures ? ` ${x.failures} FAILED` : ''}`
    })
    const [a, b] = targets.length === 2 ? [r.results[targets[0]][read], r.results[targets[1]][read]] : []
    const cpu = a?.cpuMsPerRequest && b?.cpuMsPerRequest ? `, CPU/req verdaccio/islet ${(b.cpuMsPerRequest / a.cpuMsPerRequest).toFixed(1)}×` : ''
    const ratio = a && b ? `  → req/s islet/verdaccio ${(a.rps / b.rps).toFixed(2)}×${cpu}` : ''
    console.log(`   ${read.padEnd(24)} ${cells.join(' | ')}${ratio}`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchRegistry({ rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 5) })
  printRegistry(result)
  console.log(JSON.stringify(result))
}
