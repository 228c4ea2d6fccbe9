// Benchmark server for reload latency: an app in its own process with component watch mode on; sends its URL, then
// one message per watch or reload event (wall-clock times, comparable with the parent's), over IPC.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openApp } from '../../runtime/app.ts'
import { watchComponents } from '../../runtime/components/watch.ts'
import { silentLogger } from '../../runtime/log/logger.ts'
import type { HttpServer } from '../../plugins/http/index.ts'

const wall = () => performance.timeOrigin + performance.now()
const send = (message: object) => process.send!(message)

const engine = await openApp(process.argv[2], {
  logger: silentLogger(), env: { ...process.env, PORT: '0' }, dataDir: mkdtempSync(join(tmpdir(), 'islet-bench-reload-')),
})
await engine.start()
const host = engine.components!
const watcher = await watchComponents(host, engine.config.components, { debounceMs: Number(process.env.DEBOUNCE_MS ?? 10) })
watcher.onEvent((e) => {
  if (e.type === 'component.changed') send({ t: 'changed', at: wall() })
  if (e.type === 'component.built') send({ t: 'built', at: wall(), result: e.result })
})
host.onEvent((e) => {
  if (e.type === 'component.reloaded') send({ t: 'reloaded', at: wall(), generation: e.generation, ms: e.ms })
})
send({ t: 'url', url: engine.module<HttpServer>('web').url() })
process.on('disconnect', () => { void watcher.close().then(() => engine.stop()).then(() => process.exit(0)) })
