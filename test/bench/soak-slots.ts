// Soak: promote N versions of a slot through the slots service; report engine heap (after gc) and the sandbox workers'
// isolates / heap per checkpoint: what a promotion leaves behind. node --expose-gc test/bench/soak-slots.ts 100
// (SNAP=1 also writes engine heap snapshots at 20 and N promotions into /tmp/soak/, to diff.)
import { mkdirSync } from 'node:fs'
import v8 from 'node:v8'
import type { SlotsService } from '@islet/sdk'
import { startApp } from '../support/app.ts'
import { ADMIN, appYaml, DEPLOYER, pricing, probe } from '../support/slots.ts'

const N = Number(process.argv[2] ?? 100)
// LOAD=8: that many clients call the slot's route throughout.
const app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
const slots = app.engine.module<{ slots: SlotsService }>('probe').slots
const quote = (n: number) => fetch(`${app.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }).then((r) => r.json())
const gc = (globalThis as { gc?: () => void }).gc!
const mb = (b: number) => Math.round(b / 1048576 * 10) / 10
async function sample(i: number) {
  await new Promise((r) => setTimeout(r, 300))
  gc(); gc()
  const h = v8.getHeapStatistics()
  const ws = await app.engine.components!.sandbox().stats()
  if (process.env.SNAP && (i === 20 || i === N)) { mkdirSync('/tmp/soak', { recursive: true }); v8.writeHeapSnapshot(`/tmp/soak/engine-${i}.heapsnapshot`) }
  console.log(JSON.stringify({ promoted: i, engineHeapMb: mb(h.used_heap_size), engineRssMb: mb(process.memoryUsage().rss), logLines: app.logs.length,
    workers: ws.map((w) => ({ pid: w.pid, comps: w.components.length, isolates: w.isolates, heapMb: mb(w.heapUsed), extMb: mb(w.external), rssMb: mb(w.rss), spare: w.spare })) }))
}
let stop = false
const LOAD = Number(process.env.LOAD ?? 0)
const clients = Array.from({ length: LOAD }, async () => { while (!stop) await quote(1).catch(() => {}) })
for (let i = 1; i <= N; i++) {
  const r = await slots.deploy('pricing', { files: { 'index.ts': pricing(i) }, promote: true }, DEPLOYER)
  if (!r.ok) { console.log(JSON.stringify(r.diagnostics)); process.exit(1) }
  const q = await quote(i) as { version: number }
  if (q.version !== i) console.log('wrong version', q, i)
  if (i === 1 || i === 5 || i % 20 === 0) await sample(i)
}
stop = true
await Promise.all(clients)
console.log('versions', slots.versions('pricing', ADMIN).length)
await app.close()
