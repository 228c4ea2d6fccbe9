// Benchmark: containment under a sustained attack. One engine (its own process) serves a bystander component and an
// attacker component that does its worst (attacker-component.ts: stalls, CPU loops, memory bombs, off-heap buffers,
// huge log lines and arguments, kv floods) from several client loops for BENCH_ATTACK_SECONDS (default 60 s). The
// bystander's success rate and latency are measured under steady load, first without the attacker (baseline) and
// then with it, side by side on fresh engines; /healthz latency is sampled throughout. Figures, not pass/fail:
// the target is that the bystander barely notices (≥ 99% success, p99 within a few times the baseline).
import { fileURLToPath } from 'node:url'
import { startServer } from './servers.ts'
import { median, p99, quantile, round, sleep } from './stats.ts'

const APP = fileURLToPath(new URL('./containment.yaml', import.meta.url))
const MODES = ['stall', 'cpu', 'memory', 'buffer', 'log', 'emit', 'kv'] as const
const QUOTE = JSON.stringify({ sku: 'A-100', qty: 3 })

interface Phase {
  bystander: { requests: number; ok: number; successRate: number; medianMs: number; p99Ms: number; rps: number }
  healthz: { samples: number; failed: number; medianMs: number; p99Ms: number; maxMs: number }
  attacker: { requests: number; outcomes: Record<string, number> }
  status?: unknown
}

async function timed(url: string, init?: RequestInit): Promise<{ ms: number; status: number; body: string }> {
  const started = performance.now()
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) })
    const body = await res.text()
    return { ms: performance.now() - started, status: res.status, body }
  } catch (error) {
    return { ms: performance.now() - started, status: 0, body: String(error) }
  }
}

async function phase(seconds: number, attack: boolean): Promise<Phase> {
  const server = await startServer('./serve-islet.ts', [APP])
  const { url } = server
  try {
    // Warm-up: both components loaded and JIT-warm before anything is measured.
    for (let i = 0; i < 200; i++) await timed(`${url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: QUOTE })
    const until = performance.now() + seconds * 1000
    const latencies: number[] = []
    let requests = 0
    let ok = 0
    const bystander = async () => {
      while (performance.now() < until) {
        const r = await timed(`${url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: QUOTE })
        requests++
        if (r.status === 200) ok++
        latencies.push(r.ms)
      }
    }
    const health: number[] = []
    let healthFailed = 0
    const healthz = async () => {
      while (performance.now() < until) {
        const r = await timed(`${url}/healthz`)
        if (r.status === 200) health.push(r.ms); else healthFailed++
        await sleep(50)
      }
    }
    const outcomes: Record<string, number> = {}
    let attacks = 0
    const attacker = async (offset: number) => {
      for (let i = offset; performance.now() < until; i++) {
        const mode = MODES[i % MODES.length]
        const r = await timed(`${url}/attack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) })
        attacks++
        let code = String(r.status)
        try { code = (JSON.parse(r.body) as { error?: { code?: string } }).error?.code ?? code } catch { /* not JSON */ }
        const key = `${mode} → ${code}`
        outcomes[key] = (outcomes[key] ?? 0) + 1
      }
    }
    await Promise.all([
      ...Array.from({ length: 8 }, bystander), healthz(),
      ...(attack ? Array.from({ length: 4 }, (_, i) => attacker(i * 2)) : []),
    ])
    const status = attack ? await timed(`${url}/admin/status`).then((r) => JSON.parse(r.body) as unknown).catch(() => undefined) : undefined
    return {
      bystander: {
        requests, ok, successRate: requests === 0 ? 0 : ok / requests,
        medianMs: round(median(latencies)), p99Ms: round(p99(latencies)), rps: round(requests / seconds, 0),
      },
      healthz: { samples: health.length, failed: healthFailed, medianMs: round(median(health)), p99Ms: round(p99(health)), maxMs: round(quantile(health, 1)) },
      attacker: { requests: attacks, outcomes },
      ...(status ? { status } : {}),
    }
  } finally {
    await server.close()
  }
}

export async function benchContainment(options: { attackSeconds: number; baselineSeconds: number }) {
  const baseline = await phase(options.baselineSeconds, false)
  const attacked = await phase(options.attackSeconds, true)
  const ratio = attacked.bystander.p99Ms / Math.max(0.001, baseline.bystander.p99Ms)
  return {
    name: `containment: bystander under an attacker doing its worst for ${options.attackSeconds} s (baseline ${options.baselineSeconds} s without it)`,
    baseline, attacked, p99Ratio: round(ratio),
    targetSuccessRate: 0.99,
    met: attacked.bystander.successRate >= 0.99,
  }
}

export function printContainment(c: Awaited<ReturnType<typeof benchContainment>>): void {
  const row = (label: string, p: Phase) => {
    const b = p.bystander
    console.log(`   ${label}: bystander ${(b.successRate * 100).toFixed(2)}% ok of ${b.requests} (${b.rps} req/s), median ${b.medianMs} ms, p99 ${b.p99Ms} ms; /healthz median ${p.healthz.medianMs} ms, p99 ${p.healthz.p99Ms} ms, max ${p.healthz.maxMs} ms${p.healthz.failed ? `, ${p.healthz.failed} failed` : ''}`)
  }
  row('without attacker', c.baseline)
  row('with attacker   ', c.attacked)
  console.log(`   attacker: ${c.attacked.attacker.requests} attacks; outcomes ${Object.entries(c.attacked.attacker.outcomes).sort().map(([k, n]) => `${k} ×${n}`).join(', ')}`)
  console.log(`   bystander p99 ×${c.p99Ratio} of baseline; success target ≥ ${c.targetSuccessRate * 100}% ${c.met ? 'MET' : 'MISSED'}`)
}
