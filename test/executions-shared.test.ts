// Two engines on one data directory (what `islet run --processes n` makes): an execution one of them runs is read,
// followed over SSE and cancelled through the other — through executions.db, the only thing they share.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openApp } from '../runtime/app.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import type { Engine } from '../runtime/engine/engine.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import type { HttpServer } from '../plugins/http/index.ts'
import { json, writeFiles } from './support/app.ts'
import { gate, gatePlugin, readSse, resetGates } from './support/executions.ts'
import { until } from './support/until.ts'

const APP = `apiVersion: islet/v1
modules:
  - name: admin
    type: islet.admin
  - name: runs
    type: http.executions
  - name: api
    type: http.router
    config:
      executions: runs
      routes: [{ method: POST, path: /hang, pipeline: hang, execution: async }]
  - name: web
    type: http.server
    config: { port: 0, host: 127.0.0.1, middleware: [admin], routers: [api, runs] }
pipelines:
  hang:
    steps:
      - name: hold
        type: test.gate
        config: { gate: shared }
`

const engines: Engine[] = []
let cleanup: (() => void) | undefined
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop()
  cleanup?.()
  cleanup = undefined
  resetGates()
})

async function engineOn(dir: string): Promise<string> {
  const registry = createBuiltinRegistry()
  registry.register(gatePlugin)
  const engine = await openApp(join(dir, 'app.yaml'), { logger: silentLogger(), registry, dataDir: join(dir, 'data'), env: {} })
  engines.push(engine)
  await engine.start()
  return engine.module<HttpServer>('web').url()
}

describe('executions shared by the engines of one data directory', () => {
  it('one engine runs it; the other reads it, follows its events and cancels it', async () => {
    const files = writeFiles({ 'app.yaml': APP })
    cleanup = files.cleanup
    const a = await engineOn(files.dir)
    const b = await engineOn(files.dir)
    const { execution: id } = await json(await fetch(`${a}/hang`, { method: 'POST' }))
    await until(() => gate('shared').entered === 1)

    expect(await json(await fetch(`${b}/executions/${id}`))).toMatchObject({ id, status: 'running', steps: [{ name: 'hold', status: 'running' }] })
    const following = readSse(await fetch(`${b}/executions/${id}/events`))
    const cancel = await fetch(`${b}/admin/executions/${id}/cancel`, { method: 'POST' })
    expect(cancel.status).toBe(200)

    // The engine running it picks the request up and aborts its run; the other engine's stream ends with it.
    const events = await following
    expect(events.map((e) => e.event)).toEqual(['pipeline.started', 'step.started', 'step.failed', 'pipeline.failed'])
    expect(events.at(-1)!.data).toMatchObject({ status: 'cancelled', error: { code: 'ERR_EXECUTION_CANCELLED' } })
    expect(gate('shared').aborts).toEqual(['ERR_EXECUTION_CANCELLED'])
    expect(await json(await fetch(`${a}/executions/${id}`))).toMatchObject({ status: 'cancelled' })
  })
})
