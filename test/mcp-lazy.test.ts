// The MCP sdk (and the zod it brings) is no part of starting an app: `islet run` of an app with the admin module
// resolves none of it until the first /admin/mcp request. Observed from the outside, like test/start-imports.test.ts:
// the real command under a resolve hook that lists every module it loads.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { spawnIslet, type RunningIslet } from './support/cli.ts'

let dir: string | undefined
let run: RunningIslet | undefined
afterEach(async () => {
  if (run && run.child.exitCode === null) { run.child.kill('SIGTERM'); await run.exited }
  if (dir) rmSync(dir, { recursive: true, force: true })
  run = dir = undefined
})

it('islet run loads the MCP sdk on the first /admin/mcp request, not at start', async () => {
  dir = mkdtempSync(join(tmpdir(), 'islet-mcp-lazy-'))
  writeFileSync(join(dir, 'app.yaml'), `apiVersion: islet/v1
modules:
  - name: admin
    type: islet.admin
  - name: web
    type: http.server
    config: { port: 0, middleware: [admin] }
`)
  const hook = join(dir, 'record-hook.mjs')
  const log = join(dir, 'modules.log')
  writeFileSync(hook, `import { registerHooks } from 'node:module'
import { appendFileSync } from 'node:fs'
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r } })
`)
  writeFileSync(log, '')
  run = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir, env: { NODE_OPTIONS: `--import ${pathToFileURL(hook).href}` } })
  const url = String((await run.waitFor((l) => typeof l.url === 'string', 30_000)).url)
  const mcpModules = () => readFileSync(log, 'utf8').split('\n').filter((u) => u.includes('/@modelcontextprotocol/sdk/'))
  expect(readFileSync(log, 'utf8')).toContain('/runtime/admin/module.ts') // the hook saw the admin module load
  expect(mcpModules()).toEqual([])

  const res = await fetch(`${url}/admin/mcp`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  })
  expect(res.status).toBe(200)
  expect(((await res.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name).toBe('islet')
  expect(mcpModules()).not.toEqual([])
}, 60_000)
