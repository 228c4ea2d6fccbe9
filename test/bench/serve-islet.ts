// Benchmark server: the YAML pipeline app, in its own process; prints its URL as one JSON line.
import { fileURLToPath } from 'node:url'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openApp } from '../../runtime/app.ts'
import { silentLogger } from '../../runtime/log/logger.ts'
import type { HttpServer } from '../../plugins/http/index.ts'

const app = process.argv[2] ?? fileURLToPath(new URL('./quote.yaml', import.meta.url))
const engine = await openApp(app, {
  logger: silentLogger(), env: { ...process.env, PORT: '0' }, dataDir: mkdtempSync(join(tmpdir(), 'islet-bench-')),
})
await engine.start()
console.log(JSON.stringify({ url: engine.module<HttpServer>('web').url() }))
process.on('SIGTERM', () => { void engine.stop().then(() => process.exit(0)) })
