// Benchmark: code change → first response from the new code, through the real `islet dev` (what a user runs while
// editing), seen from outside only. After each rewrite of the component file, a client POSTs every POLL_MS (open loop:
// each request on its own, not waiting for the previous one, 3 s timeout) until an answer carries the new version.
// Every poll request that was refused, hung or got an error status during the change is counted: a reload must not
// cost a single one. Section 7 (reload-latency.ts) breaks the same reload down from inside; this is the user's view.
// Alone: `node test/bench/dev-reload.ts` (BENCH_DEV_EDITS, BENCH_POLL_MS).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeFiles } from '../support/files.ts'
import { post, startCli } from './cli-server.ts'
import { loadNote, meter } from './proc.ts'
import { liveComponent, RELOAD_APP } from './reload-latency.ts'
import { median, quantile, round, sleep, verdict } from './stats.ts'

const PORT = 19404
const BODY = JSON.stringify({ sku: 'A-100', qty: 3 })
const HUNG_MS = 3000
export const TARGET_MEDIAN_MS = 25

interface Polled { ms: number; sent: number; old: number; refused: number; hung: number; errorStatus: number }

/** Polls `url` every `everyMs` from now until an answer carries `version`; settles once every request sent has. */
function pollFor(url: string, version: number, everyMs: number, t0: number): Promise<Polled> {
  const counts = { sent: 0, old: 0, refused: 0, hung: 0, errorStatus: 0 }
  const pending = new Set<Promise<void>>()
  let answeredAt = 0
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => { clearInterval(timer); reject(new Error(`version ${version} not served within 30 s`)) }, 30_000)
    const fire = () => {
      counts.sent++
      const request = post(url, BODY, HUNG_MS).then(async (res) => {
        const answer = await res.json().catch(() => undefined) as { version?: number } | undefined
        if (res.status !== 200) counts.errorStatus++
        else if (answer?.version !== version) counts.old++
        else if (!answeredAt) {
          answeredAt = performance.now()
          clearInterval(timer)
          clearTimeout(giveUp)
          void Promise.allSettled([...pending]).then(() => resolve({ ms: round(answeredAt - t0, 1), ...counts }))
        }
      }, (error: Error) => { if (error.name === 'TimeoutError') counts.hung++; else counts.refused++ })
      const tracked = request.finally(() => pending.delete(tracked))
      pending.add(tracked)
    }
    const timer = setInterval(fire, everyMs)
    fire()
  })
}

export async function benchDevReload(options: { edits: number; warmupEdits: number; pollMs: number; gapMs: number }) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': RELOAD_APP, 'live.ts': liveComponent(0) })
  const file = join(dir, 'live.ts')
  const server = startCli('dev', join(dir, 'app.yaml'), PORT)
  const samples: (Polled & { otherCores: number })[] = []
  try {
    await server.serving('/live', BODY)
    for (let v = 1; v <= options.warmupEdits + options.edits; v++) {
      const metered = meter(server.pid)
      const t0 = performance.now()
      const polled = pollFor(`${server.url}/live`, v, options.pollMs, t0)
      writeFileSync(file, liveComponent(v))
      const result = await polled
      await sleep(options.gapMs) // past the watcher's per-file change window
      // Metered through the gap as well: a window of a few ticks (10 ms each) would say little about other work.
      const { otherCores } = metered.stop()
      if (v > options.warmupEdits) samples.push({ ...result, otherCores })
    }
  } finally {
    await server.stop()
    cleanup()
  }
  const ms = samples.map((s) => s.ms)
  const total = (k: 'sent' | 'refused' | 'hung' | 'errorStatus') => samples.reduce((n, s) => n + s[k], 0)
  const failed = total('refused') + total('hung') + total('errorStatus')
  const medianMs = round(median(ms), 1)
  return {
    name: `code change → first new response through \`islet dev\` (open-loop POST every ${options.pollMs} ms, ${options.edits} edits)`,
    edits: options.edits, medianMs, minMs: Math.min(...ms), p90Ms: quantile(ms, 0.9), maxMs: Math.max(...ms),
    sent: total('sent'), refused: total('refused'), hung: total('hung'), errorStatus: total('errorStatus'), failed,
    otherCores: samples.map((s) => s.otherCores),
    targetMedianMs: TARGET_MEDIAN_MS, met: medianMs <= TARGET_MEDIAN_MS && failed === 0,
    samples,
  }
}

export function printDevReload(r: Awaited<ReturnType<typeof benchDevReload>>): void {
  console.log(`   median ${r.medianMs} ms (min ${r.minMs}, p90 ${r.p90Ms}, max ${r.maxMs}) over ${r.edits} edits`)
  console.log(`   poll requests failed during the changes: ${r.failed} of ${r.sent} (refused ${r.refused}, hung ${HUNG_MS / 1000} s ${r.hung}, error status ${r.errorStatus})`)
  console.log(`   target median ≤ ${r.targetMedianMs} ms with 0 failed ${verdict(r.met)}; machine: ${loadNote(r.otherCores)}`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchDevReload({
    edits: Number(process.env.BENCH_DEV_EDITS ?? 15), warmupEdits: 3, pollMs: Number(process.env.BENCH_POLL_MS ?? 5), gapMs: 300,
  })
  printDevReload(result)
  console.log(JSON.stringify({ ...result, samples: undefined }))
}
