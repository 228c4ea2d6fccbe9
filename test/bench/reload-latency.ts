// Benchmark: component hot reload, edit → new generation serving. The app runs in its own process with watch mode on;
// this process rewrites the component file, and requests the route as soon as the server reports the swap: the time to
// that response (which must carry the new version) is the figure. Idle, then under load (autocannon in its own
// process, on loopback, on the same route, counting failed requests). Breakdown from the server's events.
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ReloadResult } from '../../runtime/components/host.ts'
import { writeFiles } from '../support/files.ts'
import { median, p99, round, sleep, verdict } from './stats.ts'

const TARGET_MEDIAN_MS = 25
const BODY = JSON.stringify({ sku: 'A-100', qty: 3 })

export const RELOAD_APP = `apiVersion: islet/v1
components:
  - file: ./live.ts
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /live, pipeline: live }
  - name: web
    type: http.server
    config:
      port: \${PORT:-0}
      routers: [api]
pipelines:
  live:
    steps:
      - { name: q, type: component, config: { component: live } }
      - { type: respond, config: { body: '\${{ steps.q }}' } }
`

/** The quote component of the other benchmarks, answering with its version; its example is the reload's smoke test. */
export const liveComponent = (version: number) => `import { defineComponent } from '@islet/sdk'
export default defineComponent<unknown, { sku: string; qty: number }, { sku: string; total: number; version: number }>({
  name: 'live',
  input: {
    type: 'object', additionalProperties: false, required: ['sku', 'qty'],
    properties: { sku: { type: 'string', pattern: '^[A-Z0-9-]{1,32}$' }, qty: { type: 'integer', minimum: 1, maximum: 1000 } },
  },
  examples: [{ input: { sku: 'A-100', qty: 3 }, output: { sku: 'A-100', total: 29.97, version: ${version} } }],
  execute: (input) => ({ sku: input.sku, total: Math.round(input.qty * 9.99 * 100) / 100, version: ${version} }),
})
`

type Message =
  | { t: 'url'; url: string }
  | { t: 'changed'; at: number }
  | { t: 'built'; at: number; result: ReloadResult }
  | { t: 'reloaded'; at: number; generation: number; ms: number }

interface Sample {
  totalMs: number
  watchMs: number
  /** Debounce, plus stamping the files, until the build starts. */
  debounceMs: number
  compileMs: number
  loadInitMs: number
  examplesMs: number
  swapMs: number
  /** Swap → the response to the first request sent once the server reported it. */
  respondMs: number
  /** The same request just before the edit: what any request costs, reload or not. */
  requestMs: number
}

const wall = () => performance.timeOrigin + performance.now()

export async function benchReloadLatency(options: { edits: number; gapMs?: number; loadSeconds?: number }) {
  const gapMs = options.gapMs ?? 120
  const { dir, cleanup } = writeFiles({ 'app.yaml': RELOAD_APP, 'live.ts': liveComponent(0) })
  const file = join(dir, 'live.ts')
  const child = fork(fileURLToPath(new URL('./reload-server.ts', import.meta.url)), [join(dir, 'app.yaml')],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, LOG_LEVEL: 'silent' } })
  let inbox: Message[] = []
  let wake: (() => void) | undefined
  child.on('message', (m: Message) => { inbox.push(m); wake?.() })
  child.on('exit', () => wake?.())
  const waitFor = async <T extends Message>(find: () => T | undefined, ms = 5000): Promise<T> => {
    const deadline = wall() + ms
    for (let found = find(); ; found = find()) {
      if (found) return found
      if (child.exitCode !== null) throw new Error(`the reload server exited with ${child.exitCode}`)
      if (wall() > deadline) throw new Error('the reload server did not report in time')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - wall()))
        wake = () => { clearTimeout(timer); resolve() }
      })
    }
  }
  let version = 0
  try {
    const { url } = await waitFor(() => inbox.find((m) => m.t === 'url'), 30_000)
    const post = async () => (await (await fetch(`${url}/live`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })).json()) as { version?: number }

    const edit = async (): Promise<Sample> => {
      const v = ++version
      const r0 = wall()
      await post()
      const requestMs = wall() - r0
      inbox = []
      const t0 = wall()
      writeFileSync(file, liveComponent(v))
      // Asked the moment the server reports the swap (no polling traffic slowing the reload down); the response must
      // carry the new version, or the swap was not what serves.
      const reloaded = await waitFor(() => inbox.find((m): m is Extract<Message, { t: 'reloaded' }> => m.t === 'reloaded'), 10_000)
      const served = (await post()).version
      const t1 = wall()
      if (served !== v) throw new Error(`the server reported the swap to version ${v} but answered with version ${served}`)
      const built = await waitFor(() => inbox.find((m): m is Extract<Message, { t: 'built' }> => m.t === 'built' && m.result.generation === reloaded.generation))
      const changed = inbox.find((m) => m.t === 'changed') ?? reloaded
      const timings = built.result.timings!
      const sample: Sample = {
        totalMs: t1 - t0, watchMs: changed.at - t0, debounceMs: reloaded.at - reloaded.ms - changed.at,
        compileMs: timings.compileMs, loadInitMs: timings.loadMs + timings.initMs, examplesMs: timings.examplesMs,
        swapMs: timings.swapMs, respondMs: t1 - reloaded.at, requestMs,
      }
      await sleep(gapMs) // past chokidar's per-file change window; the old generation is retired meanwhile
      return sample
    }
    const series = async (n: number) => {
      const samples: Sample[] = []
      for (let i = 0; i < n; i++) samples.push(await edit())
      return summarize(samples)
    }

    for (let i = 0; i < 5; i++) await edit() // warm-up: JIT, esbuild's service, the worker
    const idle = await series(options.edits)
    console.log(`  idle: median ${idle.medianMs} ms, p99 ${idle.p99Ms} ms; ${JSON.stringify(idle.breakdownMedianMs)}`)
    const load = startLoad(`${url}/live`)
    await sleep((options.loadSeconds ?? 1) * 1000)
    const loaded = await series(options.edits)
    const traffic = await load.stop()
    console.log(`  under load: median ${loaded.medianMs} ms, p99 ${loaded.p99Ms} ms; ${JSON.stringify(loaded.breakdownMedianMs)}; ${traffic.rps.toFixed(0)} req/s, ${traffic.errors + traffic.non2xx} failed`)
    return {
      name: 'component hot reload: file write → first HTTP response from the new generation (watch mode, debounce 10 ms; medians, breakdown from server events)',
      edits: options.edits, idle, loaded, traffic,
      targetMedianMs: TARGET_MEDIAN_MS, met: idle.medianMs <= TARGET_MEDIAN_MS,
    }
  } finally {
    await stop(child)
    cleanup()
  }
}

function summarize(samples: Sample[]) {
  const of = (k: keyof Sample) => round(median(samples.map((s) => s[k])))
  return {
    medianMs: of('totalMs'), p99Ms: round(p99(samples.map((s) => s.totalMs))),
    breakdownMedianMs: {
      watch: of('watchMs'), debounce: of('debounceMs'), compile: of('compileMs'), loadInit: of('loadInitMs'),
      examples: of('examplesMs'), swap: round(median(samples.map((s) => s.swapMs)), 4), firstResponse: of('respondMs'),
      requestFloor: of('requestMs'),
    },
  }
}

/** autocannon in a process of its own (its event loop never delays this one's polling), until stop(). */
function startLoad(url: string): { stop(): Promise<{ rps: number; p99Ms: number; requests: number; errors: number; non2xx: number }> } {
  const code = `
    const autocannon = require(${JSON.stringify(createRequire(import.meta.url).resolve('autocannon'))})
    const instance = autocannon({ url: ${JSON.stringify(url)}, method: 'POST', connections: 50, duration: 3600,
      headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(BODY)} }, (error, r) => {
      process.send(error ? { error: String(error) }
        : { rps: r.requests.average, p99Ms: r.latency.p99, requests: r.requests.total, errors: r.errors, non2xx: r.non2xx }, () => process.exit(0))
    })
    process.on('message', () => instance.stop())
  `
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return {
    async stop() {
      const result = new Promise<{ error?: string; rps: number; p99Ms: number; requests: number; errors: number; non2xx: number }>((resolve) => child.once('message', resolve))
      child.send('stop')
      const r = await result
      if (r.error) throw new Error(r.error)
      return r
    },
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => { clearTimeout(timer); resolve() })
    child.disconnect()
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchReloadLatency({ edits: Number(process.env.BENCH_EDITS ?? 30) })
  printReloadLatency(result)
  console.log(JSON.stringify(result))
}

export function printReloadLatency(r: Awaited<ReturnType<typeof benchReloadLatency>>): void {
  const b = (s: typeof r.idle) => s.breakdownMedianMs
  const row = (s: typeof r.idle) => `watch event ${b(s).watch} ms, debounce ${b(s).debounce}, compile ${b(s).compile} (what was left after the debounce: ` +
    `the watcher starts compiling at the first event), load+init ${b(s).loadInit}, examples ${b(s).examples}, swap ${b(s).swap}, first response ${b(s).firstResponse} ` +
    `(any request: ${b(s).requestFloor})`
  console.log(`   idle        median ${r.idle.medianMs} ms, p99 ${r.idle.p99Ms} ms over ${r.edits} edits`)
  console.log(`               ${row(r.idle)}`)
  console.log(`   under load  median ${r.loaded.medianMs} ms, p99 ${r.loaded.p99Ms} ms over ${r.edits} edits (autocannon ${r.traffic.rps.toFixed(0)} req/s, ${r.traffic.requests} requests, ${r.traffic.errors + r.traffic.non2xx} failed)`)
  console.log(`               ${row(r.loaded)}`)
  console.log(`   target median idle ≤ ${r.targetMedianMs} ms ${verdict(r.met)}`)
}
